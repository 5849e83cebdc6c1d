"""LangChain callbacks for graflow runs: the run and every task attempt are chain runs.

:class:`LangChainCallbacks` is a *run plugin*: ``wf.execute(plugins=[LangChainCallbacks([h])])``,
or added automatically by :class:`~graflow_langchain.WorkflowRunnable` when its
``RunnableConfig`` carries callbacks. Handlers then receive

* ``on_chain_start`` / ``on_chain_end`` / ``on_chain_error`` for the workflow run
  (``name`` = the workflow's name);
* the same three for every task attempt (``name`` = the task id, ``parent_run_id`` = the
  workflow run, or the parallel group's run for a group member; a retried task is one chain
  run per attempt, the failed ones ending with ``on_chain_error``);
* every Runnable invoked inside a task — by a ``langchain`` task or by hand in a function
  task — nested under that task's run (the task's ``RunnableConfig`` is the context's
  ``var_child_runnable_config``, which LangChain reads).

This module imports ``langchain_core``; it is loaded only when used.
"""

from __future__ import annotations

import contextlib
from contextvars import Token
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler, CallbackManager
from langchain_core.callbacks.manager import CallbackManagerForChainRun
from langchain_core.runnables.config import (
    RunnableConfig,
    patch_config,
    var_child_runnable_config,
)

from graflow_core.plugins import hookimpl
from graflow_core.plugins.tracking import workflow_run_id

_Entry = tuple[str, CallbackManagerForChainRun, Token[Any]]


class LangChainCallbacks:
    """Run plugin reporting a graflow run and its task attempts to LangChain callbacks.

    Args:
        callbacks: handlers (``BaseCallbackHandler`` objects) or a ``CallbackManager``; used
            when the plugin opens the workflow's own chain run (``wf.execute(plugins=[...])``).
        tags: tags of the workflow run (inherited by the task runs).
        metadata: metadata of the workflow run (inherited).
        run_name: the workflow run's name (default: the workflow's name).
        parent: an existing chain run to nest the task runs under instead of opening one
            (what :class:`~graflow_langchain.WorkflowRunnable` passes).
        config: the ``RunnableConfig`` the tasks' configs derive from (``configurable``,
            ``recursion_limit`` ...).
    """

    def __init__(
        self,
        callbacks: list[BaseCallbackHandler] | CallbackManager | None = None,
        *,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        run_name: str | None = None,
        parent: CallbackManagerForChainRun | None = None,
        config: RunnableConfig | None = None,
    ) -> None:
        self._callbacks = callbacks
        self._tags = list(tags or [])
        self._metadata = dict(metadata or {})
        self._run_name = run_name
        self._parent = parent
        self._config: RunnableConfig = dict(config or {})  # type: ignore[assignment]
        # id(context) -> the workflow run this plugin opened for it (and the config token).
        self._roots: dict[int, tuple[CallbackManagerForChainRun, Token[Any]]] = {}
        # id(context) -> stack of (task id, task run, config token) of attempts in progress.
        self._active: dict[int, list[_Entry]] = {}

    # -- the workflow run --------------------------------------------------------------------

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        """Open the workflow's chain run (unless nested under a given parent)."""
        if self._parent is not None:
            return
        manager = CallbackManager.configure(
            inheritable_callbacks=self._callbacks,
            inheritable_tags=self._tags,
            inheritable_metadata={**self._metadata, "graflow_workflow": workflow_name},
        )
        run = manager.on_chain_start(
            None,
            {"workflow": workflow_name, "run_id": workflow_run_id(context)},
            name=self._run_name or workflow_name or "graflow workflow",
        )
        token = var_child_runnable_config.set(patch_config(self._config, callbacks=run.get_child()))
        self._roots[id(context)] = (run, token)

    @hookimpl
    def workflow_end(self, context: Any, result: Any) -> None:
        """Close the workflow's chain run."""
        root = self._close_root(context)
        if root is not None:
            root.on_chain_end(_outputs(result))

    @hookimpl
    def workflow_failure(self, context: Any, error: BaseException) -> None:
        """Close the workflow's chain run with the error."""
        root = self._close_root(context)
        if root is not None:
            root.on_chain_error(error)

    def _close_root(self, context: Any) -> CallbackManagerForChainRun | None:
        entry = self._roots.pop(id(context), None)
        if entry is None:
            return None
        _reset(entry[1])
        return entry[0]

    # -- task attempts -----------------------------------------------------------------------

    @hookimpl
    def task_start(self, task: Any, task_id: str, context: Any) -> None:
        """Open the attempt's chain run and make it the parent of Runnables run inside."""
        parent = self._parent_run(context)
        if parent is None:
            return
        inputs: Any = {}
        resolved = getattr(task, "resolved_inputs", None)
        if resolved is not None:
            try:
                inputs = resolved(context)
            except Exception:  # inputs are informative only
                inputs = {}
        metadata = {"graflow_task_id": task_id}
        if getattr(context, "workflow_name", None):
            metadata["graflow_workflow"] = context.workflow_name
        child = parent.get_child()
        child.add_metadata(metadata, inherit=False)
        run = child.on_chain_start(None, inputs, name=task_id)
        token = var_child_runnable_config.set(patch_config(self._config, callbacks=run.get_child()))
        self._active.setdefault(id(context), []).append((task_id, run, token))

    @hookimpl
    def task_end(self, task_id: str, context: Any, result: Any) -> None:
        """Close the attempt's chain run."""
        run = self._pop(context, task_id)
        if run is not None:
            run.on_chain_end(_outputs(result))

    @hookimpl
    def task_failure(self, task_id: str, context: Any, error: BaseException) -> None:
        """Close the attempt's chain run with the error."""
        run = self._pop(context, task_id)
        if run is not None:
            run.on_chain_error(error)

    def _pop(self, context: Any, task_id: str) -> CallbackManagerForChainRun | None:
        stack = self._active.get(id(context))
        if not stack:
            return None
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == task_id:
                _, run, token = stack.pop(index)
                if not stack:
                    del self._active[id(context)]
                _reset(token)
                return run
        return None

    def _parent_run(self, context: Any) -> CallbackManagerForChainRun | None:
        ctx = context
        while ctx is not None:
            stack = self._active.get(id(ctx))
            if stack:
                return stack[-1][1]
            root = self._roots.get(id(ctx))
            if root is not None:
                return root[0]
            ctx = getattr(ctx, "parent_context", None)
        return self._parent

    def __repr__(self) -> str:
        mode = "nested" if self._parent is not None else "own run"
        return f"<LangChainCallbacks ({mode})>"


def _outputs(result: Any) -> Any:
    # Passed as is, like LCEL does (LangChain's tracers wrap a non-dict as {"output": ...}).
    return result


def _reset(token: Token[Any]) -> None:
    with contextlib.suppress(ValueError):  # set in another context (should not happen)
        var_child_runnable_config.reset(token)


__all__ = ["LangChainCallbacks"]
