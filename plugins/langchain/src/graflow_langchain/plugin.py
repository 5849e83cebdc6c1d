"""The ``graflow`` entry point of graflow-langchain: registers the ``langchain`` task type.

It implements no per-run hook (installed, it costs workflows nothing); LangChain callbacks
are attached per run by :class:`~graflow_langchain.WorkflowRunnable` or
:class:`~graflow_langchain.LangChainCallbacks`. Importing this module does not import
``langchain_core``.
"""

from __future__ import annotations

from typing import Any

from graflow_core.plugins import hookimpl
from graflow_core.plugins.diagnosis import LazyDiagnosis


class LangchainPlugin(LazyDiagnosis):
    """pluggy plugin object of graflow-langchain (the task type; ``graflow doctor``'s checks)."""

    diagnosis = "graflow_langchain.doctor:diagnose"

    @hookimpl
    def register_task_types(self) -> list[Any]:
        """The ``langchain`` task type."""
        from graflow_langchain.task_type import LangChainTaskType

        return [LangChainTaskType()]


plugin = LangchainPlugin()
