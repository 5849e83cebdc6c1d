"""``langchain_task(runnable, id=...)``: the factory form of ``@task(type="langchain")``."""

from __future__ import annotations

from typing import Any

from graflow_core.core.task import TaskWrapper
from graflow_core.core.task_types import UnknownTaskTypeError, get_task_type, register_task_type
from graflow_langchain.task_type import TASK_TYPE_NAME, LangChainTaskType


def _ensure_registered() -> None:
    """Make ``type="langchain"`` resolvable even when plugin autoload is off."""
    try:
        get_task_type(TASK_TYPE_NAME)
    except UnknownTaskTypeError:
        register_task_type(LangChainTaskType())


def langchain_task(
    runnable: Any,
    *,
    id: str | None = None,
    input: str | None = None,
    inputs: list[str] | dict[str, str] | None = None,
    batch: bool = False,
    max_concurrency: int | None = None,
    config: dict[str, Any] | None = None,
    **task_options: Any,
) -> TaskWrapper:
    """A task running ``runnable`` (``task(id=id, type="langchain", type_options=...)``).

    Args:
        runnable: a LangChain ``Runnable`` (or a function / dict of Runnables).
        id: the task id (default: the Runnable's name).
        input: take the input from this task result / channel key.
        inputs: build a dict input from these names (a list, or ``{field: name}``).
        batch: call ``runnable.batch`` on a list input.
        max_concurrency: limit of parallel calls in batch mode.
        config: JSON ``RunnableConfig`` fields (``tags``, ``metadata``, ``run_name`` ...).
        **task_options: any other ``@task`` option (``max_retries``, ``timeout`` ...).
    """
    from graflow_core.core.decorators import task

    _ensure_registered()
    options: dict[str, Any] = {}
    if input is not None:
        options["input"] = input
    if inputs is not None:
        options["inputs"] = inputs
    if batch:
        options["batch"] = True
    if max_concurrency is not None:
        options["max_concurrency"] = max_concurrency
    if config is not None:
        options["config"] = config
    return task(id=id, type=TASK_TYPE_NAME, type_options=options or None, **task_options)(runnable)
