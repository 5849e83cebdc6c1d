"""The Airflow front end: Airflow DAG files → graflow code (``graflow-migrate airflow``).

Two kinds of DAG are converted (details and limits: ``docs/migration-prefect.md``):

* **TaskFlow**: a ``@dag`` function whose body calls ``@task`` functions. Tasks defined inside
  the DAG function move to module level as graflow tasks; calls become nodes (independent calls
  run as a parallel group, as Airflow would run them concurrently); XComArgs passed to other
  calls become keyword resolution; ``>>``/``<<``/``chain``/``set_downstream`` add edges;
  ``.expand()``/``.partial().expand()`` become a task that adds one task per item at run time.
* **Classic**: ``with DAG(...) as dag:`` with ``PythonOperator`` (``python_callable``,
  ``op_args``, ``op_kwargs``) and ``EmptyOperator`` tasks and the same dependency forms. A
  callable taking ``ti`` gets the graflow task context instead, with
  ``ti.xcom_pull(task_ids="x")`` rewritten to ``ti.get_result("x")``; one taking ``params``
  gets the DAG's parameters.

Options: ``retries`` / ``retry_delay`` / ``retry_exponential_backoff`` / ``max_retry_delay`` →
``max_retries`` / ``RetryPolicy``, ``execution_timeout`` → ``timeout``; ``default_args``
retries → the workflow's default ``retry_policy``; DAG ``params`` and the ``@dag`` function's
parameters → workflow parameters. The runner function returns ``{task_id: result}``.
"""

from __future__ import annotations

import ast
from typing import Any

import libcst as cst

from graflow_migrate._options import translate_retries
from graflow_migrate._source import (
    Lines,
    Output,
    identifier,
    literal_number,
    names_of,
    number,
    todo_comments,
)
from graflow_migrate._workflow import Binding, Param, WorkflowPlan
from graflow_migrate.prefect import (
    FlowDef,
    TaskDef,
    _any,
    _Call,
    _comments,
    _Converter,
    _FlowPlanner,
    _params,
    _Unsupported,
)
from graflow_migrate.report import MigrationReport

__all__ = ["convert_airflow"]

_DAG_DECORATORS = {"airflow.decorators.dag", "airflow.sdk.dag", "airflow.models.dag.dag"}
_TASK_DECORATORS = {
    "airflow.decorators.task",
    "airflow.sdk.task",
    "airflow.decorators.task.python",
    "airflow.sdk.task.python",
}
_DAG_CLASSES = {"airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", "airflow.sdk.DAG"}
_PYTHON_OPERATORS = {
    "airflow.operators.python.PythonOperator",
    "airflow.operators.python_operator.PythonOperator",
    "airflow.providers.standard.operators.python.PythonOperator",
}
_EMPTY_OPERATORS = {
    "airflow.operators.empty.EmptyOperator",
    "airflow.operators.dummy.DummyOperator",
    "airflow.operators.dummy_operator.DummyOperator",
    "airflow.providers.standard.operators.empty.EmptyOperator",
}
_CHAIN = {"airflow.models.baseoperator.chain", "airflow.sdk.chain", "airflow.utils.helpers.chain"}
_CONTEXT = {
    "airflow.operators.python.get_current_context",
    "airflow.sdk.get_current_context",
    "airflow.providers.standard.operators.python.get_current_context",
}
#: Task options that change nothing about results (dropped with an info finding).
_INFO_OPTIONS = {
    "owner",
    "email",
    "email_on_failure",
    "email_on_retry",
    "depends_on_past",
    "queue",
    "pool",
    "pool_slots",
    "priority_weight",
    "weight_rule",
    "doc_md",
    "doc",
    "multiple_outputs",
    "do_xcom_push",
    "sla",
    "start_date",
    "end_date",
    "max_active_tis_per_dag",
    "executor",
    "show_return_value_in_logs",
    "map_index_template",
    "task_display_name",
}
#: operator arguments the converter uses itself
_OPERATOR_ARGS = {"task_id", "python_callable", "op_args", "op_kwargs", "dag"}
_RETRY_OPTIONS = {
    "retries",
    "retry_delay",
    "retry_exponential_backoff",
    "max_retry_delay",
    "execution_timeout",
}
#: DAG options that change nothing about one run's results.
_DAG_INFO = {
    "schedule",
    "schedule_interval",
    "start_date",
    "end_date",
    "catchup",
    "tags",
    "description",
    "doc_md",
    "max_active_runs",
    "max_active_tasks",
    "concurrency",
    "dagrun_timeout",
    "is_paused_upon_creation",
    "owner_links",
    "render_template_as_native_obj",
    "access_control",
    "default_view",
    "orientation",
    "fail_fast",
    "dag_display_name",
    "template_searchpath",
    "user_defined_macros",
    "user_defined_filters",
    "jinja_environment_kwargs",
    "timetable",
    "auto_register",
    "sla_miss_callback",
    "on_success_callback",
    "on_failure_callback",
}


def convert_airflow(lines: Lines, report: MigrationReport, tree: ast.Module) -> str:
    """Convert the Airflow DAG file behind ``lines``; findings go into ``report``."""
    conv = _AirflowConverter(lines, report, tree)
    conv.collect()
    return conv.transform()


def _seconds(code: str) -> float | None:
    """Seconds of a literal ``timedelta(...)`` / ``pendulum.duration(...)`` / number."""
    value = literal_number(code)
    if value is not None:
        return value
    try:
        node = ast.parse(code.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Call) or node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in ("timedelta", "duration"):
        return None
    factors = {
        "weeks": 604800,
        "days": 86400,
        "hours": 3600,
        "minutes": 60,
        "seconds": 1,
        "milliseconds": 0.001,
        "microseconds": 0.000001,
    }
    total = 0.0
    for kw in node.keywords:
        if kw.arg not in factors:
            return None
        try:
            value = ast.literal_eval(kw.value)
        except ValueError:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        total += value * factors[kw.arg]
    return total


class _AirflowConverter(_Converter):
    library = "airflow"

    def __init__(self, lines: Lines, report: MigrationReport, tree: ast.Module) -> None:
        super().__init__(lines, report, tree)
        self.default_args: dict[str, dict[str, str]] = {}
        self.nested_tasks: dict[str, cst.FunctionDef] = {}
        self.dag_calls: set[str] = set()
        self.classic: list[tuple[cst.With, WorkflowPlan | None, _Unsupported | None]] = []
        self.module_dicts: dict[str, cst.Dict] = {}
        self.ti_callables: set[str] = set()

    def function_def(self, name: str) -> cst.FunctionDef | None:
        """The top-level ``def name`` of the module, if any."""
        for stmt in self.module.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
                return stmt
        return None

    # -- kinds ---------------------------------------------------------------------------------

    flow_decorators = frozenset(_DAG_DECORATORS)
    task_decorators = frozenset(_TASK_DECORATORS)

    # -- pass 1 --------------------------------------------------------------------------------

    def collect(self) -> None:
        for stmt in self.module.body:
            self._collect_imports(stmt)
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
                small = stmt.body[0]
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and isinstance(small.value, cst.Dict)
                ):
                    self.module_dicts[small.targets[0].target.value] = small.value
        super().collect()
        for stmt in self.module.body:
            if isinstance(stmt, cst.With) and self._dag_item(stmt) is not None:
                try:
                    plan = _ClassicPlanner(self, stmt).plan()
                    self.classic.append((stmt, plan, None))
                except _Unsupported as exc:
                    self.classic.append((stmt, None, exc))

    def _collect_flow(self, fn: cst.FunctionDef, dec: cst.Decorator) -> None:
        """Tasks defined inside a @dag function become module-level tasks."""
        body = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else []
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                for inner in stmt.decorators:
                    kind, call = self.decorator_kind(inner)
                    if kind == "task":
                        self.tasks[stmt.name.value] = self._task_def(stmt, call)
                        self.nested_tasks[stmt.name.value] = stmt
                        break

    def _plan_flow(self, flow: FlowDef) -> None:
        self._collect_flow(flow.node, flow.decorator)
        try:
            flow.plan = _TaskFlowPlanner(self, flow).plan()
        except _Unsupported as exc:
            flow.failure = exc
            flow.plan = None

    def _task_def(self, fn: cst.FunctionDef, call: cst.Call | None) -> TaskDef:
        name = fn.name.value
        task = TaskDef(name, name, _params(fn, self.module))
        opts: dict[str, cst.Arg] = {}
        if call is not None:
            for arg in call.args:
                if arg.keyword is not None:
                    opts[arg.keyword.value] = arg
        self.task_options(task, {k: self.code(v.value) for k, v in opts.items()}, fn)
        return task

    def task_options(
        self, task: TaskDef, opts: dict[str, str], node: cst.CSTNode, construct: str = "@task"
    ) -> None:
        """Translate Airflow task options (``retries``, ``retry_delay``, ...)."""
        line = self.line(node)
        out: list[tuple[str, str]] = []
        if "task_id" in opts:
            out.append(("id", opts["task_id"]))
            try:
                value = ast.literal_eval(opts["task_id"])
                if isinstance(value, str) and value:
                    task.task_id = value
            except (ValueError, SyntaxError):
                pass
        out += self.retry_options(opts, line, construct)
        task.has_retries = any(k in ("max_retries", "retry_policy") for k, _ in out)
        for key, value in opts.items():
            if key in _RETRY_OPTIONS or key in _OPERATOR_ARGS:
                continue
            if key in _INFO_OPTIONS:
                self.report.add(
                    line,
                    f"{construct}({key}=...)",
                    "info",
                    "dropped: scheduling/ownership settings have no graflow counterpart",
                    "drop it",
                )
            elif key == "trigger_rule":
                self.report.add(
                    line,
                    f"{construct}(trigger_rule=...)",
                    "todo",
                    "graflow runs a task when all its predecessors succeeded",
                    "use a parallel group policy (best_effort, at_least_n) or "
                    "handle failures in the upstream task",
                )
                self.todo_options.setdefault(task.name, []).append(
                    f"trigger_rule={value} was dropped"
                )
            else:
                self.report.add(
                    line,
                    f"{construct}({key}=...)",
                    "todo",
                    f"the Airflow option {key!r} is not converted",
                    "check whether it matters and implement it by hand",
                )
                self.todo_options.setdefault(task.name, []).append(f"{key}={value} was dropped")
        task.options = out

    def retry_options(
        self,
        opts: dict[str, str],
        line: int,
        construct: str,
        defaults: dict[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        merged = {**(defaults or {}), **opts}
        out: list[tuple[str, str]] = []
        if "retries" in merged:
            retries = merged["retries"]
            rv = literal_number(retries)
            delay = 300.0  # Airflow's default retry_delay
            if "retry_delay" in merged:
                parsed = _seconds(merged["retry_delay"])
                if parsed is None:
                    self.report.add(
                        line,
                        f"{construct}(retry_delay=...)",
                        "lossy",
                        f"retry_delay {merged['retry_delay']} is not a literal "
                        "timedelta; Airflow's default 300 s is used",
                        "set the RetryPolicy's initial_interval by hand",
                    )
                else:
                    delay = parsed
            backoff = merged.get("retry_exponential_backoff", "False").strip()
            exponential = backoff not in ("False", "0", "0.0", "None")
            tr = translate_retries(
                retries,
                None if exponential else [delay],
                exponential_base=delay if exponential else None,
                retries_value=int(rv) if rv is not None else None,
            )
            if exponential:
                cap = _seconds(merged.get("max_retry_delay", "")) or 86400.0
                tr.kwargs = [
                    (k, v.rsplit("max_interval=", 1)[0] + f"max_interval={number(cap)})")
                    for k, v in tr.kwargs
                ]
                self.report.add(
                    line,
                    f"{construct}(retry_exponential_backoff=...)",
                    "lossy",
                    "Airflow's exponential backoff adds jitter and hashing; "
                    "graflow doubles the delay exactly",
                    "check the RetryPolicy against the delays you need",
                )
            out += tr.kwargs
            if tr.uses_policy:
                self.imports_needed.add("RetryPolicy")
            if "retry_delay" not in merged and rv:
                self.report.add(
                    line,
                    f"{construct}(retries=...)",
                    "info",
                    "Airflow waits retry_delay (default 300 s) between retries; "
                    "the RetryPolicy uses the same 300 s",
                    "set initial_interval to the delay you want",
                )
        if "execution_timeout" in merged:
            seconds = _seconds(merged["execution_timeout"])
            if seconds is None:
                self.report.add(
                    line,
                    f"{construct}(execution_timeout=...)",
                    "todo",
                    "execution_timeout is not a literal timedelta",
                    "give the task timeout=<seconds>",
                )
            else:
                out.append(("timeout", number(seconds)))
        return out

    # -- pass 2 --------------------------------------------------------------------------------

    def _callable_text(self, stmt: cst.FunctionDef) -> str:
        """A python_callable taking ``ti``: ``ti.xcom_pull(task_ids=...)`` → ``ti.get_result``."""
        rewriter = _XComRewriter()
        new: Any = stmt.visit(rewriter)
        for node, why in rewriter.left:
            self.report.add(
                self.line(stmt),
                f"ti.{node}",
                "todo",
                why,
                "read upstream results with ti.get_result('<task id>')",
            )
        if rewriter.count:
            self.report.count("xcom_pull", rewriter.count)
        return self.module.code_for_node(new.with_changes(leading_lines=[]))

    def _flow_text(self, flow: FlowDef, fn: cst.FunctionDef) -> str | None:
        text = super()._flow_text(flow, fn)
        if text is None:
            return None
        tasks = [
            self._task_text(self.tasks[name], node, top=False)
            for name, node in self.nested_tasks.items()
        ]
        return "".join(t.rstrip("\n") + "\n\n\n" for t in tasks) + text

    def top_statement(self, stmt: cst.BaseStatement, out: Output) -> bool:
        """Module-level statements the Airflow front end rewrites (DAG blocks, DAG calls,
        python_callables taking ``ti``)."""
        for with_stmt, plan, failure in self.classic:
            if stmt is with_stmt:
                self._classic_statement(stmt, plan, failure, out)
                return True
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value in self.ti_callables:
            out.set(stmt, self.clean(self._callable_text(stmt), strip_results=False))
            return True
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            value = small.value if isinstance(small, (cst.Expr, cst.Assign)) else None
            if isinstance(value, cst.Call) and self.qualified(value.func) in _DAG_CLASSES:
                reason = (
                    "a DAG built outside a 'with DAG(...) as dag:' block is not converted "
                    "(operators with dag=... are not collected)"
                )
                self.report.add(
                    self.line(stmt),
                    "DAG(...) assignment",
                    "todo",
                    reason,
                    "put the operators in a 'with DAG(...) as dag:' block and convert again",
                )
                out.prepend(stmt, todo_comments(reason))
                return False
            if (
                isinstance(value, cst.Call)
                and isinstance(value.func, cst.Name)
                and value.func.value in self.flows
                and self.flows[value.func.value].plan
            ):
                self.report.add(
                    self.line(stmt),
                    f"{value.func.value}()",
                    "info",
                    "the module-level call that registered the DAG was removed "
                    "(calling the runner would run the workflow)",
                    f"call {value.func.value}() to run the workflow",
                )
                out.set(stmt, "")
                return True
        return False

    def _classic_statement(
        self,
        stmt: cst.With,
        plan: WorkflowPlan | None,
        failure: _Unsupported | None,
        out: Output,
    ) -> None:
        if plan is None:
            assert failure is not None
            line = self.lines.line(failure.node, within=stmt) or self.line(stmt)
            self.report.add(line, failure.construct, "todo", failure.reason, failure.fix)
            out.prepend(stmt, todo_comments(f"DAG not converted: {failure.reason} (line {line})"))
            return
        self.report.count("dag")
        code = plan.render()
        self.imports_needed |= plan.imports
        out.set(stmt, code + "\n")

    def _dag_item(self, stmt: cst.With) -> cst.Call | None:
        for item in stmt.items:
            if isinstance(item.item, cst.Call) and self.qualified(item.item.func) in _DAG_CLASSES:
                return item.item
        return None

    def dag_options(
        self, call: cst.Call | None, node: cst.CSTNode, plan_kwargs: list[tuple[str, str]]
    ) -> tuple[str | None, list[Param], dict[str, str]]:
        """The DAG id, the DAG params and the default_args of a ``@dag``/``DAG(...)`` call."""
        dag_id: str | None = None
        params: list[Param] = []
        defaults: dict[str, str] = {}
        dropped: list[str] = []
        if call is None:
            return dag_id, params, defaults
        for index, arg in enumerate(call.args):
            key = arg.keyword.value if arg.keyword is not None else ("dag_id" if index == 0 else "")
            code = self.code(arg.value)
            if key == "dag_id":
                try:
                    value = ast.literal_eval(code)
                    dag_id = value if isinstance(value, str) else None
                except (ValueError, SyntaxError):
                    dag_id = None
            elif key == "params":
                params = self._params_of(arg.value, node)
            elif key == "default_args":
                defaults = self._default_args(arg.value, node)
                policy = self.retry_options(
                    {k: v for k, v in defaults.items() if k != "execution_timeout"},
                    self.line(node),
                    "default_args",
                )
                plan_kwargs += [
                    (
                        k if k == "retry_policy" else "retry_policy",
                        v if k == "retry_policy" else f"RetryPolicy(max_retries={v})",
                    )
                    for k, v in policy
                ]
                if policy:
                    self.imports_needed.add("RetryPolicy")
                for key2 in defaults:
                    if key2 not in _RETRY_OPTIONS and key2 not in _INFO_OPTIONS:
                        self.report.add(
                            self.line(node),
                            f"default_args[{key2!r}]",
                            "todo",
                            f"the default task option {key2!r} is not converted",
                            "apply it to the tasks by hand",
                        )
            elif key == "version":
                plan_kwargs.append(("version", code))
            elif key in _DAG_INFO or key == "dag_id":
                if not key.endswith("callback") and key != "dag_id":
                    dropped.append(key)
                if key.endswith("callback"):
                    self.report.add(
                        self.line(node),
                        f"DAG({key}=...)",
                        "todo",
                        "DAG callbacks have no graflow counterpart",
                        "use a graflow plugin's workflow hooks",
                    )
            elif key:
                self.report.add(
                    self.line(node),
                    f"DAG({key}=...)",
                    "todo",
                    f"the DAG option {key!r} is not converted",
                    "check whether it matters and implement it by hand",
                )
        if dropped:
            self.report.add(
                self.line(node),
                f"DAG({', '.join(k + '=...' for k in dropped)})",
                "info",
                "dropped: scheduling settings have no meaning for a graflow workflow",
                "schedule the runner function with your scheduler, or deploy the workflow "
                "with a graflow bridge",
            )
        return dag_id, params, defaults

    def _params_of(self, value: cst.BaseExpression, node: cst.CSTNode) -> list[Param]:
        if isinstance(value, cst.Name) and value.value in self.module_dicts:
            value = self.module_dicts[value.value]
        out: list[Param] = []
        if not isinstance(value, cst.Dict):
            self.report.add(
                self.line(node),
                "DAG(params=...)",
                "todo",
                "params is not a dict literal",
                "give the runner its parameters",
            )
            return out
        for element in value.elements:
            if not isinstance(element, cst.DictElement):
                continue
            try:
                key = ast.literal_eval(self.code(element.key))
            except (ValueError, SyntaxError):
                continue
            if not isinstance(key, str) or not key.isidentifier():
                continue
            default = self.code(element.value)
            if isinstance(element.value, cst.Call) and self.code(element.value.func).endswith(
                "Param"
            ):
                args = element.value.args
                default = self.code(args[0].value) if args and args[0].keyword is None else "None"
                self.report.add(
                    self.line(node),
                    f"Param({key!r})",
                    "info",
                    "Param validation (type, schema) is dropped; the default is kept",
                    "validate the parameter in the first task if you rely on it",
                )
            out.append(Param(key, default))
        return out

    def _default_args(self, value: cst.BaseExpression, node: cst.CSTNode) -> dict[str, str]:
        if isinstance(value, cst.Name) and value.value in self.module_dicts:
            value = self.module_dicts[value.value]
        if not isinstance(value, cst.Dict):
            self.report.add(
                self.line(node),
                "default_args",
                "todo",
                "default_args is not a dict literal",
                "apply the options by hand",
            )
            return {}
        out: dict[str, str] = {}
        for element in value.elements:
            if isinstance(element, cst.DictElement):
                try:
                    key = ast.literal_eval(self.code(element.key))
                except (ValueError, SyntaxError):
                    continue
                if isinstance(key, str):
                    out[key] = self.code(element.value)
        return out


class _TaskFlowPlanner(_FlowPlanner):
    """A ``@dag`` function body: calls are concurrent; ``>>`` and friends add edges."""

    conv: _AirflowConverter
    map_suffix = ""

    def plan(self) -> WorkflowPlan:
        conv = self.conv
        _, call = conv.decorator_kind(self.flow.decorator)
        kwargs: list[tuple[str, str]] = []
        dag_id, params, defaults = conv.dag_options(call, self.fn, kwargs)
        seconds = _seconds(defaults.get("execution_timeout", ""))
        if seconds is not None:  # default_args' timeout applies to the DAG's own tasks
            for name in conv.nested_tasks:
                options = conv.tasks[name].options
                if not any(k == "timeout" for k, _ in options):
                    options.append(("timeout", number(seconds)))
        fn_params = _params(self.fn, conv.module)
        names = {p.name for p in fn_params}
        all_params = fn_params + [p for p in params if p.name not in names]
        self.fn = self.fn.with_changes(
            params=self.fn.params,
            body=self.fn.body.with_changes(
                body=[
                    s
                    for s in _any(self.fn.body).body
                    if not (isinstance(s, cst.FunctionDef) and s.name.value in conv.nested_tasks)
                ]
            ),
        )
        plan = self._plan_body(dag_id or self.fn.name.value, all_params)
        plan.workflow_kwargs = kwargs
        plan.kind = "Airflow DAG"
        plan.layered = True
        plan.return_expr = self.results_dict(plan)
        return plan

    def _plan_body(self, name: str, params: list[Param]) -> WorkflowPlan:
        fn = self.fn
        self.wp = WorkflowPlan(
            name,
            fn.name.value,
            params,
            reserved=self.conv.top_names | self.callables,
            docstring=None,
            kind="Airflow DAG",
        )
        self.pending_glue = []
        body = list(fn.body.body) if isinstance(fn.body, cst.IndentedBlock) else []
        for stmt in body:
            self.statement(stmt, is_last=False)
        self.flush_glue()
        return self.wp

    @staticmethod
    def results_dict(plan: WorkflowPlan) -> str | None:
        """``{task_id: result}`` of every node, as the runner returns it (maps: lists)."""
        if not plan.nodes:
            return None
        maps = {b.node for b in plan.env.values() if b.kind == "map"}
        plan.docstring = (
            f"Run the workflow ``{plan.name}`` and return each task's result by task id."
        )
        items = []
        for n in plan.nodes:
            binding = Binding(n.id, "map" if n.id in maps else "value")
            items.append(f'"{n.id}": {plan.read(binding)}')
        one = "{" + ", ".join(items) + "}"
        if len(one) <= 88:
            return one
        return "{\n" + "".join(f"        {item},\n" for item in items) + "    }"

    # -- statements ----------------------------------------------------------------------------

    def refs(self, node: cst.CSTNode) -> set[str]:
        return set(names_of(self.code(node)).loads) & (
            self.callables
            | set(self.wp.env)
            | {n for n, q in self.conv.lib_names.items() if q in _CHAIN or q in _CONTEXT}
        )

    def statement(self, stmt: cst.BaseStatement, is_last: bool) -> None:
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            if isinstance(small, cst.Expr) and self.edges(small.value, stmt):
                return
            if isinstance(small, cst.Return):
                return
        if isinstance(stmt, cst.FunctionDef):
            kinds = [self.conv.decorator_kind(d)[0] for d in stmt.decorators]
            if "other_task" in kinds:
                what = self.code(stmt.decorators[kinds.index("other_task")].decorator)
                self.note(
                    stmt,
                    f"@{what}",
                    "todo",
                    f"@{what} tasks are not converted",
                    "rewrite it as a plain @task and convert again",
                )
                self.wp.setup += todo_comments(
                    f"@{what} is not converted; it is a plain function here", 4
                )
                stmt = stmt.with_changes(
                    decorators=[
                        d for d, k in zip(stmt.decorators, kinds, strict=True) if k != "other_task"
                    ]
                )
            self.wp.setup += (
                self.conv.clean(self.code(stmt.with_changes(leading_lines=[])))
                .rstrip("\n")
                .split("\n")
            )
            return
        super().statement(stmt, is_last)

    def plain(self, stmt: cst.BaseStatement, is_last: bool) -> None:
        """DAG bodies run when the DAG is parsed: other statements go to the builder."""
        if self._returns_inside(stmt):
            return
        names = names_of(self.code(stmt))
        if names.loads & (set(self.wp.env) | self.wp.param_names):
            raise self.unsupported(
                stmt,
                "statement using task results",
                "a DAG body statement uses a task's XComArg outside a call",
                "pass the value to a task instead",
            )
        self.wp.setup += (
            self.conv.clean(self.code(_any(stmt).with_changes(leading_lines=[])))
            .rstrip("\n")
            .split("\n")
        )

    def match(self, expr: cst.BaseExpression) -> _Call | None:
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        if isinstance(func, cst.Name) and func.value in self.conv.tasks:
            return _Call(expr, func.value, "submit", list(expr.args))
        if isinstance(func, cst.Attribute) and func.attr.value == "expand":
            base = func.value
            static: list[cst.Arg] = []
            if (
                isinstance(base, cst.Call)
                and isinstance(base.func, cst.Attribute)
                and base.func.attr.value == "partial"
            ):
                static = list(base.args)
                base = base.func.value
            if isinstance(base, cst.Name) and base.value in self.conv.tasks:
                unmapped = [
                    a.with_changes(value=cst.parse_expression(f"unmapped({self.code(a.value)})"))
                    for a in static
                ]
                return _Call(expr, base.value, "map", [*expr.args, *unmapped])
        return None

    def map_call(
        self,
        call: _Call,
        args: list[cst.Arg],
        waits: list[cst.BaseExpression],
        stmt: cst.CSTNode,
        comments: list[str],
    ) -> str:
        # .partial() arguments were wrapped in unmapped(...): recognise them by name
        self.conv.lib_names.setdefault("unmapped", "prefect.unmapped")
        try:
            return super().map_call(call, args, waits, stmt, comments)
        finally:
            if self.conv.lib_names.get("unmapped") == "prefect.unmapped":
                del self.conv.lib_names["unmapped"]

    def node_ids(self, expr: cst.BaseExpression, stmt: cst.CSTNode) -> list[str]:
        """The node ids an operand of ``>>`` stands for (creating nodes for calls)."""
        if isinstance(expr, (cst.List, cst.Tuple)):
            out: list[str] = []
            for el in expr.elements:
                out += self.node_ids(el.value, stmt)
            return out
        if isinstance(expr, cst.Name) and expr.value in self.wp.env:
            return [self.wp.env[expr.value].node]
        found = self.match(expr)
        if found is not None:
            new = self.hoist(expr, stmt, _comments(stmt), result_name=None)
            assert isinstance(new, cst.Name)
            return [self.wp.env[new.value].node]
        raise self.unsupported(
            stmt,
            "dependency",
            f"cannot tell which task {self.code(expr)} is",
            "use the task's variable or call in the dependency",
        )

    def edges(self, expr: cst.BaseExpression, stmt: cst.CSTNode) -> bool:
        """``a >> b``, ``a << b``, ``chain(a, b)``, ``a.set_downstream(b)``: add edges."""
        pairs: list[tuple[list[str], list[str]]] = []
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, (cst.RightShift, cst.LeftShift)
        ):
            operands: list[cst.BaseExpression] = []
            ops: list[cst.BaseBinaryOp] = []
            node: cst.BaseExpression = expr
            while isinstance(node, cst.BinaryOperation) and isinstance(
                node.operator, (cst.RightShift, cst.LeftShift)
            ):
                operands.insert(0, node.right)
                ops.insert(0, node.operator)
                node = node.left
            operands.insert(0, node)
            ids = [self.node_ids(o, stmt) for o in operands]
            for i, op in enumerate(ops):
                left, right = ids[i], ids[i + 1]
                pairs.append((left, right) if isinstance(op, cst.RightShift) else (right, left))
        elif isinstance(expr, cst.Call) and self.conv.qualified(expr.func) in _CHAIN:
            ids = [self.node_ids(a.value, stmt) for a in expr.args]
            pairs += [(ids[i], ids[i + 1]) for i in range(len(ids) - 1)]
        elif (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in ("set_downstream", "set_upstream")
            and len(expr.args) == 1
        ):
            this = self.node_ids(expr.func.value, stmt)
            other = self.node_ids(expr.args[0].value, stmt)
            down = expr.func.attr.value == "set_downstream"
            pairs.append((this, other) if down else (other, this))
        else:
            return False
        by_id = {n.id: n for n in self.wp.nodes}
        for ups, downs in pairs:
            for d in downs:
                by_id[d].deps |= set(ups)
        self.conv.report.count("dependency")
        return True


class _ClassicPlanner(_TaskFlowPlanner):
    """``with DAG(...) as dag:`` with operators."""

    def __init__(self, conv: _AirflowConverter, stmt: cst.With) -> None:
        self.conv = conv
        self.with_stmt = stmt
        self.code = conv.code
        self.callables = set(conv.tasks)
        self.notes: list[tuple[cst.CSTNode, str, str, str, str]] = []
        self.tmp = 0

    def plan(self) -> WorkflowPlan:
        conv = self.conv
        call = conv._dag_item(self.with_stmt)
        kwargs: list[tuple[str, str]] = []
        dag_id, params, self.defaults = conv.dag_options(call, self.with_stmt, kwargs)
        name = dag_id or "dag"
        self.wp = WorkflowPlan(
            name,
            identifier(name),
            params,
            reserved=conv.top_names | self.callables,
            kind="Airflow DAG",
        )
        self.wp.workflow_kwargs = kwargs
        self.wp.layered = True
        self.pending_glue = []
        self.operators: dict[str, str] = {}
        body = (
            self.with_stmt.body.body if isinstance(self.with_stmt.body, cst.IndentedBlock) else []
        )
        for stmt in body:
            self.classic_statement(stmt)
        for node, construct, sev, why, fix in self.notes:
            conv.report.add(conv.line(node) or conv.line(self.with_stmt), construct, sev, why, fix)
        self.wp.return_expr = self.results_dict(self.wp)
        return self.wp

    def classic_statement(self, stmt: cst.BaseStatement) -> None:
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            if isinstance(small, cst.Expr) and self.edges(small.value, stmt):
                return
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and isinstance(small.value, cst.Call)
            ):
                kind = self.conv.qualified(small.value.func)
                if (
                    kind in _PYTHON_OPERATORS
                    or kind in _EMPTY_OPERATORS
                    or (kind is not None and kind.split(".")[-1].endswith(("Operator", "Sensor")))
                ):
                    self.operator(small.targets[0].target.value, small.value, kind, stmt)
                    return
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                kind = self.conv.qualified(small.value.func)
                if kind is not None and kind.split(".")[-1].endswith(("Operator", "Sensor")):
                    self.operator(None, small.value, kind, stmt)
                    return
        if set(names_of(self.code(stmt)).loads) & set(self.wp.env):
            raise self.unsupported(
                stmt,
                "statement using a task",
                "only operators and dependencies are converted in a DAG block",
                "move this statement out of the DAG block",
            )
        self.wp.setup += (
            self.code(_any(stmt).with_changes(leading_lines=[])).rstrip("\n").split("\n")
        )

    def operator(self, var: str | None, call: cst.Call, kind: str, stmt: cst.CSTNode) -> None:
        args = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        task_id_code = self.code(args["task_id"]) if "task_id" in args else None
        try:
            task_id = ast.literal_eval(task_id_code) if task_id_code else None
        except (ValueError, SyntaxError):
            task_id = None
        if not isinstance(task_id, str):
            raise self.unsupported(
                stmt,
                f"{kind.split('.')[-1]}(task_id=...)",
                "the operator has no literal task_id",
                "give it task_id='...'",
            )
        node_id = self.wp.new_id(task_id)
        task = TaskDef(task_id, task_id, None)
        opts = {k: self.code(v) for k, v in args.items()}
        construct = kind.split(".")[-1]
        line = self.conv.line(stmt)
        task.options = self.conv.retry_options(
            {k: v for k, v in opts.items() if k in _RETRY_OPTIONS},
            line,
            construct,
            defaults={k: v for k, v in self.defaults.items() if k == "execution_timeout"},
        )
        for key in opts:
            if key in _RETRY_OPTIONS or key in _OPERATOR_ARGS:
                continue
            sev = "info" if key in _INFO_OPTIONS else "todo"
            self.conv.report.add(
                line,
                f"{construct}({key}=...)",
                sev,
                f"the operator option {key!r} is not converted",
                "drop it" if sev == "info" else "implement it by hand",
            )
        comments = _comments(stmt)
        if kind in _EMPTY_OPERATORS:
            node = self.wp.function_node(
                node_id, ["return None"], (), decorator=task.options, concurrent=True
            )
        elif kind in _PYTHON_OPERATORS:
            node = self.python_operator(node_id, args, task, stmt)
        else:
            reason = f"{construct} is not converted (only PythonOperator and EmptyOperator are)"
            node = self.wp.function_node(
                node_id,
                [
                    *todo_comments(reason, 12),
                    f'raise NotImplementedError("{construct} {task_id!r} was not migrated")',
                ],
                (),
                decorator=task.options,
                concurrent=True,
            )
            self.conv.report.add(
                line, construct, "todo", reason, "write the task's work in the generated function"
            )
        node.comments = comments
        if var is not None:
            self.wp.env[var] = Binding(node_id)
        self.conv.report.count("operator")

    def python_operator(
        self, node_id: str, args: dict[str, cst.BaseExpression], task: TaskDef, stmt: cst.CSTNode
    ) -> Any:
        line = self.conv.line(stmt)
        if "python_callable" not in args:
            raise self.unsupported(
                stmt, "PythonOperator", "no python_callable", "give the operator a python_callable"
            )
        func = self.code(args["python_callable"])
        call_args: list[str] = []
        if "op_args" in args:
            value = args["op_args"]
            if isinstance(value, (cst.List, cst.Tuple)):
                call_args += [self.code(el.value) for el in value.elements]
            else:
                call_args.append(f"*{self.code(value)}")
        if "op_kwargs" in args:
            value = args["op_kwargs"]
            if isinstance(value, cst.Dict) and all(
                isinstance(el, cst.DictElement)
                and isinstance(el.key, cst.SimpleString)
                and isinstance(el.key.evaluated_value, str)
                and el.key.evaluated_value.isidentifier()
                for el in value.elements
            ):
                call_args += [
                    f"{_any(el).key.evaluated_value}={self.code(el.value)}" for el in value.elements
                ]
            else:
                call_args.append(f"**{self.code(value)}")
        if "{{" in " ".join(call_args):
            self.conv.report.add(
                line,
                "Jinja template in op_args/op_kwargs",
                "todo",
                "Airflow templates are not rendered by graflow",
                "compute the value in the task (e.g. datetime.date.today())",
            )
        names: set[str] = set()
        target = self.conv.function_def(func)
        force_ctx = False
        if target is not None:
            pnames = [p.name for p in _params(target, self.conv.module)]
            if "ti" in pnames:
                call_args.append("ti=ctx")
                force_ctx = True
                self.conv.ti_callables.add(func)
            if "params" in pnames:
                call_args.append(
                    "params={" + ", ".join(f'"{p.name}": {p.name}' for p in self.wp.params) + "}"
                )
                names |= self.wp.param_names
            context_keys = {
                "ds",
                "ts",
                "logical_date",
                "execution_date",
                "dag_run",
                "dag",
                "task_instance",
                "run_id",
                "data_interval_start",
            }
            if set(pnames) & context_keys:
                self.conv.report.add(
                    line,
                    f"{func}({', '.join(sorted(set(pnames) & context_keys))})",
                    "todo",
                    "Airflow context values are not available in graflow",
                    "pass the values as op_kwargs or workflow parameters",
                )
        else:
            self.conv.report.add(
                line,
                f"python_callable={func}",
                "info",
                "the callable is not defined in this file; it is called with "
                "op_args/op_kwargs only",
                "check it does not need the context",
            )
        code = ", ".join(call_args)
        names |= set(names_of(f"_({code.replace('ti=ctx', '')})").loads) & (
            set(self.wp.env) | self.wp.param_names
        )
        return self.wp.function_node(
            node_id,
            [f"return {func}({code})"],
            names,
            decorator=task.options,
            concurrent=True,
            force_context=force_ctx,
        )


class _XComRewriter(cst.CSTTransformer):
    """``ti.xcom_pull(task_ids="x")`` → ``ti.get_result("x")`` (``ti`` is the graflow task
    context); a list of ids → a list of results; other XCom calls are left and reported."""

    def __init__(self) -> None:
        self.count = 0
        self.left: list[tuple[str, str]] = []

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        func = updated.func
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == "ti"
        ):
            return updated
        name = func.attr.value
        if name != "xcom_pull":
            if name.startswith("xcom"):
                self.left.append((name, f"ti.{name}() has no direct graflow counterpart"))
            return updated
        args = {a.keyword.value if a.keyword else "task_ids": a.value for a in updated.args}
        key = args.get("key")
        if (
            set(args) - {"task_ids", "key"}
            or (
                key is not None
                and not (
                    isinstance(key, cst.SimpleString) and key.evaluated_value == "return_value"
                )
            )
            or "task_ids" not in args
        ):
            self.left.append(
                ("xcom_pull", "only ti.xcom_pull(task_ids=...) of return values is converted")
            )
            return updated
        ids = args["task_ids"]
        self.count += 1
        if isinstance(ids, (cst.List, cst.Tuple)):
            items = ", ".join(
                f"ti.get_result({cst.Module(body=[]).code_for_node(e.value)})" for e in ids.elements
            )
            return cst.parse_expression(f"[{items}]")
        return cst.parse_expression(f"ti.get_result({cst.Module(body=[]).code_for_node(ids)})")
