"""``from_airflow_dag(dag)``: an Airflow DAG as a graflow workflow (docs/airflow-migration.md).

* A DAG rendered by graflow (:func:`graflow_airflow.to_airflow_dag`) reads back exactly: its spec
  comes from :func:`graflow_airflow.spec_from_rendered_dag` and is loaded with
  :func:`graflow_core.spec.load_workflow`.
* A hand-written DAG becomes one graflow task per Airflow task (same ids; ``TaskGroup`` members
  keep their dotted ids ``group.task``), with the DAG's dependencies as edges (a task with several
  upstream tasks is a graflow join) and a no-op start task ``__start__`` when the DAG has several
  root tasks:

  - ``@task`` (TaskFlow) and ``PythonOperator`` callables are called with their ``op_args`` /
    ``op_kwargs``; an ``XComArg`` argument (``plus(one())``) is the upstream task's result
    (``one()["key"]``: that key of a ``multiple_outputs`` result); string arguments are rendered
    as Jinja templates; context parameters (``ti``, ``params``, ``dag_run``, ``ds``...) are
    filled from a minimal context (below);
  - ``retries`` / ``retry_delay`` / ``retry_exponential_backoff`` / ``max_retry_delay`` become a
    ``RetryPolicy``; ``execution_timeout`` the task's ``timeout``;
  - branching (``@task.branch``, ``BranchPythonOperator``, any ``BaseBranchOperator``) follows
    the chosen task ids with ``goto`` when that is exact (every task below the branch has trigger
    rule ``all_success`` and the branch's direct downstream tasks have no other upstream);
    otherwise the tasks not chosen are *skipped* and skips propagate by trigger rule, as in
    Airflow (``none_failed_min_one_success`` joins after a branch run);
    ``@task.short_circuit`` / ``ShortCircuitOperator`` skip downstream tasks the same way, and so
    does a task raising ``AirflowSkipException``;
  - every other operator becomes a task that renders the operator's template fields and calls
    ``operator.execute(context)`` with the minimal context;
  - what cannot be expressed exactly is **reported** (:class:`ConversionReport`, attached to the
    workflow as ``wf.airflow_report`` and summarised in a ``ConversionWarning``): trigger rules that
    react to failures (graflow stops a run at a failed task), sensors (their poke loop runs
    inline), deferrable operators, mapped tasks (run as a loop inside one task), callbacks...
    ``strict=True`` raises :class:`AirflowConversionError` instead when something cannot run.

The minimal context: ``dag``, ``task``, ``ti`` / ``task_instance`` (``xcom_pull`` reads graflow
results, ``xcom_push`` writes ``<task>.__xcom__.<key>`` to the channel), ``params`` (the task's
params, overridden by run parameters of the same name), ``dag_run`` (``conf``: the run's channel
values, ``run_id``), ``run_id`` (the workflow run id), ``logical_date`` / ``ds`` / ``ts`` /
``data_interval_start`` / ``data_interval_end`` (the time the task runs), ``map_index``. No
``var`` / ``conn`` / ``macros`` / asset events: a task that needs Airflow's execution API
(Variables,
Connections through ``BaseHook``) needs a secrets backend that works outside Airflow tasks, e.g.
``AIRFLOW_VAR_*`` / ``AIRFLOW_CONN_*`` environment variables.

Skips are recorded in the channel under ``__airflow_skipped__`` (only when a task was skipped);
:func:`airflow_results` gives the results of the tasks that ran, as Airflow's XComs would show them.
"""

from __future__ import annotations

import copy
import datetime as _dt
import itertools
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graflow_core.channels.base import RESULT_SUFFIX as _RESULT_SUFFIX
from graflow_core.exceptions import ConfigError, GraflowRuntimeError

if TYPE_CHECKING:
    from graflow_core.core.context import TaskExecutionContext
    from graflow_core.core.task import TaskWrapper
    from graflow_core.core.workflow import WorkflowContext

__all__ = [
    "SKIPPED_KEY",
    "START_ID",
    "AirflowConversionError",
    "ConversionReport",
    "ConversionWarning",
    "ReportItem",
    "airflow_results",
    "from_airflow_dag",
]

#: Channel key listing the ids of skipped tasks (present only when a task was skipped).
SKIPPED_KEY = "__airflow_skipped__"
#: Id of the no-op start task added when a DAG has several root tasks.
START_ID = "__start__"
_XCOM_INFIX = ".__xcom__."

#: Trigger rules under which a task runs whatever its upstream tasks' skips.
_RUN_ALWAYS = {
    "none_failed",
    "all_done",
    "always",
    "all_done_setup_success",
    "none_failed_or_skipped",
}
#: Trigger rules under which a task runs when at least one upstream task ran.
_RUN_IF_ONE_RAN = {
    "none_failed_min_one_success",
    "one_success",
    "all_done_min_one_success",
    "one_done",
}
#: Trigger rules that fire only on upstream failures: never in a graflow run (it stops instead).
_ON_FAILURE = {"one_failed", "all_failed"}


class AirflowConversionError(ConfigError):
    """``from_airflow_dag(..., strict=True)`` found tasks that cannot run as graflow tasks."""


class ConversionWarning(UserWarning):
    """Issued by ``from_airflow_dag`` when the conversion report lists problems."""


@dataclass(frozen=True)
class ReportItem:
    """One thing about one task that the conversion could not express exactly.

    ``severity``: ``"unsupported"`` (the task cannot run; it raises when reached),
    ``"approximation"`` (it runs, but differently from Airflow in the way ``why`` says) or
    ``"info"`` (ignored settings).
    """

    task_id: str
    what: str
    why: str
    todo: str
    severity: str = "approximation"

    def __str__(self) -> str:
        return f"[{self.severity}] {self.task_id}: {self.what}: {self.why} -> {self.todo}"


@dataclass
class ConversionReport:
    """What :func:`from_airflow_dag` did with a DAG: ``items`` lists every task it could not
    express exactly (task id, what, why, what to do). ``rendered`` is True for a DAG rendered by
    graflow (read back exactly); ``branches`` maps each branch task to ``"goto"`` or ``"skip"``.
    """

    dag_id: str
    rendered: bool = False
    items: list[ReportItem] = field(default_factory=list)
    branches: dict[str, str] = field(default_factory=dict)

    def add(
        self, task_id: str, what: str, why: str, todo: str, severity: str = "approximation"
    ) -> None:
        self.items.append(ReportItem(task_id, what, why, todo, severity))

    @property
    def problems(self) -> list[ReportItem]:
        """The items that change behaviour (everything but ``info``)."""
        return [i for i in self.items if i.severity != "info"]

    @property
    def unsupported(self) -> list[ReportItem]:
        """The items whose tasks cannot run."""
        return [i for i in self.items if i.severity == "unsupported"]

    def for_task(self, task_id: str) -> list[ReportItem]:
        """The items about one task."""
        return [i for i in self.items if i.task_id == task_id]

    def __str__(self) -> str:
        head = f"conversion of DAG {self.dag_id!r}: "
        if not self.items:
            return head + "exact"
        return head + f"{len(self.items)} item(s)\n" + "\n".join(f"  {i}" for i in self.items)


# -- the minimal Airflow context -----------------------------------------------------------------


def _internal(key: str) -> bool:
    return key.endswith(_RESULT_SUFFIX) or _XCOM_INFIX in key or key == SKIPPED_KEY


class _DagRun:
    """``context["dag_run"]``: the run's id and conf (the run's channel values)."""

    def __init__(self, dag_id: str, run_id: str, conf: dict[str, Any], when: _dt.datetime) -> None:
        self.dag_id = dag_id
        self.run_id = run_id
        self.conf = conf
        self.logical_date = when
        self.run_type = "graflow"


class _TaskInstance:
    """``context["ti"]``: XComs are graflow results / channel entries of the running workflow."""

    def __init__(
        self,
        tctx: TaskExecutionContext,
        dag_id: str,
        task_id: str,
        run_id: str,
        map_index: int = -1,
    ):
        self._tctx = tctx
        self.dag_id = dag_id
        self.task_id = task_id
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = 1

    def _pull_one(self, task_id: str, key: str, default: Any) -> Any:
        channel = self._tctx.get_channel()
        pushed = f"{task_id}{_XCOM_INFIX}{key}"
        if key != "return_value" and channel.exists(pushed):
            return channel.get(pushed)
        result = channel.get(f"{task_id}{_RESULT_SUFFIX}", default)
        if key == "return_value":
            return result
        if isinstance(result, Mapping) and key in result:  # multiple_outputs
            return result[key]
        return default

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str = "return_value",
        include_prior_dates: bool = False,
        map_indexes: Any = None,
        default: Any = None,
        run_id: str | None = None,
    ) -> Any:
        """The result (``key="return_value"``) or pushed XCom of ``task_ids`` in this run."""
        if task_ids is None:
            task_ids = self.task_id
        if isinstance(task_ids, str):
            return self._pull_one(task_ids, key, default)
        return [self._pull_one(t, key, default) for t in task_ids]

    def xcom_push(self, key: str, value: Any) -> None:
        """Store ``value`` in the channel as ``<task_id>.__xcom__.<key>``."""
        self._tctx.get_channel().set(f"{self.task_id}{_XCOM_INFIX}{key}", value)


def _params(op: Any, conf: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    source = getattr(op, "params", None) or {}
    for key in list(source):
        try:
            params[key] = source[key]
        except Exception:  # a Param without a default and no value: like Airflow, leave it out
            continue
    for key in params:
        if key in conf:
            params[key] = conf[key]
    return params


def _context(dag: Any, op: Any, tctx: TaskExecutionContext, map_index: int = -1) -> dict[str, Any]:
    channel = tctx.get_channel()
    conf = {k: channel.get(k) for k in channel.keys() if not _internal(k)}  # noqa: SIM118
    run_id = str(
        getattr(tctx.execution_context, "workflow_run_id", tctx.execution_context.session_id)
    )
    now = _dt.datetime.now(_dt.timezone.utc)
    ti = _TaskInstance(tctx, dag.dag_id, op.task_id, run_id, map_index)
    return {
        "dag": dag,
        "task": op,
        "ti": ti,
        "task_instance": ti,
        "params": _params(op, conf),
        "dag_run": _DagRun(dag.dag_id, run_id, conf, now),
        "run_id": run_id,
        "logical_date": now,
        "data_interval_start": now,
        "data_interval_end": now,
        "ds": now.strftime("%Y-%m-%d"),
        "ds_nodash": now.strftime("%Y%m%d"),
        "ts": now.isoformat(),
        "map_index": map_index,
    }


# -- conversion ------------------------------------------------------------------------------------


@dataclass
class _Node:
    """What a converted task needs at run time."""

    task_id: str
    op: Any
    upstream: tuple[str, ...]
    trigger_rule: str
    kind: str  # "python", "branch", "short_circuit", "operator", "empty", "mapped", "unsupported"
    goto: bool = False
    descendants: tuple[str, ...] = ()
    reason: str = ""


def _classes() -> dict[str, Any]:
    from airflow.providers.standard.operators.branch import BaseBranchOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import (
        BranchPythonOperator,
        PythonOperator,
        ShortCircuitOperator,
    )
    from airflow.sdk import BaseSensorOperator
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from graflow_airflow._compat import branch_mixins

    return {
        "python": PythonOperator,
        "branch_python": BranchPythonOperator,
        "branch_base": BaseBranchOperator,
        "branch_mixin": branch_mixins(),
        "short_circuit": ShortCircuitOperator,
        "empty": EmptyOperator,
        "sensor": BaseSensorOperator,
        "mapped": MappedOperator,
    }


def _trigger_rule(op: Any) -> str:
    rule = getattr(op, "trigger_rule", "all_success")
    return str(getattr(rule, "value", rule))


def _is_virtualenv(op: Any) -> bool:
    return any(
        "Virtualenv" in c.__name__ or "ExternalPython" in c.__name__ for c in type(op).__mro__
    )


class _Converter:
    def __init__(self, dag: Any, report: ConversionReport) -> None:
        self.dag = dag
        self.report = report
        self.cls = _classes()
        self.wrappers: dict[str, TaskWrapper] = {}

    # -- classification ----------------------------------------------------------------------

    def _descendants(self, task_id: str) -> tuple[str, ...]:
        return tuple(
            sorted(
                t.task_id for t in self.dag.task_dict[task_id].get_flat_relatives(upstream=False)
            )
        )

    def _goto_exact(self, op: Any) -> bool:
        tasks = self.dag.task_dict
        if any(_trigger_rule(tasks[d]) != "all_success" for d in self._descendants(op.task_id)):
            return False
        return all(len(tasks[d].upstream_task_ids) == 1 for d in op.downstream_task_ids)

    def classify(self, op: Any) -> _Node:
        c = self.cls
        tid = op.task_id
        node = _Node(tid, op, tuple(sorted(op.upstream_task_ids)), _trigger_rule(op), "operator")
        rep = self.report.add
        if isinstance(op, c["mapped"]):
            if getattr(op, "python_callable", None) is not None or issubclass(
                op.operator_class, c["python"]
            ):
                node.kind = "mapped"
                rep(
                    tid,
                    "mapped task (.expand)",
                    "runs as a loop inside one graflow task: one call per mapped value, in "
                    "map-index order, no per-element retries or parallelism; the result is the "
                    "list of results",
                    "keep it, or use a graflow ParallelGroup / next_task for parallel fan-out",
                )
            else:
                node.kind = "unsupported"
                node.reason = (
                    f"mapped {op.operator_class.__name__} (only Python callables can be mapped)"
                )
                rep(
                    tid,
                    "mapped operator",
                    node.reason,
                    "write the mapped work as a @task function",
                    "unsupported",
                )
            return node
        if getattr(op, "deferrable", False) is True or getattr(op, "start_from_trigger", False):
            node.kind = "unsupported"
            node.reason = f"deferrable {type(op).__name__} (needs Airflow's triggerer)"
            rep(
                tid,
                "deferrable operator",
                node.reason,
                "use the operator's non-deferrable mode or a @task",
                "unsupported",
            )
            return node
        if _is_virtualenv(op):
            rep(
                tid,
                type(op).__name__,
                "the callable runs in this Python process, not in a separate virtualenv or "
                "interpreter",
                "install its requirements where the workflow runs",
            )
        if isinstance(op, c["short_circuit"]):
            node.kind = "short_circuit"
            node.descendants = self._descendants(tid)
        elif isinstance(op, c["branch_mixin"]):
            node.kind = "branch"
            node.goto = self._goto_exact(op)
            self.report.branches[tid] = "goto" if node.goto else "skip"
        elif isinstance(op, c["python"]):
            node.kind = "python"
        elif isinstance(op, c["empty"]):
            node.kind = "empty"
        else:
            node.kind = "operator"
            if isinstance(op, c["sensor"]):
                rep(
                    tid,
                    f"sensor {type(op).__name__}",
                    "its poke loop runs inline in the graflow task (mode='poke'; 'reschedule' "
                    "fails)",
                    "prefer a graflow task that checks once with a RetryPolicy",
                )
            else:
                rep(
                    tid,
                    f"operator {type(op).__name__}",
                    "runs operator.execute(context) with a minimal context (ti/xcom, params, "
                    "dag_run.conf, run_id, dates): no Variables/Connections API, no callbacks",
                    "check it runs outside Airflow, or port it to a @task function",
                    "info",
                )
        self._report_settings(op, node)
        return node

    def _report_settings(self, op: Any, node: _Node) -> None:
        rep = self.report.add
        tid = op.task_id
        rule = node.trigger_rule
        if rule in _ON_FAILURE:
            rep(
                tid,
                f"trigger_rule={rule}",
                "graflow stops the run when a task fails, so a task reacting to failures never "
                "runs "
                "(it is skipped in a successful run, as in Airflow)",
                "handle failures with a plugin (workflow_failure / task_failure hooks) or "
                "try/except",
                "unsupported",
            )
        elif rule in (
            "all_done",
            "always",
            "all_done_setup_success",
            "none_failed",
            "all_done_min_one_success",
        ):
            rep(
                tid,
                f"trigger_rule={rule}",
                "runs after its upstream tasks succeeded or were skipped, but not after a failure: "
                "graflow stops the run at a failed task",
                "for cleanup after failures use a workflow_failure plugin hook or try/finally",
            )
        elif rule in ("one_success", "one_done"):
            rep(
                tid,
                f"trigger_rule={rule}",
                "waits for all upstream tasks instead of starting after the first success",
                "fine unless the early start matters",
                "info",
            )
        for attr in (
            "on_failure_callback",
            "on_success_callback",
            "on_retry_callback",
            "on_execute_callback",
        ):
            if getattr(op, attr, None):
                rep(
                    tid,
                    attr,
                    "Airflow callbacks are not called",
                    "use graflow plugin hooks (task_end, task_failure...)",
                    "info",
                )
        if getattr(op, "depends_on_past", False) or getattr(op, "wait_for_downstream", False):
            rep(
                tid,
                "depends_on_past / wait_for_downstream",
                "a graflow run does not know earlier runs",
                "check the previous run yourself (e.g. a marker in your storage)",
            )
        if getattr(op, "is_teardown", False):
            rep(
                tid,
                "teardown task",
                "runs only when the run reaches it (not after a failure)",
                "use a workflow_failure / workflow_end plugin hook for cleanup that must run",
            )

    # -- run-time behaviour --------------------------------------------------------------------

    def _skipped(self, tctx: TaskExecutionContext) -> set[str]:
        return set(tctx.get_channel().get(SKIPPED_KEY, ()) or ())

    def _mark_skipped(self, tctx: TaskExecutionContext, ids: Iterable[str]) -> None:
        skipped = self._skipped(tctx)
        new = set(ids) - skipped
        if new:
            tctx.get_channel().set(SKIPPED_KEY, sorted(skipped | new))

    @staticmethod
    def _should_run(node: _Node, skipped: set[str]) -> bool:
        if node.task_id in skipped:
            return False
        if not node.upstream:
            return True
        n = sum(1 for u in node.upstream if u in skipped)
        rule = node.trigger_rule
        if rule in _RUN_ALWAYS:
            return True
        if rule in _RUN_IF_ONE_RAN:
            return n < len(node.upstream)
        if rule == "all_skipped":
            return n == len(node.upstream)
        if rule in _ON_FAILURE:
            return False
        return n == 0  # all_success, none_skipped

    def _resolve(self, value: Any, op: Any, context: dict[str, Any], ti: _TaskInstance) -> Any:
        from airflow.sdk.definitions.xcom_arg import PlainXComArg, XComArg

        if isinstance(value, PlainXComArg):
            return ti.xcom_pull(task_ids=value.operator.task_id, key=value.key)
        if isinstance(value, XComArg):
            return value.resolve(context)
        if isinstance(value, str):
            return op.render_template(value, context) if "{{" in value or "{%" in value else value
        if isinstance(value, (list, tuple, set)):
            return type(value)(self._resolve(v, op, context, ti) for v in value)
        if isinstance(value, dict):
            return {k: self._resolve(v, op, context, ti) for k, v in value.items()}
        return value

    def _call(
        self,
        func: Callable[..., Any],
        op: Any,
        args: Any,
        kwargs: Mapping[str, Any],
        context: dict[str, Any],
    ) -> Any:
        from airflow.sdk.bases.decorator import determine_kwargs

        ti = context["ti"]
        args = list(self._resolve(list(args or ()), op, context, ti))
        kwargs = self._resolve(dict(kwargs or {}), op, context, ti)
        return func(*args, **determine_kwargs(func, args, {**context, **kwargs}))

    def _follow(self, tctx: TaskExecutionContext, node: _Node, chosen: Any) -> Any:
        op = node.op
        if chosen is None:
            picked: set[str] = set()
        elif isinstance(chosen, str):
            picked = {chosen}
        else:
            picked = set(chosen)
        groups = getattr(self.dag, "task_group_dict", {})
        for gid in list(picked):
            if gid in groups and gid not in self.dag.task_dict:
                picked.discard(gid)
                picked |= {t.task_id for t in groups[gid].roots}
        direct = set(op.downstream_task_ids)
        wrong = sorted(picked - direct)
        if wrong:
            raise GraflowRuntimeError(
                f"Branch task {node.task_id!r} chose {wrong}, which are not its direct downstream "
                f"tasks {sorted(direct)}"
            )
        if node.goto and picked:
            for target in sorted(picked):
                tctx.next_task(self.wrappers[target], goto=True)
        else:
            self._mark_skipped(tctx, direct - picked)
        # Airflow 3 ends a branch task that skips something with an exception: no XCom then
        return chosen if picked == direct else None

    def make_func(self, node: _Node) -> Callable[[TaskExecutionContext], Any]:
        from graflow_airflow._compat import AirflowSkipException

        dag = self.dag
        op = node.op

        def run(tctx: TaskExecutionContext) -> Any:
            if not self._should_run(node, self._skipped(tctx)):
                self._mark_skipped(tctx, [node.task_id])
                return None
            try:
                return self._run(tctx, node)
            except AirflowSkipException:
                self._mark_skipped(tctx, [node.task_id])
                return None

        run.__name__ = run.__qualname__ = f"airflow_{type(op).__name__}"
        run.__doc__ = f"Airflow task {node.task_id!r} of DAG {dag.dag_id!r} ({node.kind})."
        return run

    def _run(self, tctx: TaskExecutionContext, node: _Node) -> Any:
        op = node.op
        kind = node.kind
        if kind == "unsupported":
            raise GraflowRuntimeError(
                f"Airflow task {node.task_id!r} cannot run as a graflow task: {node.reason} "
                "(see the conversion report: wf.airflow_report)"
            )
        if kind == "empty":
            return None
        if kind == "mapped":
            return self._run_mapped(tctx, node)
        context = _context(self.dag, op, tctx)
        templates = getattr(op, "templates_dict", None)
        if templates:
            context["templates_dict"] = self._resolve(dict(templates), op, context, context["ti"])
        if kind in ("python", "short_circuit") or (
            kind == "branch" and hasattr(op, "python_callable")
        ):
            result = self._call(op.python_callable, op, op.op_args, op.op_kwargs, context)
        else:
            work = copy.copy(op)
            work.render_template_fields(context)
            result = work.choose_branch(context) if kind == "branch" else work.execute(context)
        if kind == "branch":
            return self._follow(tctx, node, result)
        if kind == "short_circuit" and not result:
            if getattr(op, "ignore_downstream_trigger_rules", True):
                self._mark_skipped(tctx, node.descendants)
            else:
                self._mark_skipped(tctx, op.downstream_task_ids)
            return None  # Airflow 3 ends the task by skipping downstream: no XCom
        return result

    def _run_mapped(self, tctx: TaskExecutionContext, node: _Node) -> list[Any]:
        from airflow.sdk.definitions._internal.expandinput import DictOfListsExpandInput

        op = node.op
        partial = dict(op.partial_kwargs)
        func: Callable[..., Any] = (
            getattr(op, "python_callable", None) or partial["python_callable"]
        )
        expand = getattr(op, "op_kwargs_expand_input", None) or op.expand_input
        base_context = _context(self.dag, op, tctx)
        ti = base_context["ti"]
        if isinstance(expand, DictOfListsExpandInput):
            names = list(expand.value)
            lists = [list(self._resolve(expand.value[n], op, base_context, ti)) for n in names]
            combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*lists)]
        else:
            combos = [dict(c) for c in self._resolve(expand.value, op, base_context, ti)]
        decorated = hasattr(op, "op_kwargs_expand_input")
        results = []
        for index, combo in enumerate(combos):
            context = _context(self.dag, op, tctx, index)
            if decorated:  # @task.partial(...).expand(x=...): mapped values are op_kwargs
                kwargs = {**partial.get("op_kwargs", {}), **combo}
                args = partial.get("op_args", ())
            else:  # PythonOperator.partial(...).expand(op_args=..., op_kwargs=...)
                kwargs = {**partial.get("op_kwargs", {}), **combo.get("op_kwargs", {})}
                args = combo.get("op_args", partial.get("op_args", ()))
            results.append(self._call(func, op, args, kwargs, context))
        return results

    # -- building ------------------------------------------------------------------------------

    def build(self) -> WorkflowContext:
        from graflow_airflow.render import retry_from_operator
        from graflow_core.core.task import TaskWrapper
        from graflow_core.core.workflow import workflow
        from graflow_core.spec.load import retry_policy

        dag = self.dag
        nodes = [self.classify(op) for op in dag.tasks]
        with workflow(dag.dag_id) as wf:
            for node in nodes:
                op = node.op
                timeout = getattr(op, "execution_timeout", None)
                self.wrappers[node.task_id] = TaskWrapper(
                    node.task_id,
                    self.make_func(node),
                    inject_context=True,
                    resolve_keyword_args=False,
                    retry_policy=retry_policy(retry_from_operator(op)),
                    timeout=timeout.total_seconds() if timeout else None,
                )
            for node in nodes:
                for down in sorted(node.op.downstream_task_ids):
                    self.wrappers[node.task_id] >> self.wrappers[down]
            roots = [n.task_id for n in nodes if not n.upstream]
            if len(roots) > 1:
                start = TaskWrapper(START_ID, _no_op, resolve_keyword_args=False)
                for root in roots:
                    start >> self.wrappers[root]
        return wf


def _no_op() -> None:
    """The start task of a DAG with several root tasks."""
    return None


def _is_rendered(dag: Any) -> bool:
    """True for a DAG made by ``to_airflow_dag``: only step operators, or one hosting operator.

    A DAG that mixes them with hand-written tasks is converted task by task (the graflow
    operators then run through ``execute(context)`` like any other operator).
    """
    from graflow_airflow.render import GraflowTaskOperator

    tasks = list(dag.tasks)
    if tasks and all(isinstance(t, GraflowTaskOperator) for t in tasks):
        return True
    return len(tasks) == 1 and getattr(tasks[0], "graflow_spec", None) is not None


def from_airflow_dag(dag: Any, *, strict: bool = False, warn: bool = True) -> WorkflowContext:
    """Convert an Airflow DAG into a graflow workflow (see the module docstring).

    Args:
        dag: An ``airflow.sdk.DAG`` (hand-written, or rendered by ``to_airflow_dag``).
        strict: Raise :class:`AirflowConversionError` when a task cannot run as a graflow task
            (``unsupported`` report items) instead of converting it into a task that raises.
        warn: Issue a :class:`ConversionWarning` summarising the report when it lists problems.

    Returns:
        The workflow (named after the DAG), with the :class:`ConversionReport` as
        ``wf.airflow_report``. Run it with ``wf.execute(initial_channel=conf)``.
    """
    if not hasattr(dag, "task_dict") or not hasattr(dag, "dag_id"):
        raise AirflowConversionError(
            f"from_airflow_dag() needs an Airflow DAG (airflow.sdk.DAG), got {type(dag).__name__}"
        )
    report = ConversionReport(dag.dag_id)
    if _is_rendered(dag):
        from graflow_airflow.render import spec_from_rendered_dag
        from graflow_core.spec import load_workflow

        report.rendered = True
        wf = load_workflow(spec_from_rendered_dag(dag))
    else:
        if not dag.tasks:
            raise AirflowConversionError(f"DAG {dag.dag_id!r} has no tasks: nothing to convert")
        wf = _Converter(dag, report).build()
    if strict and report.unsupported:
        raise AirflowConversionError(
            f"DAG {dag.dag_id!r} has tasks graflow cannot run:\n"
            + "\n".join(f"  {i}" for i in report.unsupported)
        )
    if warn and report.problems:
        warnings.warn(str(report), ConversionWarning, stacklevel=2)
    wf.airflow_report = report
    return wf


def airflow_results(context: Any) -> dict[str, Any]:
    """The results of a converted workflow's run as Airflow's ``return_value`` XComs show them.

    ``context``: the run's ``ExecutionContext`` (``wf.execute(ret_context=True)``). Leaves out
    skipped tasks, tasks that returned ``None`` (Airflow pushes no XCom for ``None``) and the
    ``__start__`` task.
    """
    channel = context.channel
    skipped = set(channel.get(SKIPPED_KEY, ()) or ())
    out = {}
    for key in channel.keys():  # noqa: SIM118 - Channel API
        if key.endswith(_RESULT_SUFFIX):
            task_id = key[: -len(_RESULT_SUFFIX)]
            value = channel.get(key)
            if task_id not in skipped and task_id != START_ID and value is not None:
                out[task_id] = value
    return out
