"""LangChain Runnables as graflow tasks, and graflow workflows as Runnables.

* ``task(id="summarize", type="langchain")(prompt | model)`` or
  ``langchain_task(prompt | model, id="summarize")`` — a Runnable as a task (the ``langchain``
  task type, registered by this distribution's entry point);
* ``WorkflowRunnable(wf)`` / ``as_runnable(wf)`` — a workflow usable in LCEL chains;
* ``LangChainCallbacks([handler])`` — a run plugin reporting a run's tasks to LangChain
  callbacks (automatic inside ``WorkflowRunnable`` when the config has callbacks).

See docs/langchain.md. ``import graflow_langchain`` does not import ``langchain_core``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graflow_core._lazy import lazy_exports

if TYPE_CHECKING:
    from graflow_langchain.callbacks import LangChainCallbacks
    from graflow_langchain.factory import langchain_task
    from graflow_langchain.task_type import (
        TASK_TYPE_NAME,
        LangChainInputError,
        LangChainTaskType,
        RunnableTask,
    )
    from graflow_langchain.workflow_runnable import WorkflowRunnable, as_runnable

_EXPORTS = {
    "LangChainCallbacks": "graflow_langchain.callbacks",
    "langchain_task": "graflow_langchain.factory",
    "TASK_TYPE_NAME": "graflow_langchain.task_type",
    "LangChainInputError": "graflow_langchain.task_type",
    "LangChainTaskType": "graflow_langchain.task_type",
    "RunnableTask": "graflow_langchain.task_type",
    "WorkflowRunnable": "graflow_langchain.workflow_runnable",
    "as_runnable": "graflow_langchain.workflow_runnable",
}

__all__ = [
    "TASK_TYPE_NAME",
    "LangChainCallbacks",
    "LangChainInputError",
    "LangChainTaskType",
    "RunnableTask",
    "WorkflowRunnable",
    "as_runnable",
    "langchain_task",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), __all__)
