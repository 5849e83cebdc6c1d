"""Helpers shared by the tests in tests/core (imported as a top-level module: pytest puts this
directory on ``sys.path``, as tests/spec does for spec_sample_tasks)."""

from __future__ import annotations

from graflow_core.core.decorators import task


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
