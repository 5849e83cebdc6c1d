"""A graflow workflow as a LangChain ``Runnable``.

::

    summarizer = WorkflowRunnable(wf)            # or as_runnable(wf)
    summarizer.invoke({"text": "..."})
    chain = prompt | summarizer | StrOutputParser()

**Input → channel.** The input is written to the channel key ``"input"`` (``input_key``); when
it is a dict with string keys, each item is also written under its own key, so task parameters
named like the keys resolve from it (an item named ``input`` wins over the whole input).

**Output.** The workflow's result (the last task's result), or with ``output="task_id"`` that
task's result, or with ``output=["a", "b"]`` a dict of those tasks' results.

``invoke`` runs the workflow in the calling thread; ``batch`` runs one workflow run per input
on LangChain's thread pool (``max_concurrency`` of the config applies); ``ainvoke`` / ``abatch``
run it in an executor. Callbacks in the config see the workflow as one chain run and each task
attempt as a child chain run (see :mod:`graflow_langchain.callbacks`).

This module imports ``langchain_core``; it is loaded only when used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks.manager import CallbackManagerForChainRun
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import patch_config

from graflow_core.exceptions import ConfigError
from graflow_langchain.task_type import DEFAULT_INPUT_KEY, set_run_config

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext


class WorkflowRunnable(Runnable[Any, Any]):
    """Runs a graflow workflow for each input (see the module docstring).

    Args:
        workflow: the ``WorkflowContext`` (what ``with workflow(...) as wf`` gives).
        input_key: the channel key the input is written to.
        output: ``None`` (the workflow's result), a task id, or a list of task ids.
        start_node: the start task (default: the workflow's single start task).
        max_steps: the run's step budget.
        name: the Runnable's name (default: the workflow's name).
        trace_tasks: report task attempts to the config's callbacks.
    """

    def __init__(
        self,
        workflow: WorkflowContext,
        *,
        input_key: str = DEFAULT_INPUT_KEY,
        output: str | Sequence[str] | None = None,
        start_node: str | None = None,
        max_steps: int = 10000,
        name: str | None = None,
        trace_tasks: bool = True,
    ) -> None:
        if not hasattr(workflow, "create_execution_context") or not hasattr(workflow, "graph"):
            raise ConfigError(
                f"WorkflowRunnable needs a graflow workflow (with workflow(...) as wf: ...), "
                f"got {workflow!r} ({type(workflow).__name__})."
            )
        if not isinstance(input_key, str) or not input_key:
            raise ConfigError(
                f"WorkflowRunnable: input_key must be a non-empty string, got {input_key!r}"
            )
        if output is not None and not isinstance(output, str):
            if not isinstance(output, Sequence) or not all(isinstance(o, str) for o in output):
                raise ConfigError(
                    f"WorkflowRunnable: output must be a task id, a list of task ids or None, "
                    f"got {output!r}"
                )
            output = list(output)
        for task_id in [output] if isinstance(output, str) else output or []:
            if not workflow.graph.has_node(task_id):
                raise ConfigError(
                    f"WorkflowRunnable: output names task '{task_id}', which workflow "
                    f"'{workflow.name}' does not have; its tasks: {sorted(workflow.graph.nodes)}"
                )
        if start_node is not None:
            workflow._resolve_start_node(start_node)  # raises TaskNotFoundError early
        self.workflow = workflow
        self.input_key = input_key
        self.output = output
        self.start_node = start_node
        self.max_steps = max_steps
        self.trace_tasks = trace_tasks
        self.name = name or workflow.name

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the workflow once with ``input``; returns its output."""
        return self._call_with_config(self._run, input, config, **kwargs)

    def _run(
        self, input_: Any, run_manager: CallbackManagerForChainRun, config: RunnableConfig
    ) -> Any:
        wf = self.workflow
        context = wf.create_execution_context(
            self.start_node, self.max_steps, self.initial_channel(input_)
        )
        # tags, metadata, configurable ... reach langchain tasks in every thread of the run
        set_run_config(context, patch_config(config, callbacks=run_manager.get_child()))
        if self.trace_tasks and run_manager.handlers:
            from graflow_langchain.callbacks import LangChainCallbacks

            context.use_plugins(LangChainCallbacks(parent=run_manager, config=config))
        result = wf.create_engine().execute(context)
        return self.select_output(result, context)

    def initial_channel(self, input_: Any) -> dict[str, Any]:
        """The channel contents a run starts with for ``input_``."""
        channel: dict[str, Any] = {self.input_key: input_}
        if isinstance(input_, Mapping) and all(isinstance(k, str) for k in input_):
            channel.update(input_)
        return channel

    def select_output(self, result: Any, context: Any) -> Any:
        """The Runnable's output from a finished run."""
        output = self.output
        if output is None:
            return result
        if isinstance(output, str):
            return context.get_result(output)
        return {task_id: context.get_result(task_id) for task_id in output}

    def __repr__(self) -> str:
        return f"WorkflowRunnable({self.workflow.name!r})"


def as_runnable(workflow: WorkflowContext, **options: Any) -> WorkflowRunnable:
    """``WorkflowRunnable(workflow, **options)``."""
    return WorkflowRunnable(workflow, **options)
