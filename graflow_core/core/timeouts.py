"""Per-attempt task timeouts (``@task(timeout=seconds)``).

The attempt runs in a daemon thread carrying the caller's context variables; the caller waits at
most ``timeout`` seconds and then fails the attempt with :class:`TaskTimeoutError`. Python cannot
interrupt a running thread, so a timed-out body keeps running in the background until it returns
(the same limitation as Prefect's and Dagster's timeouts for synchronous code in threads); its
result is discarded.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

from graflow_core.exceptions import TaskTimeoutError


def call_with_timeout(fn: Callable[[], Any], timeout: float, task_id: str) -> Any:
    """Return ``fn()``, or raise :class:`TaskTimeoutError` if it takes longer than ``timeout``."""
    outcome: list[Any] = []
    failure: list[BaseException] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome.append(context.run(fn))
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)

    worker = threading.Thread(target=target, name=f"graflow-task-{task_id}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TaskTimeoutError(task_id, timeout)
    if failure:
        raise failure[0]
    return outcome[0]
