"""Helpers shared by the tests in tests/core (imported as a top-level module: pytest puts this
directory on ``sys.path``, as tests/spec does for spec_sample_tasks)."""

from __future__ import annotations

from graflow_core.core.decorators import task
from graflow_core.core.handler import TaskHandler


def recorder(order, name, value=None, fail=False, **flags):
    """A task ``name`` that appends its name to ``order``, then raises ``ValueError`` if ``fail``
    or returns ``value`` (or its name); ``flags`` go to ``@task``."""

    def fn():
        order.append(name)
        if fail:
            raise ValueError(f"{name} failed")
        return name if value is None else value

    fn.__name__ = name
    return task(name, **flags)(fn)


class RecordingHandler(TaskHandler):
    """A custom task handler: records the ids it ran and stores ``wrap(result)`` as the result
    (an exception is stored and re-raised, as the direct handler does)."""

    def __init__(self, wrap):
        self.wrap = wrap
        self.calls = []

    def execute_task(self, task, context):
        self.calls.append(task.task_id)
        try:
            result = task.run()
        except Exception as exc:
            context.set_result(task.task_id, exc)
            raise
        result = self.wrap(result)
        context.set_result(task.task_id, result)
        return result
