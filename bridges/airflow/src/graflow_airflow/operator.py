"""``GraflowOperator``: run a whole graflow workflow inside one Airflow task, durably.

::

    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    with DAG("etl", schedule=None) as dag:
        GraflowOperator(
            task_id="etl",
            workflow="my_project.flows:build_etl",  # imported when the task runs, not at parse
            op_kwargs={"day": "{{ ds }}"},  # templated; the run conf overrides these keys
            retries=2,
        )

What happens when the task runs:

1. The workflow is resolved: a ``WorkflowContext`` object, a callable returning one, or an
   import path ``"module:attr"`` naming either (imported at execute time, so parsing the DAG
   file stays cheap).
2. The initial channel is ``{**params, **op_kwargs, **dag_run.conf}`` (``params``: the task's
   Airflow params, DAG-level ones included; leave them out with ``include_params=False``).
3. The workflow runs with :func:`graflow_core.core.resumable.run_durable` at the checkpoint
   location ``<base>/<dag_id>/<run_id>/<task_id>/<map_index>`` (``map_index`` is -1 for an
   unmapped task). A checkpoint is written after every completed task, so when the attempt
   fails and **Airflow retries the task, the retry resumes** after the last completed task
   instead of starting over. ``<base>`` is ``checkpoint_location``, else the environment
   variable ``GRAFLOW_AIRFLOW_CHECKPOINTS``, else the Airflow Variable
   ``graflow_airflow_checkpoints``, else ``$AIRFLOW_HOME/graflow-checkpoints``; URLs
   (``s3://...``, any fsspec file system) work like local paths. Every worker needs the same
   ``GRAFLOW_SECRET_KEY`` (checkpoints are signed, see docs/checkpoints.md).
4. ``context.workflow_run_id`` is ``"<dag_id>/<run_id>"`` (tracking plugins key their parent run
   on it); each graflow task's start, end, retry and failure is logged to the Airflow task log.
5. The workflow's result is the task's return value (XCom ``return_value``); the result of every
   graflow task is pushed under ``graflow.result.<task_id>`` and the final channel (results left
   out) under ``graflow.channel``. Values XCom cannot serialise are skipped with a warning.
   Exceptions stored as task results (the failing task's) go, signed and pickled, under
   ``graflow.error_results``. When the workflow fails (a task's last attempt failed,
   ``cancel_workflow`` ...), all of them are pushed as they were at the failure (the failing
   task's writes included) before the error is re-raised.

A location that holds a *completed* run (the task was cleared after it succeeded) is cleared and
the workflow runs again, as Airflow users expect from "clear"; ``reuse_completed=True`` returns the
stored result instead. Works with dynamic task mapping: ``GraflowOperator.partial(task_id=...,
workflow=...).expand(op_kwargs=[...])`` gives every mapped instance its own location.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from graflow_airflow._compat import AirflowFailException
from graflow_core.channels.base import RESULT_SUFFIX as _RESULT_SUFFIX
from graflow_core.exceptions import ConfigError
from graflow_core.plugins import hookimpl

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext

__all__ = [
    "CHANNEL_KEY",
    "CHECKPOINTS_ENV",
    "CHECKPOINTS_VARIABLE",
    "ERROR_RESULTS_KEY",
    "RESULT_KEY_PREFIX",
    "GraflowOperator",
    "GraflowOperatorError",
    "checkpoint_location_for",
    "resolve_workflow",
]

#: Environment variable with the base location of GraflowOperator checkpoints.
CHECKPOINTS_ENV = "GRAFLOW_AIRFLOW_CHECKPOINTS"
#: Airflow Variable with the base location (used when the environment variable is not set).
CHECKPOINTS_VARIABLE = "graflow_airflow_checkpoints"
#: XCom key prefix of per-task results: ``graflow.result.<task_id>``.
RESULT_KEY_PREFIX = "graflow.result."
#: XCom key of the final channel (without the ``<task>.__result__`` keys).
CHANNEL_KEY = "graflow.channel"
#: XCom key of the exceptions stored as task results (a failed run: the failing task's):
#: ``{task_id: entry}``, each a signed value entry of :mod:`graflow_core.steps.payload.values`
#: (XCom cannot hold exceptions); ``ValueStore.decode`` reads one back.
ERROR_RESULTS_KEY = "graflow.error_results"

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]")


class GraflowOperatorError(ConfigError, AirflowFailException):
    """A GraflowOperator cannot run its workflow (bad import path, not a workflow, bad option).

    It is a ``graflow_core`` ``ConfigError`` and an Airflow ``AirflowFailException``: Airflow
    fails the task without retrying, since another attempt would fail the same way.
    """

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        ConfigError.__init__(self, message, cause)


def _describe(obj: object) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


def resolve_workflow(workflow: Any, *, task_id: str = "?") -> WorkflowContext:
    """Return the ``WorkflowContext`` that ``workflow`` names.

    ``workflow`` is a ``WorkflowContext``, a callable returning one, or ``"module:attr"``
    naming either. Raises :class:`GraflowOperatorError` (naming ``task_id``) otherwise.
    """
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec.references import RefProblem, import_ref

    where = f"GraflowOperator {task_id!r}"
    shown = _describe(workflow)
    obj = workflow
    if isinstance(workflow, str):
        try:
            obj = import_ref(workflow)
        except RefProblem as exc:
            raise GraflowOperatorError(
                f"{where}: cannot import workflow {workflow!r}: {exc.reason}; {exc.fix} "
                "(the workflow is imported on the worker when the task runs)",
                exc.__cause__,
            ) from exc
    if isinstance(obj, WorkflowContext):
        return obj
    if callable(obj):
        try:
            built = obj()
        except Exception as exc:
            raise GraflowOperatorError(
                f"{where}: building the workflow with {shown} failed: {type(exc).__name__}: {exc}",
                exc,
            ) from exc
        if isinstance(built, WorkflowContext):
            return built
        raise GraflowOperatorError(
            f"{where}: {shown} returned {_describe(built)}, not a workflow; return the "
            "WorkflowContext of a `with workflow(...) as wf:` block"
        )
    raise GraflowOperatorError(
        f"{where}: workflow={shown} is not a workflow; pass a WorkflowContext, a function "
        "returning one, or its import path 'package.module:name'"
    )


def _check_workflow_argument(workflow: Any, task_id: str) -> None:
    """Cheap checks at DAG-parse time (no import of the workflow's module)."""
    from graflow_core.core.workflow import WorkflowContext

    if isinstance(workflow, str):
        module, sep, attr = workflow.partition(":")
        if not sep or not module.strip() or not attr.strip():
            raise GraflowOperatorError(
                f"GraflowOperator {task_id!r}: workflow={workflow!r} is not an import path of "
                "the form 'package.module:name'"
            )
    elif not isinstance(workflow, WorkflowContext) and not callable(workflow):
        raise GraflowOperatorError(
            f"GraflowOperator {task_id!r}: workflow={_describe(workflow)} is not a workflow; "
            "pass a WorkflowContext, a function returning one, or 'package.module:name'"
        )


def _safe(part: object) -> str:
    """One path component: characters other than letters, digits, ``._=-`` become ``_``."""
    return _UNSAFE.sub("_", str(part)) or "_"


def _base_location() -> str:
    base = os.environ.get(CHECKPOINTS_ENV)
    if base:
        return base
    try:
        from airflow.sdk import Variable

        value = Variable.get(CHECKPOINTS_VARIABLE, default=None)
    except Exception:  # not running in a task (no execution API) or no such variable
        value = None
    if value:
        return str(value)
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return os.path.join(home, "graflow-checkpoints")


def checkpoint_location_for(
    base: str | None, dag_id: str, run_id: str, task_id: str, map_index: int
) -> str:
    """The durable-run location of one task instance.

    It is ``<base>/<dag_id>/<run_id>/<task_id>/<map_index>`` (``map_index`` -1: not mapped).
    ``base`` ``None`` selects the configured default (see the module docstring). Path components
    are made file-system safe (characters other than letters, digits and ``._=-`` become ``_``).
    """
    root = (base or _base_location()).rstrip("/")
    parts = [_safe(dag_id), _safe(run_id), _safe(task_id), str(int(map_index))]
    return "/".join([root, *parts])


class _TaskLog:
    """A per-run plugin writing each graflow task's life cycle to the Airflow task log."""

    def __init__(self, log: Any) -> None:
        self.log = log

    @hookimpl
    def task_start(self, task_id: str) -> None:
        self.log.info("graflow task %s started", task_id)

    @hookimpl
    def task_end(self, task_id: str) -> None:
        self.log.info("graflow task %s succeeded", task_id)

    @hookimpl
    def task_retry(self, task_id: str, error: BaseException, attempt: int, delay: float) -> None:
        self.log.warning(
            "graflow task %s failed (%s: %s); retry %d in %.1f s",
            task_id,
            type(error).__name__,
            error,
            attempt,
            delay,
        )

    @hookimpl
    def task_failure(self, task_id: str, error: BaseException, final: bool) -> None:
        if final:
            self.log.error("graflow task %s failed: %s: %s", task_id, type(error).__name__, error)


class GraflowOperator(BaseOperator):
    """Run a graflow workflow (or the part from ``start_node`` on) inside one Airflow task.

    Args:
        workflow: A ``WorkflowContext``, a callable returning one, or its import path
            ``"package.module:name"`` (imported when the task runs).
        op_kwargs: Initial channel values (templated). ``params`` and ``dag_run.conf`` are
            merged in: ``{**params, **op_kwargs, **dag_run.conf}``.
        start_node: Run only the part of the workflow that starts at this task id (templated).
        checkpoint_location: Base location (path or fsspec URL) of the checkpoints (templated);
            default: ``GRAFLOW_AIRFLOW_CHECKPOINTS``, the Airflow Variable
            ``graflow_airflow_checkpoints``, else ``$AIRFLOW_HOME/graflow-checkpoints``.
        plugins: graflow plugin objects for this run only (e.g. a tracking plugin).
        include_params: Put the task's Airflow ``params`` into the initial channel.
        reuse_completed: When the location holds a completed run (the task was cleared after it
            succeeded), return its stored result instead of running again.
        push_task_results: Push every graflow task's result as XCom ``graflow.result.<id>``.
        push_channel: Push the final channel as XCom ``graflow.channel``.
        checkpoint_every: Write a checkpoint after every N-th completed task.
        keep: How many checkpoints to keep at the location.
        max_steps: The engine's step limit (a fresh run only).
        **kwargs: Everything ``BaseOperator`` accepts (``retries``, ``retry_delay``, ``pool``...).

    See the module docstring for what happens at run time.
    """

    template_fields: Collection[str] = ("op_kwargs", "start_node", "checkpoint_location")
    template_fields_renderers: ClassVar[dict[str, str]] = {"op_kwargs": "py"}
    ui_color = "#d7ecff"

    def __init__(
        self,
        *,
        workflow: WorkflowContext | str | Callable[[], WorkflowContext],
        op_kwargs: Mapping[str, Any] | None = None,
        start_node: str | None = None,
        checkpoint_location: str | None = None,
        plugins: Sequence[object] = (),
        include_params: bool = True,
        reuse_completed: bool = False,
        push_task_results: bool = True,
        push_channel: bool = True,
        checkpoint_every: int = 1,
        keep: int = 2,
        max_steps: int = 10000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_workflow_argument(workflow, self.task_id)
        if checkpoint_every < 1 or keep < 1:
            raise GraflowOperatorError(
                f"GraflowOperator {self.task_id!r}: checkpoint_every and keep must be at least 1 "
                f"(got checkpoint_every={checkpoint_every}, keep={keep})"
            )
        self.workflow = workflow
        # kept as given: it may be an XComArg (op_kwargs=upstream.output), rendered at run time
        self.op_kwargs = op_kwargs if op_kwargs is not None else {}
        self.start_node = start_node
        self.checkpoint_location = checkpoint_location
        self.graflow_plugins = tuple(plugins)
        self.include_params = include_params
        self.reuse_completed = reuse_completed
        self.push_task_results = push_task_results
        self.push_channel = push_channel
        self.checkpoint_every = checkpoint_every
        self.keep = keep
        self.max_steps = max_steps

    # -- run ------------------------------------------------------------------------------------

    def initial_channel(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """``{**params, **op_kwargs, **dag_run.conf}`` for this task instance."""
        channel: dict[str, Any] = {}
        if self.include_params:
            params = context.get("params") or {}
            channel.update({key: params[key] for key in params})
        if not isinstance(self.op_kwargs, Mapping):
            raise GraflowOperatorError(
                f"GraflowOperator {self.task_id!r}: op_kwargs must be a mapping of channel keys "
                f"to values, got {_describe(self.op_kwargs)}"
            )
        channel.update(self.op_kwargs)
        dag_run = context.get("dag_run")
        conf = getattr(dag_run, "conf", None)
        if conf:
            channel.update(conf)
        return channel

    def location(self, context: Mapping[str, Any]) -> str:
        """The checkpoint location of this task instance (see :func:`checkpoint_location_for`)."""
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        return checkpoint_location_for(
            self.checkpoint_location,
            ti.dag_id,
            context["run_id"],
            ti.task_id,
            -1 if map_index is None else map_index,
        )

    def execute(self, context: Any) -> Any:
        from graflow_core.core.resumable import DurableRun
        from graflow_core.signing import sign

        wf = resolve_workflow(self.workflow, task_id=self.task_id)
        if self.start_node is not None and self.start_node not in wf.graph.nodes:
            known = ", ".join(sorted(map(str, wf.graph.nodes))[:20])
            raise GraflowOperatorError(
                f"GraflowOperator {self.task_id!r}: start_node={self.start_node!r} is not a task "
                f"of workflow {wf.name!r} (tasks: {known})"
            )
        try:
            sign(b"")  # no signing key (and no opt-out): fail now, before any task runs
        except ConfigError as exc:
            raise GraflowOperatorError(
                f"GraflowOperator {self.task_id!r} cannot write its checkpoints: {exc}", exc
            ) from exc
        ti = context["ti"]
        run_id = context["run_id"]
        location = self.location(context)
        durable = DurableRun(
            wf,
            location,
            start_node=self.start_node,
            initial_channel=self.initial_channel(context),
            max_steps=self.max_steps,
            checkpoint_every=self.checkpoint_every,
            keep=self.keep,
            plugins=(_TaskLog(self.log), *self.graflow_plugins),
            workflow_run_id=f"{ti.dag_id}/{run_id}",
        )
        status = durable.status()
        if status == "completed" and not self.reuse_completed:
            self.log.info("%s holds a completed run; clearing it to run again", location)
            durable.clear()
            status = "new"
        if status == "in_progress":
            self.log.info(
                "resuming graflow workflow %r from checkpoint %s",
                wf.name,
                durable.latest_checkpoint(),
            )
        else:
            self.log.info("running graflow workflow %r; checkpoints at %s", wf.name, location)
        try:
            result, ctx = durable.run(ret_context=True)
        except Exception:
            if durable.context is not None:  # what ran until the failure, as natively
                self._push_results(ti, durable.context)
            raise
        self._push_results(ti, ctx)
        return result

    def _push_results(self, ti: Any, ctx: Any) -> None:
        if not (self.push_task_results or self.push_channel):
            return
        channel = ctx.channel
        data = {key: channel.get(key) for key in channel.keys()}  # noqa: SIM118 - Channel API
        if self.push_task_results:
            errors: dict[str, Any] = {}
            for key, value in data.items():
                if key.endswith(_RESULT_SUFFIX):
                    task_id = key[: -len(_RESULT_SUFFIX)]
                    if isinstance(value, BaseException):
                        errors[task_id] = value
                    else:
                        self._push(ti, f"{RESULT_KEY_PREFIX}{task_id}", value)
            if errors:
                self._push_errors(ti, errors)
        if self.push_channel:
            user = {k: v for k, v in data.items() if not k.endswith(_RESULT_SUFFIX)}
            self._push(ti, CHANNEL_KEY, user)

    def _push_errors(self, ti: Any, errors: Mapping[str, BaseException]) -> None:
        from graflow_core.steps.payload.values import value_store

        store = value_store()
        entries = {}
        for task_id, error in errors.items():
            try:
                entries[task_id] = store.encode(error)
            except Exception as exc:  # an exception that does not pickle
                self.log.warning(
                    "result of graflow task %s (%s) not pushed: %s", task_id, error, exc
                )
        if entries:
            self._push(ti, ERROR_RESULTS_KEY, entries)

    def _push(self, ti: Any, key: str, value: Any) -> None:
        try:
            ti.xcom_push(key=key, value=value)
        except Exception as exc:
            self.log.warning(
                "XCom %r not pushed: %s: %s (return JSON-serialisable values, or set "
                "push_task_results=False / push_channel=False)",
                key,
                type(exc).__name__,
                exc,
            )
