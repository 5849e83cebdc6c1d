"""The Prefect front end: Prefect 2/3 flow code → graflow code (``graflow-migrate prefect``).

What converts to what (details and limits: ``docs/migration-prefect.md``):

* ``@task(...)`` → graflow ``@task(...)``: ``name`` → ``id``, ``retries`` /
  ``retry_delay_seconds`` (numbers, lists, ``exponential_backoff``) → ``max_retries`` or
  ``retry_policy=RetryPolicy(...)``, ``timeout_seconds`` → ``timeout``; ``task.fn`` → ``.func``.
* ``@flow`` → ``build_<flow>()`` (the graflow workflow) + ``<flow>(params)`` (same signature:
  runs the workflow with the parameters in the initial channel, returns what the flow returned).
* In a flow body: task calls → graflow task nodes wired with ``>>`` in program order; results
  passed to later calls → keyword resolution (a task instance when the names line up, else a
  small task function in the builder that reads the upstream results from the context);
  independent ``.submit()`` calls → a parallel group; ``.map()`` / ``[t.submit(x) for x in xs]``
  / ``for x in xs: t(x)`` → a task that adds one task per item at run time (``next_task`` of a
  parallel group); ``wait_for`` → edges; subflow calls → a task running the converted subflow;
  ``if`` with task calls → a branch task choosing the tasks to run (``next_task``);
  ``get_run_logger()`` → ``logging.getLogger(__name__)``; other statements → small tasks.
* Whatever cannot be converted stays as it was under a ``# TODO(graflow-migrate):`` comment and
  is reported (:class:`~graflow_migrate.report.MigrationReport`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from graflow_migrate import _imports
from graflow_migrate._options import translate_retries
from graflow_migrate._source import (
    Lines,
    Output,
    identifier,
    is_literal,
    literal_number,
    literal_numbers,
    names_of,
    todo_comments,
)
from graflow_migrate._workflow import Binding, Node, Param, WorkflowPlan, call_lines
from graflow_migrate.report import MigrationReport

__all__ = ["convert_prefect"]

_FLOW = {"prefect.flow", "prefect.flows.flow", "prefect.main.flow"}
_TASK = {"prefect.task", "prefect.tasks.task", "prefect.main.task"}
_LOGGER = {
    "prefect.get_run_logger",
    "prefect.logging.get_run_logger",
    "prefect.logging.loggers.get_run_logger",
}
_UNMAPPED = {"prefect.unmapped", "prefect.utilities.annotations.unmapped"}
_WAIT = {"prefect.futures.wait", "prefect.wait"}
_BACKOFF = {"prefect.tasks.exponential_backoff"}
_CONTEXTS = {"prefect.tags", "prefect.context.tags"}

#: Prefect task options without a graflow counterpart: (severity, reason, suggestion).
_TASK_DROPPED: dict[str, tuple[str, str, str]] = {
    "log_prints": (
        "info",
        "graflow does not capture print() into a run log",
        "prints go to stdout; use logging for run logs",
    ),
    "description": (
        "info",
        "graflow tasks have no description field",
        "keep the description in the function's docstring",
    ),
    "tags": ("info", "graflow tasks have no tags", "drop the tags or record them in a plugin"),
    "version": ("info", "graflow tasks have no version", "version the workflow instead"),
    "task_run_name": (
        "info",
        "graflow task ids are fixed when the workflow is built",
        "the converter generates ids; give instances task_id= for custom ids",
    ),
    "viz_return_value": ("info", "no graflow counterpart", "drop it"),
}
_TASK_TODO_REASON = {
    "cache_key_fn": "Prefect result caching has no graflow counterpart",
    "cache_expiration": "Prefect result caching has no graflow counterpart",
    "cache_policy": "Prefect result caching has no graflow counterpart",
    "refresh_cache": "Prefect result caching has no graflow counterpart",
    "persist_result": "Prefect result persistence has no graflow counterpart",
    "result_storage": "Prefect result persistence has no graflow counterpart",
    "result_storage_key": "Prefect result persistence has no graflow counterpart",
    "result_serializer": "Prefect result persistence has no graflow counterpart",
    "cache_result_in_memory": "Prefect result persistence has no graflow counterpart",
    "on_completion": "state hooks have no per-task graflow counterpart",
    "on_failure": "state hooks have no per-task graflow counterpart",
    "on_commit": "transaction hooks have no graflow counterpart",
    "on_rollback": "transaction hooks have no graflow counterpart",
    "on_running": "state hooks have no per-task graflow counterpart",
    "retry_condition_fn": "graflow retries every failure",
    "asset_deps": "Prefect assets have no graflow counterpart",
}
_FLOW_DROPPED: dict[str, tuple[str, str, str]] = {
    "description": (
        "info",
        "graflow workflows have no description field",
        "it is kept as the runner function's docstring",
    ),
    "log_prints": (
        "info",
        "graflow does not capture print() into a run log",
        "prints go to stdout; use logging for run logs",
    ),
    "task_runner": (
        "info",
        "graflow runs parallel groups on threads (thread_count = CPUs)",
        "use .with_execution(backend=..., backend_config={'thread_count': n}) "
        "on a parallel group for other settings",
    ),
    "validate_parameters": (
        "info",
        "graflow does not validate parameters with pydantic",
        "validate in the first task if you rely on it",
    ),
    "flow_run_name": ("info", "graflow runs have no display name", "drop it"),
    "retries": (
        "lossy",
        "Prefect re-runs the whole flow; graflow has no workflow-level retry",
        "give the tasks retries (RetryPolicy) or retry the runner call",
    ),
    "retry_delay_seconds": (
        "lossy",
        "belongs to the flow's retries (not converted)",
        "give the tasks a RetryPolicy",
    ),
    "timeout_seconds": (
        "lossy",
        "graflow has no workflow-level timeout",
        "give the tasks timeout= values",
    ),
    "persist_result": (
        "todo",
        "Prefect result persistence has no graflow counterpart",
        "checkpoint the workflow (ctx.checkpoint) or store results yourself",
    ),
    "result_storage": (
        "todo",
        "Prefect result persistence has no graflow counterpart",
        "checkpoint the workflow (ctx.checkpoint) or store results yourself",
    ),
    "result_serializer": (
        "todo",
        "Prefect result persistence has no graflow counterpart",
        "store results yourself",
    ),
    "cache_result_in_memory": ("info", "no graflow counterpart", "drop it"),
    "on_completion": (
        "todo",
        "flow state hooks have no graflow counterpart",
        "use a graflow plugin's workflow_end hook or wrap the runner call",
    ),
    "on_failure": (
        "todo",
        "flow state hooks have no graflow counterpart",
        "use a graflow plugin's workflow_end hook or wrap the runner call",
    ),
    "on_cancellation": (
        "todo",
        "flow state hooks have no graflow counterpart",
        "wrap the runner call",
    ),
    "on_crashed": ("todo", "flow state hooks have no graflow counterpart", "wrap the runner call"),
    "on_running": (
        "todo",
        "flow state hooks have no graflow counterpart",
        "use a graflow plugin's workflow_start hook",
    ),
}


class _Unsupported(Exception):
    def __init__(self, node: cst.CSTNode | None, construct: str, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.node = node
        self.construct = construct
        self.reason = reason
        self.fix = fix


@dataclass
class TaskDef:
    """A Prefect task defined at the top level of the converted module."""

    name: str
    task_id: str
    params: list[Param] | None
    options: list[tuple[str, str]] = field(default_factory=list)
    has_retries: bool = False

    def options_without_id(self) -> list[tuple[str, str]]:
        """The graflow ``@task`` keyword arguments except ``id`` (copied onto call adapters)."""
        return [(k, v) for k, v in self.options if k != "id"]


@dataclass
class FlowDef:
    """A Prefect flow defined at the top level of the converted module."""

    name: str
    node: cst.FunctionDef
    decorator: cst.Decorator
    plan: WorkflowPlan | None = None
    failure: _Unsupported | None = None
    notes: list[tuple[cst.CSTNode, str, str, str, str]] = field(default_factory=list)


def convert_prefect(lines: Lines, report: MigrationReport, tree: ast.Module) -> str:
    """Convert the Prefect module behind ``lines``; findings go into ``report``."""
    conv = _Converter(lines, report, tree)
    conv.collect()
    return conv.transform()


def _params(fn: cst.FunctionDef, module: cst.Module) -> list[Param]:
    out: list[Param] = []
    p = fn.params

    def one(param: cst.Param, kind: str) -> Param:
        default = module.code_for_node(param.default) if param.default is not None else None
        ann = (
            module.code_for_node(param.annotation.annotation)
            if param.annotation is not None
            else None
        )
        return Param(param.name.value, default, ann, kind)

    out += [one(x, "positional_only") for x in p.posonly_params]
    out += [one(x, "positional") for x in p.params]
    if isinstance(p.star_arg, cst.Param):
        out.append(one(p.star_arg, "var_positional"))
    out += [one(x, "keyword") for x in p.kwonly_params]
    if p.star_kwarg is not None:
        out.append(one(p.star_kwarg, "var_keyword"))
    return out


def _is_lib(module: str, library: str) -> bool:
    return module == library or module.startswith(library + ".")


class _Converter:
    """The Prefect converter; the Airflow front end subclasses it."""

    library = "prefect"

    def __init__(self, lines: Lines, report: MigrationReport, tree: ast.Module) -> None:
        self.module = lines.module
        self.lines = lines
        self.tree = tree
        self.report = report
        self.lib_names: dict[str, str] = {}
        self.lib_modules: dict[str, str] = {}
        self.tasks: dict[str, TaskDef] = {}
        self.flows: dict[str, FlowDef] = {}
        self.top_names: set[str] = set()
        self.decorators: dict[str, cst.Decorator] = {}
        self.imports_needed: set[str] = set()
        self.needs_logging = False
        self.async_defs: set[str] = set()
        self.todo_options: dict[str, list[str]] = {}
        self.unsupported_defs: dict[str, str] = {}
        self._trigger: Any = None
        self._clean_res: Any = None
        self._attr_re: Any = None
        self._code_cache: dict[cst.CSTNode, str] = {}

    # -- helpers -------------------------------------------------------------------------------

    def line(self, node: cst.CSTNode | None) -> int:
        return self.lines.line(node)

    def code(self, node: cst.CSTNode) -> str:
        """The source code of ``node`` (memoised: libcst's code generation is slow)."""
        text = self._code_cache.get(node)
        if text is None:
            text = self._code_cache[node] = self.module.code_for_node(node)
        return text

    def clean(self, code: str, *, strip_results: bool = True) -> str:
        """A flow-body snippet with the expression rewrites applied (logger, ``.fn``) and
        ``.result()`` calls removed (futures are plain values in graflow).

        Done on the text with regular expressions: parsing every snippet with libcst made
        conversion several times slower.
        """
        if self._clean_res is None:
            loggers = [n for n, q in self.lib_names.items() if q in _LOGGER]
            loggers += [
                f"{alias}.{rest}"
                for alias, module in self.lib_modules.items()
                for q in _LOGGER
                if q.startswith(module + ".")
                for rest in [q[len(module) + 1 :]]
            ]
            self._clean_res = (
                re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, loggers)) + r")\(\s*\)")
                if loggers
                else None,
                re.compile(r"\b(" + "|".join(map(re.escape, self.tasks)) + r")\.fn\b")
                if self.tasks
                else None,
            )
        logger_re, fn_re = self._clean_res
        if strip_results and ".result(" in code:
            code = _RESULT_CALL.sub("", code)
        if strip_results and ".wait(" in code:
            code = _WAIT_CALL.sub("", code)
        if logger_re is not None and logger_re.search(code):
            code = logger_re.sub("logging.getLogger(__name__)", code)
            self.needs_logging = True
        if fn_re is not None:
            code = fn_re.sub(r"\1.func", code)
        return code

    def qualified(self, expr: cst.BaseExpression) -> str | None:
        """The Prefect name ``expr`` refers to (``"prefect.task"``), or None."""
        if isinstance(expr, cst.Call):
            return None
        parts: list[str] = []
        while isinstance(expr, cst.Attribute):
            parts.append(expr.attr.value)
            expr = expr.value
        if not isinstance(expr, cst.Name):
            return None
        base = self.lib_names.get(expr.value) or self.lib_modules.get(expr.value)
        if base is None:
            return None
        return ".".join([base, *reversed(parts)])

    #: qualified names of the flow (DAG) and task decorators of the front end
    flow_decorators: frozenset[str] = frozenset(_FLOW)
    task_decorators: frozenset[str] = frozenset(_TASK)

    def decorator_kind(self, dec: cst.Decorator) -> tuple[str | None, cst.Call | None]:
        """``("flow" | "task" | "other_task" | None, the decorator call or None)``;
        ``other_task``: a variant of the task decorator that is not converted (``@task.bash``)."""
        expr = dec.decorator
        call = expr if isinstance(expr, cst.Call) else None
        target = call.func if call is not None else expr
        name = self.qualified(target)
        if name in self.flow_decorators:
            return "flow", call
        if name in self.task_decorators:
            return "task", call
        if name is not None and any(name.startswith(t + ".") for t in self.task_decorators):
            return "other_task", call
        return None, None

    # -- pass 1: what the module defines -------------------------------------------------------

    def collect(self) -> None:
        for stmt in self.module.body:
            self._collect_imports(stmt)
        for stmt in self.module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self.top_names.add(stmt.name.value)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for node in self.lines.ast_nodes.get(id(stmt), ()):
                    self.top_names |= _stored_names(node)
            if isinstance(stmt, cst.FunctionDef):
                for dec in stmt.decorators:
                    kind, call = self.decorator_kind(dec)
                    if kind is None:
                        continue
                    self.decorators[stmt.name.value] = dec
                    if kind not in ("task", "flow"):
                        self.unsupported_defs[stmt.name.value] = self.code(dec.decorator)
                    elif stmt.asynchronous is not None:
                        self.async_defs.add(stmt.name.value)
                    elif kind == "task":
                        self.tasks[stmt.name.value] = self._task_def(stmt, call)
                    else:
                        self.flows[stmt.name.value] = FlowDef(stmt.name.value, stmt, dec)
                    break
        for flow in self.flows.values():
            self._plan_flow(flow)

    def _collect_imports(self, stmt: cst.CSTNode) -> None:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return
        for small in stmt.body:
            if isinstance(small, cst.ImportFrom) and small.module is not None:
                mod = self.code(small.module)
                if small.relative or not _is_lib(mod, self.library):
                    continue
                if isinstance(small.names, cst.ImportStar):
                    continue
                for alias in small.names:
                    local = (
                        alias.asname.name.value  # type: ignore[union-attr]
                        if alias.asname is not None
                        else self.code(alias.name)
                    )
                    self.lib_names[local] = f"{mod}.{self.code(alias.name)}"
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    full = self.code(alias.name)
                    if not _is_lib(full, self.library):
                        continue
                    if alias.asname is not None:
                        self.lib_modules[alias.asname.name.value] = full  # type: ignore[union-attr]
                    else:
                        top = full.split(".")[0]
                        self.lib_modules[top] = top

    def _task_def(self, fn: cst.FunctionDef, call: cst.Call | None) -> TaskDef:
        name = fn.name.value
        params = _params(fn, self.module)
        task = TaskDef(name, name, params)
        if call is None:
            return task
        opts: dict[str, cst.Arg] = {}
        for arg in call.args:
            if arg.keyword is None:
                # @task("name") is not valid Prefect; keep it as the id
                if not arg.star and is_literal(self.code(arg.value)):
                    opts.setdefault("name", arg)
                continue
            opts[arg.keyword.value] = arg
        self._task_options(task, opts, fn)
        return task

    def _task_options(self, task: TaskDef, opts: dict[str, cst.Arg], fn: cst.FunctionDef) -> None:
        line = self.line(fn)
        out: list[tuple[str, str]] = []
        if "name" in opts:
            code = self.code(opts["name"].value)
            out.append(("id", code))
            try:
                import ast

                value = ast.literal_eval(code)
                if isinstance(value, str) and value:
                    task.task_id = value
            except (ValueError, SyntaxError):
                pass
        if "retries" in opts:
            retries = self.code(opts["retries"].value)
            rv = literal_number(retries)
            task.has_retries = rv is None or rv > 0
            delays: list[float] | None = None
            base: float | None = None
            lossy: str | None = None
            if "retry_delay_seconds" in opts:
                dnode = opts["retry_delay_seconds"].value
                dcode = self.code(dnode)
                single = literal_number(dcode)
                if single is not None:
                    delays = [single]
                elif (listed := literal_numbers(dcode)) is not None:
                    delays = listed
                elif isinstance(dnode, cst.Call) and self.qualified(dnode.func) in _BACKOFF:
                    arg = next(iter(dnode.args), None)
                    base = literal_number(self.code(arg.value)) if arg is not None else None
                    if base is None:
                        lossy = f"retry delays {dcode} are not literal numbers; no delay used"
                else:
                    lossy = f"retry delays {dcode} are not literal numbers; no delay used"
            jitter = "retry_jitter_factor" in opts
            tr = translate_retries(
                retries,
                delays,
                jitter=jitter,
                exponential_base=base,
                retries_value=int(rv) if rv is not None else None,
            )
            out += tr.kwargs
            if tr.uses_policy:
                self.imports_needed.add("RetryPolicy")
            for why in (lossy, tr.lossy):
                if why:
                    self.report.add(
                        line,
                        "@task(retry_delay_seconds=...)",
                        "lossy",
                        why,
                        "check the RetryPolicy against the delays you need",
                    )
        elif "retry_delay_seconds" in opts:
            self.report.add(
                line,
                "@task(retry_delay_seconds=...)",
                "info",
                "a retry delay without retries has no effect",
                "drop it",
            )
        if "timeout_seconds" in opts:
            out.append(("timeout", self.code(opts["timeout_seconds"].value)))
        for key in opts:
            if key in {
                "name",
                "retries",
                "retry_delay_seconds",
                "retry_jitter_factor",
                "timeout_seconds",
            }:
                continue
            if key in _TASK_DROPPED:
                sev, why, fix = _TASK_DROPPED[key]
                self.report.add(line, f"@task({key}=...)", sev, f"dropped: {why}", fix)
            else:
                why = _TASK_TODO_REASON.get(
                    key, f"the Prefect task option {key!r} is not known to graflow-migrate"
                )
                self.report.add(
                    line,
                    f"@task({key}=...)",
                    "todo",
                    why,
                    "implement it in the task body or a graflow plugin",
                )
                self.todo_options.setdefault(task.name, []).append(
                    f"@task({key}={self.code(opts[key].value)}) was dropped: {why}"
                )
        task.options = out

    # -- flows ---------------------------------------------------------------------------------

    def _plan_flow(self, flow: FlowDef) -> None:
        try:
            flow.plan = _FlowPlanner(self, flow).plan()
        except _Unsupported as exc:
            flow.failure = exc
            flow.plan = None

    # -- pass 2: rewriting ---------------------------------------------------------------------

    def transform(self) -> str:
        """The converted module (text splicing over the original, see :class:`Output`)."""
        out = Output(self.lines)
        for stmt in self.module.body:
            if self.top_statement(stmt, out) or _is_import(stmt):
                continue
            name = stmt.name.value if isinstance(stmt, cst.FunctionDef) else None
            if name is not None and name in self.unsupported_defs:
                what = self.unsupported_defs[name]
                self.report.add(
                    self.line(stmt),
                    f"@{what}",
                    "todo",
                    f"@{what} tasks are not converted",
                    "rewrite it as a plain task and convert again",
                )
                out.prepend(stmt, todo_comments(f"@{what} is not converted"))
                self._plain_statement(stmt, out)
            elif isinstance(stmt, cst.FunctionDef) and name in self.flows:
                self._flow_statement(self.flows[name], stmt, out)
            elif isinstance(stmt, cst.FunctionDef) and name in self.tasks:
                out.set(stmt, self._task_text(self.tasks[name], stmt, top=True))
            elif name is not None and name in self.async_defs:
                self.report.add(
                    self.line(stmt),
                    f"async def {name}",
                    "todo",
                    "async Prefect tasks and flows are not converted",
                    "make it a plain def (graflow runs tasks on threads) and convert it again",
                )
                out.prepend(stmt, todo_comments("async Prefect tasks/flows are not converted"))
            else:
                self._plain_statement(stmt, out)
        return _imports.finish(
            out,
            self.report,
            graflow_names=self.imports_needed,
            original="".join(self.lines.raw_lines),
            needs_logging=self.needs_logging,
            library=self.library,
        )

    def top_statement(self, stmt: cst.BaseStatement, out: Output) -> bool:
        """A front end's own handling of a top-level statement (True: handled)."""
        return False

    def _plain_statement(self, stmt: cst.BaseStatement, out: Output, *, flag: bool = True) -> None:
        """A statement outside tasks and flows: expression rewrites, leftover Prefect APIs."""
        if not self.touches(stmt):
            return
        text = out.original(stmt)
        new = self.clean(text, strip_results=False)
        if new != text:
            out.set(stmt, new)
        if not flag or not (self.flows or self.tasks):
            return
        if self._attr_re is None:
            names = "|".join(re.escape(n) for n in [*self.flows, *self.tasks])
            self._attr_re = re.compile(r"(?<![\w.])(" + names + r")\.([A-Za-z_]\w*)")
        found = sorted(
            {
                f"{m.group(1)}.{m.group(2)}"
                for m in self._attr_re.finditer(new)
                if m.group(2) not in _ALLOWED_ATTRIBUTES
            }
        )
        if not found:
            return
        what = ", ".join(found)
        self.report.add(
            self.line(stmt),
            what,
            "todo",
            "a Prefect flow/task API (deployments, serving, options) has no graflow counterpart",
            "deploy the workflow with a graflow bridge (e.g. "
            "graflow_prefect.to_prefect_flow) or call the runner function",
        )
        out.prepend(
            stmt, todo_comments(f"{what}: Prefect flow/task API with no graflow counterpart")
        )

    def touches(self, stmt: cst.CSTNode) -> bool:
        """Whether the rewrites can apply to the top-level ``stmt`` (checked on its text)."""
        text = self.lines.segment(stmt)
        if not text:
            return True
        if self._trigger is None:
            names = [*self.lib_names, *self.lib_modules, *self.flows, *self.tasks]
            self._trigger = (
                re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")
                if names
                else re.compile(r"(?!x)x")
            )
        return self._trigger.search(text) is not None

    def _task_text(self, task: TaskDef, fn: cst.FunctionDef, *, top: bool) -> str:
        """The task's function with the graflow ``@task`` decorator (and TODO comments)."""
        self.imports_needed.add("task")
        self.report.count("task")
        decorator = (
            call_lines("@task", [f"{k}={v}" for k, v in task.options], 0)
            if task.options
            else ["@task"]
        )
        todos = [c for why in self.todo_options.get(task.name, []) for c in todo_comments(why)]
        kinds = [self.decorator_kind(d)[0] for d in fn.decorators]
        raw = self.lines.raw_lines
        nodes = self.lines.ast_nodes.get(id(fn)) if top else None
        parts: list[str] = []
        if nodes and isinstance(nodes[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
            node = nodes[0]
            for kind, expr in zip(kinds, node.decorator_list, strict=False):
                if kind == "task":
                    parts += [line + "\n" for line in [*todos, *decorator]]
                else:
                    end = expr.end_lineno or expr.lineno
                    parts.append("".join(raw[expr.lineno - 1 : end]))
            body = "".join(raw[node.lineno - 1 : node.end_lineno])
        else:
            for kind, dec in zip(kinds, fn.decorators, strict=False):
                if kind == "task":
                    parts += [line + "\n" for line in [*todos, *decorator]]
                else:
                    parts.append(self.module.code_for_node(dec.with_changes(leading_lines=[])))
            body = self.module.code_for_node(fn.with_changes(decorators=[], leading_lines=[]))
        return "".join(parts) + self.clean(body, strip_results=False)

    def _flow_statement(self, flow: FlowDef, fn: cst.FunctionDef, out: Output) -> None:
        text = self._flow_text(flow, fn)
        if text is None:
            exc = flow.failure
            assert exc is not None
            line = self.lines.line(exc.node, within=fn) or self.line(fn)
            self.report.add(line, exc.construct, "todo", exc.reason, exc.fix)
            self.report.add(
                self.line(fn),
                f"@flow {flow.name}",
                "todo",
                "the flow was left as Prefect code because of the construct above",
                "rewrite that part (see the other findings) and convert again, or "
                "finish the flow by hand",
            )
            out.prepend(fn, todo_comments(f"flow not converted: {exc.reason} (line {line})"))
            self._plain_statement(fn, out, flag=False)
            return
        out.set(fn, text)

    def _flow_text(self, flow: FlowDef, fn: cst.FunctionDef) -> str | None:
        """The builder and runner functions of a converted flow (None: not converted)."""
        if flow.plan is None:
            return None
        for node, construct, sev, why, fix in flow.notes:
            self.report.add(
                self.lines.line(node, within=fn) or self.line(fn), construct, sev, why, fix
            )
        self.report.count("flow")
        code = flow.plan.render()
        self.imports_needed |= flow.plan.imports
        if "logging.getLogger" in code:
            self.needs_logging = True
        todos = [why for node, c, sev, why, fix in flow.notes if sev == "todo"]
        lead = [c for why in todos for c in todo_comments(why)]
        return "".join(line + "\n" for line in lead) + code + "\n"


_ALLOWED_ATTRIBUTES = {"func", "fn", "run", "__name__", "__doc__", "task_id", "__wrapped__"}


#: ``.result()`` / ``.result(raise_on_failure=True, timeout=5)`` (keyword arguments only)
_RESULT_CALL = re.compile(
    r"\.result\(\s*(?:[A-Za-z_]\w*\s*=\s*[^(),]+(?:,\s*[A-Za-z_]\w*\s*=\s*[^(),]+)*\s*,?)?\s*\)"
)


#: ``future.wait()`` / ``future.wait(timeout=5)``: values need no waiting in graflow
_WAIT_CALL = re.compile(r"\.wait\(\s*(?:timeout\s*=\s*[^(),]+)?\s*\)")


def _stored_names(node: ast.stmt) -> set[str]:
    """The names a top-level simple statement binds."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _any(value: Any) -> Any:
    return value


def _no_lead(stmt: Any) -> Any:
    """``stmt`` without the blank lines and comments above it."""
    return stmt.with_changes(leading_lines=[])


def _has_call(node: cst.CSTNode) -> bool:
    found = False

    class _V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            nonlocal found
            found = True

    node.visit(_V())
    return found


def _is_import(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


# ------------------------------------------------------------------------------------------
# flow bodies
# ------------------------------------------------------------------------------------------


@dataclass
class _Call:
    """A recognised task/flow call in a flow body."""

    node: cst.Call
    callee: str
    mode: str  # call | submit | map | subflow
    args: list[cst.Arg]


class _FlowPlanner:
    #: the id of a fan-out node is the task's id plus this (Airflow: the task's own id)
    map_suffix = "_map"

    def __init__(self, conv: _Converter, flow: FlowDef) -> None:
        self.conv = conv
        self.flow = flow
        self.fn = flow.node
        self.code = conv.code
        self.callables = set(conv.tasks) | set(conv.flows)
        self.notes = flow.notes
        self.tmp = 0

    def unsupported(
        self, node: cst.CSTNode | None, construct: str, reason: str, fix: str
    ) -> _Unsupported:
        return _Unsupported(node, construct, reason, fix)

    def early_return(self, stmt: cst.CSTNode) -> _Unsupported:
        return self.unsupported(
            stmt,
            "return",
            "an early return cannot be converted",
            "make the return the last statement of the flow",
        )

    def note(self, node: cst.CSTNode, construct: str, sev: str, why: str, fix: str) -> None:
        self.notes.append((node, construct, sev, why, fix))

    # -- set-up --------------------------------------------------------------------------------

    def plan(self) -> WorkflowPlan:
        fn = self.fn
        name = fn.name.value
        params = _params(fn, self.conv.module)
        for p in params:
            if p.kind in ("var_positional", "var_keyword"):
                raise self.unsupported(
                    fn,
                    f"def {name}({p.source()})",
                    "flow parameters *args/**kwargs have no graflow "
                    "counterpart (parameters are channel keys)",
                    "give the flow named parameters",
                )
        wf_name = name
        _, call = self.conv.decorator_kind(self.flow.decorator)
        version = None
        if call is not None:
            for arg in call.args:
                key = arg.keyword.value if arg.keyword is not None else "name"
                value = self.code(arg.value)
                if key == "name":
                    import ast

                    try:
                        lit = ast.literal_eval(value)
                        wf_name = lit if isinstance(lit, str) and lit else wf_name
                    except (ValueError, SyntaxError):
                        self.note(
                            arg,
                            "@flow(name=...)",
                            "info",
                            "the flow name is not a literal; the function name is used",
                            "give the workflow a literal name",
                        )
                elif key == "version":
                    version = value
                elif key in _FLOW_DROPPED:
                    sev, why, fix = _FLOW_DROPPED[key]
                    self.note(arg, f"@flow({key}=...)", sev, f"dropped: {why}", fix)
                else:
                    self.note(
                        arg,
                        f"@flow({key}=...)",
                        "todo",
                        f"the Prefect flow option {key!r} is not known to graflow-migrate",
                        "check whether it matters and implement it by hand",
                    )
        docstring = self._docstring()
        returns = self.code(fn.returns.annotation) if fn.returns is not None else None
        plan = WorkflowPlan(
            wf_name,
            name,
            params,
            reserved=self.conv.top_names | self.callables,
            docstring=docstring,
            returns=returns,
        )
        if version is not None:
            plan.workflow_kwargs.append(("version", version))
        self.wp = plan
        body = list(fn.body.body) if isinstance(fn.body, cst.IndentedBlock) else []
        if not isinstance(fn.body, cst.IndentedBlock):
            body = []  # a one-line body "def f(): return x" (SimpleStatementSuite)
            suite: Any = fn.body
            for small in suite.body:
                body.append(cst.SimpleStatementLine(body=[small]))
        if docstring is not None and body:
            body = body[1:]
        self.pending_glue: list[cst.BaseStatement] = []
        counts: dict[str, int] = {}
        for stmt in body:
            for name in names_of(self.code(stmt)).stores:
                counts[name] = counts.get(name, 0) + 1
        #: names assigned by several statements: never builder constants
        self.reassigned = {n for n, c in counts.items() if c > 1}
        for index, stmt in enumerate(body):
            self.statement(stmt, is_last=index == len(body) - 1)
        self.flush_glue()
        self.return_in_builder()
        return plan

    def return_in_builder(self) -> None:
        """A return value using names defined in the builder (helpers, constants) is
        computed by a last task, where those names are visible."""
        expr = self.wp.return_expr
        if expr is None or not names_of(expr).loads & self.wp.setup_names:
            return
        node_id = self.wp.new_id(f"{identifier(self.wp.runner)}_result")
        self.wp.function_node(node_id, [f"return {expr}"], names_of(expr).loads)
        name = f"{identifier(node_id)}_value"
        self.wp.env[name] = Binding(node_id)
        self.wp.return_expr = name

    def _docstring(self) -> str | None:
        doc = self.fn.get_docstring(clean=False)
        if doc is None:
            return None
        body = self.fn.body
        first = body.body[0] if isinstance(body, cst.IndentedBlock) and body.body else None
        if isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr):
            value = first.body[0].value
            if isinstance(value, cst.SimpleString) and value.prefix == "" and value.quote == '"""':
                return value.evaluated_value if isinstance(value.evaluated_value, str) else None
        return " ".join(doc.split())

    # -- statements ----------------------------------------------------------------------------

    def refs(self, node: cst.CSTNode) -> set[str]:
        return set(names_of(self.code(node)).loads) & (self.callables | self._prefect_api())

    def _prefect_api(self) -> set[str]:
        return {n for n, q in self.conv.lib_names.items() if q in _WAIT or q in _UNMAPPED}

    def statement(self, stmt: cst.BaseStatement, is_last: bool) -> None:
        if isinstance(stmt, cst.FunctionDef) and any(
            self.conv.decorator_kind(d)[0] is not None for d in stmt.decorators
        ):
            raise self.unsupported(
                stmt,
                f"def {stmt.name.value} inside a flow",
                "tasks and flows defined inside a flow are not converted",
                "move the definition to module level",
            )
        refs = self.refs(stmt)
        if not refs:
            self.plain(stmt, is_last)
            return
        self.flush_glue()
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            self.simple(stmt, stmt.body[0], is_last)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.simple(stmt, small, False)
        elif isinstance(stmt, cst.If):
            self.branch(stmt)
        elif isinstance(stmt, cst.For):
            self.loop(stmt)
        elif isinstance(stmt, cst.With) and self._prefect_context(stmt):
            self.note(
                stmt,
                "with tags(...)",
                "info",
                "Prefect tags/options context dropped; its body was converted",
                "nothing to do (graflow tasks have no tags)",
            )
            inner = (
                stmt.body.body
                if isinstance(stmt.body, cst.IndentedBlock)
                else [cst.SimpleStatementLine(body=[s]) for s in _any(stmt.body).body]
            )
            for index, child in enumerate(inner):
                self.statement(child, is_last=is_last and index == len(inner) - 1)
        else:
            kind = type(stmt).__name__.lower()
            raise self.unsupported(
                stmt,
                f"{kind} statement with task calls",
                f"task calls inside a {kind} statement cannot be expressed as a static graph",
                "move the task calls out of it, or run this part inside one task",
            )

    def _prefect_context(self, stmt: cst.With) -> bool:
        """``with tags("x"):`` (a Prefect context manager without run-time meaning here)."""
        return all(
            isinstance(item.item, cst.Call)
            and self.conv.qualified(item.item.func) in _CONTEXTS
            and item.asname is None
            for item in stmt.items
        )

    def plain(self, stmt: cst.BaseStatement, is_last: bool) -> None:
        """A statement without task calls: builder set-up, the flow's return, or glue."""
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and not (
            names_of(self.code(stmt)).loads & (set(self.wp.env) | self.wp.param_names)
        ):
            # a helper defined in the flow: defined once in the builder, used by the tasks
            self.wp.setup += self.code(_no_lead(stmt)).rstrip("\n").split("\n")
            self.wp.setup_names.add(stmt.name.value)
            return
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            if isinstance(small, cst.Return):
                if not is_last:
                    raise self.early_return(stmt)
                self.flush_glue()
                self.wp.return_expr = (
                    self.conv.clean(self.code(small.value)) if small.value is not None else None
                )
                return
            if self._is_setup(stmt, small):
                self.wp.setup.append(
                    self.conv.clean(self.code(stmt.with_changes(leading_lines=[]))).strip()
                )
                return
            if isinstance(small, cst.Pass):
                return
        if self._returns_inside(stmt):
            raise self.unsupported(
                stmt,
                "return",
                "a return inside a block cannot be converted",
                "make the return the last statement of the flow",
            )
        self.pending_glue.append(stmt)

    def _returns_inside(self, stmt: cst.CSTNode) -> bool:
        found = False

        class _V(cst.CSTVisitor):
            def visit_Return(self, node: cst.Return) -> None:
                nonlocal found
                found = True

            def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                return False

            def visit_Lambda(self, node: cst.Lambda) -> bool:
                return False

        stmt.visit(_V())
        return found

    def _is_setup(self, stmt: cst.BaseStatement, small: cst.BaseSmallStatement) -> bool:
        """An assignment from module-level names only: it runs in the builder (before the
        workflow starts); after the first node only when it calls nothing."""
        if not isinstance(small, (cst.Assign, cst.AnnAssign)):
            return False
        if (self.wp.nodes or self.pending_glue) and _has_call(small):
            return False
        names = names_of(self.code(stmt))
        if names.stores & getattr(self, "reassigned", set()):
            return False
        dynamic = set(self.wp.env) | self.wp.param_names | set(self.wp.setup_names)
        if self.wp.nodes and names.stores & set(self.wp.setup_names):
            return False
        if names.loads & (set(self.wp.env) | self.wp.param_names) or names.stores & dynamic:
            return False
        self.wp.setup_names.update(names.stores)
        return True

    def flush_glue(self) -> None:
        if not self.pending_glue:
            return
        stmts, self.pending_glue = self.pending_glue, []
        text = "".join(self.code(_no_lead(s)) for s in stmts)
        names = names_of(text)
        comments = [c for s in stmts for c in _comments(s)]
        stores = sorted(n for n in names.stores if n not in self.wp.param_names)
        body = self.conv.clean(text).rstrip("\n").split("\n")
        later = stores  # every assigned name may be used later
        if len(later) == 1:
            body.append(f"return {later[0]}")
        elif later:
            body.append(f"return ({', '.join(later)})")
        base = stores[0] if len(stores) == 1 else f"{identifier(self.wp.runner)}_step"
        node_id = self.wp.new_id(base)
        node = self.wp.function_node(node_id, body, names.loads)
        node.comments = comments
        if len(later) == 1:
            self.wp.env[later[0]] = Binding(node_id)
        else:
            for i, n in enumerate(later):
                self.wp.env[n] = Binding(node_id, "item", i)
        if any(n in self.wp.param_names for n in names.stores):
            self.note(
                stmts[0],
                "assignment to a flow parameter",
                "lossy",
                "reassigning a flow parameter is only visible inside this step",
                "use a new variable name",
            )

    def simple(
        self, stmt: cst.SimpleStatementLine, small: cst.BaseSmallStatement, is_last: bool
    ) -> None:
        comments = _comments(stmt)
        if isinstance(small, cst.Expr):
            value = small.value
            if self._is_wait(value):
                self.wp.barrier()
                return
            new = self.hoist(value, stmt, comments, result_name=None)
            if isinstance(new, cst.Name):
                return
            self.plain_expr(cst.SimpleStatementLine(body=[small.with_changes(value=new)]), stmt)
            return
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            name = target.value if isinstance(target, cst.Name) else None
            if (
                name is not None
                and isinstance(small.value, cst.Name)
                and small.value.value in self.wp.env
            ):
                self.wp.env[name] = self.wp.env[small.value.value]
                return
            new = self.hoist(small.value, stmt, comments, result_name=name)
            if isinstance(new, cst.Name) and name is not None:
                if new.value in self.wp.env:
                    self.wp.env[name] = self.wp.env[new.value]
                return
            self.plain_expr(cst.SimpleStatementLine(body=[small.with_changes(value=new)]), stmt)
            return
        if (
            isinstance(small, cst.AnnAssign)
            and small.value is not None
            and isinstance(small.target, cst.Name)
        ):
            name = small.target.value
            new = self.hoist(small.value, stmt, comments, result_name=name)
            if isinstance(new, cst.Name) and new.value in self.wp.env:
                self.wp.env[name] = self.wp.env[new.value]
                return
            self.plain_expr(cst.SimpleStatementLine(body=[small.with_changes(value=new)]), stmt)
            return
        if isinstance(small, cst.AugAssign):
            new = self.hoist(small.value, stmt, comments, result_name=None)
            self.plain_expr(cst.SimpleStatementLine(body=[small.with_changes(value=new)]), stmt)
            return
        if isinstance(small, cst.Return) and small.value is not None:
            if not is_last:
                raise self.early_return(stmt)
            new = self.hoist(small.value, stmt, comments, result_name=None)
            self.wp.return_expr = self.conv.clean(self.conv.module.code_for_node(new))
            return
        raise self.unsupported(
            stmt,
            type(small).__name__,
            "task calls in this statement cannot be converted",
            "assign the task call to a variable first",
        )

    def plain_expr(
        self, new_stmt: cst.SimpleStatementLine, original: cst.SimpleStatementLine
    ) -> None:
        if self.refs(new_stmt) & self.callables:
            raise self.unsupported(
                original,
                "task used as a value",
                "a task or flow is used other than by calling it",
                "call the task directly (or .submit/.map) in the flow body",
            )
        self.pending_glue.append(new_stmt.with_changes(leading_lines=original.leading_lines))
        self.flush_glue()

    def _is_wait(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.Call):
            if self.conv.qualified(value.func) in _WAIT:
                return True
            if (
                isinstance(value.func, cst.Attribute)
                and value.func.attr.value == "wait"
                and isinstance(value.func.value, cst.Name)
                and value.func.value.value in self.wp.env
            ):
                return True
        return False

    # -- recognising calls ---------------------------------------------------------------------

    def match(self, expr: cst.BaseExpression) -> _Call | None:
        """A task/flow call (``t(...)``, ``t.submit``, ``t.map``), ignoring ``.result()``."""
        expr = _unwrap_result(expr)
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        if isinstance(func, cst.Name) and func.value in self.callables:
            mode = "subflow" if func.value in self.conv.flows else "call"
            return _Call(expr, func.value, mode, list(expr.args))
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in self.conv.tasks
            and func.attr.value in ("submit", "map")
        ):
            return _Call(expr, func.value.value, func.attr.value, list(expr.args))
        return None

    def hoist(
        self,
        expr: cst.BaseExpression,
        stmt: cst.CSTNode,
        comments: list[str],
        result_name: str | None,
    ) -> cst.BaseExpression:
        """Turn the task calls in ``expr`` into nodes; returns ``expr`` with them replaced by
        the names of their results."""
        found = self.match(expr)
        if found is not None:
            node_id = self.call_node(found, stmt, comments)
            name = result_name or f"{identifier(node_id)}_result"
            self.wp.env[name] = self.wp.env.pop("__last__")
            return cst.Name(name)
        comp = self.match_comprehension(expr)
        if comp is not None:
            node_id = self.map_node(stmt, comments, *comp)
            name = result_name or f"{identifier(node_id)}_result"
            self.wp.env[name] = Binding(node_id, "map")
            return cst.Name(name)
        planner = self

        class _Hoister(cst.CSTTransformer):
            def visit_Lambda(self, node: cst.Lambda) -> bool:
                return False

            def visit_ListComp(self, node: cst.ListComp) -> bool:
                return planner.match_comprehension(node) is None

            def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
                return False

            def visit_SetComp(self, node: cst.SetComp) -> bool:
                return False

            def visit_DictComp(self, node: cst.DictComp) -> bool:
                return False

            def leave_ListComp(
                self, original: cst.ListComp, updated: cst.ListComp
            ) -> cst.BaseExpression:
                comp = planner.match_comprehension(original)
                if comp is None:
                    return updated
                node_id = planner.map_node(stmt, comments, *comp)
                name = f"{identifier(node_id)}_result"
                planner.wp.env[name] = Binding(node_id, "map")
                return cst.Name(name)

            def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
                found = planner.match(updated)
                if found is None:
                    return updated
                node_id = planner.call_node(found, stmt, comments)
                name = f"{identifier(node_id)}_result"
                planner.wp.env[name] = planner.wp.env.pop("__last__")
                return cst.Name(name)

        new = expr.visit(_Hoister())
        assert isinstance(new, cst.BaseExpression)
        return new

    def match_comprehension(self, expr: cst.BaseExpression) -> tuple[_Call, str, str] | None:
        """``[t.submit(x) for x in xs]`` → (call, target code, iterable code)."""
        if not isinstance(expr, cst.ListComp):
            return None
        comp = expr.for_in
        if comp.inner_for_in is not None or comp.ifs or comp.asynchronous is not None:
            return None
        call = self.match(expr.elt)
        if call is None or call.mode not in ("call", "submit"):
            return None
        return call, self.code(comp.target), self.code(comp.iter)

    # -- nodes ---------------------------------------------------------------------------------

    def split_args(self, call: _Call) -> tuple[list[cst.Arg], list[cst.BaseExpression]]:
        """The call's arguments without ``wait_for``, and the ``wait_for`` expressions."""
        args, waits = [], []
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "wait_for":
                value = arg.value
                if isinstance(value, (cst.List, cst.Tuple)):
                    waits += [el.value for el in value.elements]
                else:
                    waits.append(value)
            elif arg.keyword is not None and arg.keyword.value in ("return_state", "deployment"):
                raise self.unsupported(
                    arg,
                    f"{call.callee}({arg.keyword.value}=...)",
                    f"{arg.keyword.value}= has no graflow counterpart",
                    "remove it; graflow returns results, not states",
                )
            else:
                args.append(arg)
        return args, waits

    def wait_deps(self, waits: list[cst.BaseExpression], stmt: cst.CSTNode) -> set[str]:
        deps: set[str] = set()
        for w in waits:
            loads = names_of(self.code(w)).loads
            known = self.wp.deps_of(loads)
            if not known:
                self.note(
                    stmt,
                    "wait_for=...",
                    "info",
                    "wait_for names no task result of this flow; ignored",
                    "nodes already run in program order",
                )
            deps |= known
        return deps

    def hoist_args(
        self, args: list[cst.Arg], stmt: cst.CSTNode, comments: list[str]
    ) -> list[cst.Arg]:
        out = []
        for arg in args:
            value = self.hoist(arg.value, stmt, comments, result_name=None)
            out.append(arg.with_changes(value=value))
        return out

    def call_node(self, call: _Call, stmt: cst.CSTNode, comments: list[str]) -> str:
        """A node for one task/flow call; its binding is left in env['__last__']."""
        args, waits = self.split_args(call)
        if call.mode == "map":
            node_id = self.map_call(call, args, waits, stmt, comments)
            self.wp.env["__last__"] = Binding(node_id, "map")
            return node_id
        args = self.hoist_args(args, stmt, comments)
        deps = self.wait_deps(waits, stmt)
        concurrent = call.mode == "submit"
        if call.mode == "subflow":
            node_id = self.wp.new_id(call.callee)
            arg_code = ", ".join(self.code(a).rstrip(", ") for a in args)
            node = self.wp.function_node(
                node_id,
                [f"return {call.callee}({self.conv.clean(arg_code)})"],
                names_of(f"_({arg_code})").loads,
                deps=deps,
                doc=f"Run the subflow ``{call.callee}`` (a nested graflow workflow).",
            )
            self.note(
                stmt,
                f"subflow {call.callee}()",
                "info",
                "the subflow runs as a nested graflow workflow inside one task",
                "flatten it into this workflow if you want its tasks in this graph",
            )
        else:
            task = self.conv.tasks[call.callee]
            node_id = self.wp.new_id(task.task_id)
            node = self.task_call(task, node_id, args, deps, concurrent)
        node.comments = list(comments)
        comments.clear()
        self.wp.env["__last__"] = Binding(node_id)
        self.conv.report.count("task call")
        return node_id

    def task_call(
        self, task: TaskDef, node_id: str, args: list[cst.Arg], deps: set[str], concurrent: bool
    ) -> Node:
        bound = self.bind_args(task, args)
        if bound is not None:
            kwargs, reads = bound
            if self.direct_ok(task, kwargs, reads):
                return self.wp.instance_node(
                    node_id,
                    task.name,
                    [(k, v) for k, v in kwargs.items() if k not in reads],
                    deps=deps | self.wp.deps_of(reads.values()),
                    concurrent=concurrent,
                )
        arg_code = ", ".join(self.code(a).rstrip().rstrip(",") for a in args)
        return self.wp.function_node(
            node_id,
            [f"return {task.name}.func({self.conv.clean(arg_code)})"],
            names_of(f"_({arg_code})").loads,
            decorator=task.options_without_id(),
            deps=deps,
            concurrent=concurrent,
        )

    def bind_args(
        self, task: TaskDef, args: list[cst.Arg]
    ) -> tuple[dict[str, str], dict[str, str]] | None:
        """Map call arguments to parameter names: ({param: code}, {param: name read}) or None."""
        if task.params is None:
            return None
        positional = [p for p in task.params if p.kind in ("positional_only", "positional")]
        by_name = {p.name: p for p in task.params if p.kind != "positional_only"}
        if any(p.kind in ("var_positional", "var_keyword") for p in task.params):
            return None
        kwargs: dict[str, str] = {}
        index = 0
        for arg in args:
            if arg.star:
                return None
            code = self.conv.clean(self.code(arg.value))
            if arg.keyword is None:
                if index >= len(positional):
                    return None
                kwargs[positional[index].name] = code
                index += 1
            else:
                if arg.keyword.value not in by_name:
                    return None
                kwargs[arg.keyword.value] = code
        if any(p.kind == "positional_only" for p in task.params):
            return None
        reads = {
            k: v
            for k, v in kwargs.items()
            if v.isidentifier() and v in (set(self.wp.env) | self.wp.param_names)
        }
        return kwargs, reads

    def call_kwargs(
        self, task: TaskDef, call: _Call, stmt: cst.CSTNode, construct: str
    ) -> tuple[dict[str, str], list[cst.BaseExpression]]:
        """The call's arguments by parameter name and its ``wait_for`` expressions."""
        args, waits = self.split_args(call)
        bound = self.bind_args(task, args)
        if bound is None:
            raise self.unsupported(
                stmt,
                construct,
                "the arguments do not match the task's parameters",
                "pass the arguments by name",
            )
        return dict(bound[0]), waits

    def direct_ok(self, task: TaskDef, kwargs: dict[str, str], reads: dict[str, str]) -> bool:
        """True when an instance with bound kwargs gets exactly the call's arguments."""
        dynamic = set(self.wp.env) | self.wp.param_names
        for param, code in kwargs.items():
            if param in reads:
                source = reads[param]
                binding = self.wp.env.get(source)
                if binding is not None:
                    if binding.kind != "value" or binding.node != param:
                        return False
                elif source != param:
                    return False
            elif names_of(code).loads & dynamic:
                return False
        keys = self.wp.param_names | set(self.wp.ids) | {"__last__"}
        assert task.params is not None
        for p in task.params:
            if p.name not in kwargs and p.name in keys:
                if p.default is None or not is_literal(p.default):
                    return False
                kwargs[p.name] = p.default
            elif p.name not in kwargs and p.default is None:
                return False
        return True

    def instance_kwargs(self, task: TaskDef, kwargs: dict[str, str], stmt: cst.CSTNode) -> str:
        """``p=code, ...`` for a task instance created at run time (defaults bound on clashes)."""
        keys = self.wp.param_names | set(self.wp.ids)
        assert task.params is not None
        for p in task.params:
            if p.name not in kwargs and p.name in keys and p.default is not None:
                kwargs[p.name] = p.default
        return ", ".join(f"{k}={v}" for k, v in kwargs.items())

    def require_params(self, task: TaskDef, stmt: cst.CSTNode, what: str) -> None:
        if task.params is None or any(
            p.kind != "positional" and p.kind != "keyword" for p in task.params
        ):
            raise self.unsupported(
                stmt,
                what,
                f"{what} needs a task with plain named parameters",
                "give the task named parameters (no *args/**kwargs or /)",
            )

    def map_call(
        self,
        call: _Call,
        args: list[cst.Arg],
        waits: list[cst.BaseExpression],
        stmt: cst.CSTNode,
        comments: list[str],
    ) -> str:
        task = self.conv.tasks[call.callee]
        self.require_params(task, stmt, f"{call.callee}.map()")
        assert task.params is not None
        positional = [p.name for p in task.params if p.kind == "positional"]
        mapped: list[tuple[str, str]] = []
        static: dict[str, str] = {}
        index = 0
        for arg in args:
            if arg.star:
                raise self.unsupported(
                    stmt,
                    f"{call.callee}.map(*...)",
                    "star arguments in .map() cannot be converted",
                    "pass the iterables by name",
                )
            if arg.keyword is None:
                if index >= len(positional):
                    raise self.unsupported(
                        stmt, f"{call.callee}.map()", "too many arguments", "check the call"
                    )
                pname = positional[index]
                index += 1
            else:
                pname = arg.keyword.value
            value = arg.value
            if (
                isinstance(value, cst.Call)
                and self.conv.qualified(value.func) in _UNMAPPED
                and value.args
            ):
                static[pname] = self.code(value.args[0].value)
                continue
            hoisted = self.hoist(value, stmt, comments, result_name=None)
            code = self.conv.clean(self.code(hoisted))
            if is_literal(code) and not isinstance(_literal(code), (list, tuple, set, dict)):
                static[pname] = code
            else:
                mapped.append((pname, code))
        if not mapped:
            raise self.unsupported(
                stmt, f"{call.callee}.map()", ".map() without an iterable", "call the task directly"
            )
        items = [f"{identifier(p)}_item" for p, _ in mapped]
        kwargs = {p: item for (p, _), item in zip(mapped, items, strict=True)} | static
        if len(mapped) == 1:
            target, iterable = items[0], mapped[0][1]
        else:
            target = "(" + ", ".join(items) + ")"
            iterable = f"zip({', '.join(c for _, c in mapped)}, strict=True)"
        return self.map_node(
            stmt,
            comments,
            _Call(call.node, call.callee, "map", args),
            target,
            iterable,
            kwargs=kwargs,
            deps=self.wait_deps(waits, stmt),
        )

    def map_node(
        self,
        stmt: cst.CSTNode,
        comments: list[str],
        call: _Call,
        target: str,
        iterable: str,
        *,
        kwargs: dict[str, str] | None = None,
        deps: set[str] | None = None,
        sequential: bool = False,
    ) -> str:
        task = self.conv.tasks.get(call.callee)
        if task is None:
            raise self.unsupported(
                stmt,
                f"{call.callee} in a loop",
                "only tasks (not subflows) can be mapped",
                "call the subflow once per item by hand",
            )
        self.require_params(task, stmt, f"mapping {call.callee}")
        if kwargs is None:
            kwargs, waits = self.call_kwargs(task, call, stmt, f"{call.callee}(...) in a loop")
            deps = self.wait_deps(waits, stmt)
        node_id = self.wp.new_id(f"{task.task_id}{self.map_suffix}")
        kw = self.instance_kwargs(task, dict(kwargs), stmt)
        kw = f", {kw}" if kw else ""
        loop_target = target
        target_names = names_of(target).stores or names_of(f"{target} = 0").stores
        taken = (
            set(target_names)
            | set(names_of(iterable).loads)
            | {n for v in kwargs.values() for n in names_of(v).loads}
        )
        index = next(n for n in ("i", "index", "position", "_i", "_index") if n not in taken)
        body = [
            "tasks = [",
            f'    {task.name}(task_id=f"{node_id}[{{{index}}}]"{kw})',
            f"    for {index}, {loop_target} in enumerate({iterable})",
            "]",
        ]
        self.wp.imports.add("parallel")
        group = "parallel(*tasks)"
        if sequential:
            group += '.with_execution(backend_config={"thread_count": 1})'
        body += [
            "if len(tasks) > 1:",
            f"    ctx.next_task({group})",
            "elif tasks:",
            "    ctx.next_task(tasks[0])",
            "return [t.task_id for t in tasks]",
        ]
        used = set(names_of(iterable).loads) | {
            n for v in kwargs.values() for n in names_of(v).loads
        }
        used -= set(target_names)
        node = self.wp.function_node(
            node_id,
            body,
            used,
            deps=deps or set(),
            force_context=True,
            doc=f"Run ``{task.name}`` once per item"
            + (", one after another." if sequential else ", in parallel."),
        )
        node.comments = list(comments)
        comments.clear()
        if task.has_retries:
            self.note(
                stmt,
                f"{task.name} mapped with retries",
                "lossy",
                "a retried item of a task added at run time is re-queued after the "
                "workflow's next step, which may then see its first failure",
                "avoid retries on mapped tasks or check the results downstream",
            )
        self.note(
            stmt,
            f"{task.name} per item",
            "info",
            "one task per item is added when the workflow runs (next_task of a parallel "
            f"group); the ids are {node_id}[0], {node_id}[1], ...",
            "nothing to do; results reach later tasks as a list",
        )
        self.conv.report.count("map")
        return node_id

    def loop(self, stmt: cst.For) -> None:
        """``for x in xs: t(x)`` (one task call) → a fan-out node."""
        body = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []
        ok = (
            stmt.orelse is None
            and stmt.asynchronous is None
            and len(body) == 1
            and isinstance(body[0], cst.SimpleStatementLine)
            and len(body[0].body) == 1
            and isinstance(body[0].body[0], cst.Expr)
        )
        first: Any = body[0] if ok else None
        call = self.match(first.body[0].value) if ok else None
        if call is None or call.mode not in ("call", "submit"):
            raise self.unsupported(
                stmt,
                "for loop with task calls",
                "only a loop whose body is one task call is converted",
                "use task.map(...) or move the loop into a task",
            )
        if names_of(self.code(stmt.iter)).loads & {
            n for n, b in self.wp.env.items() if b.kind == "branch"
        }:
            pass
        self.map_node(
            stmt,
            _comments(stmt),
            call,
            self.code(stmt.target),
            self.code(stmt.iter),
            sequential=call.mode == "call",
        )
        if call.mode == "call":
            self.note(
                stmt,
                "for loop",
                "info",
                "the loop's task calls run one after another inside one parallel group "
                "(one thread)",
                "drop .with_execution(...) to run them in parallel",
            )

    def branch(self, stmt: cst.If) -> None:
        """``if cond: t1(...) else: t2(...)`` → a task that picks the tasks to run."""
        node_id = self.wp.new_id("branch")
        lines: list[str] = ["chosen = {}"]
        used: set[str] = set()
        assigned: set[str] = set()
        self._branch_lines(stmt, lines, used, assigned, "if")
        lines.append("return chosen")
        node = self.wp.function_node(
            node_id,
            lines,
            used,
            force_context=True,
            doc="Choose the tasks to run (was an if statement).",
        )
        node.comments = _comments(stmt)
        for name in assigned:
            self.wp.env[name] = Binding(node_id, "branch", key=name)
        self.note(
            stmt,
            "if statement",
            "info",
            f"the if statement became the task {node_id!r}, which queues the chosen "
            "branch's tasks with next_task when the workflow runs",
            "nothing to do; the branch's tasks do not appear in the static graph",
        )
        self.conv.report.count("branch")

    def _branch_lines(
        self, stmt: cst.If, lines: list[str], used: set[str], assigned: set[str], keyword: str
    ) -> None:
        cond = self.conv.clean(self.code(stmt.test))
        if self.refs(stmt.test) & self.callables:
            raise self.unsupported(
                stmt,
                "task call in an if condition",
                "the condition must use results computed before the if",
                "assign the task's result to a variable first",
            )
        used |= set(names_of(cond).loads)
        lines.append(f"{keyword} {cond}:")
        self._branch_body(stmt.body, lines, used, assigned, stmt)
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            self._branch_lines(orelse, lines, used, assigned, "elif")
        elif isinstance(orelse, cst.Else):
            lines.append("else:")
            self._branch_body(orelse.body, lines, used, assigned, stmt)

    def _branch_body(
        self,
        block: cst.BaseSuite,
        lines: list[str],
        used: set[str],
        assigned: set[str],
        stmt: cst.CSTNode,
    ) -> None:
        body = (
            block.body
            if isinstance(block, cst.IndentedBlock)
            else [cst.SimpleStatementLine(body=[s]) for s in _any(block).body]
        )
        instances: list[tuple[str | None, str]] = []
        local: set[str] = set()
        out: list[str] = []
        for inner in body:
            small = (
                inner.body[0]
                if isinstance(inner, cst.SimpleStatementLine) and len(inner.body) == 1
                else None
            )
            target: str | None = None
            value: cst.BaseExpression | None = None
            if isinstance(small, cst.Expr):
                value = small.value
            elif (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
            ):
                target, value = small.targets[0].target.value, small.value
            call = self.match(value) if value is not None else None
            if call is None or call.mode not in ("call", "submit"):
                if isinstance(inner, cst.If) and not self.refs(inner) & self.callables:
                    pass
                elif self.refs(inner) & self.callables:
                    raise self.unsupported(
                        inner,
                        "statement in an if branch",
                        "only plain task calls are converted in if branches",
                        "move the other work into a task",
                    )
                names = names_of(self.code(inner))
                if names.stores - {"_"} and not isinstance(small, cst.Expr):
                    raise self.unsupported(
                        inner,
                        "assignment in an if branch",
                        "values assigned in an if branch other than task "
                        "results cannot be passed on",
                        "compute the value in a task",
                    )
                used |= set(names.loads)
                text = self.conv.clean(self.code(_no_lead(inner)))
                out += text.rstrip("\n").split("\n")
                continue
            task = self.conv.tasks[call.callee]
            self.require_params(task, inner, f"{call.callee}() in an if branch")
            kwargs, _ = self.call_kwargs(task, call, inner, f"{call.callee}() in an if branch")
            for code in kwargs.values():
                if names_of(code).loads & local:
                    raise self.unsupported(
                        inner,
                        f"{call.callee}() in an if branch",
                        "a task in an if branch uses the result of another task of the same branch",
                        "move the dependent call after the if statement",
                    )
                used |= set(names_of(code).loads)
            node_id = self.wp.new_id(task.task_id)
            kw = self.instance_kwargs(task, dict(kwargs), inner)
            kw = f", {kw}" if kw else ""
            instances.append((target, f'{task.name}(task_id="{node_id}"{kw})'))
            if target:
                local.add(target)
                assigned.add(target)
            if task.has_retries:
                self.note(
                    inner,
                    f"{task.name} in an if branch with retries",
                    "lossy",
                    "a retried task chosen at run time is re-queued after the workflow's next step",
                    "avoid retries here or check the result downstream",
                )
            self.conv.report.count("task call")
        if len(instances) == 1:
            target, text = instances[0]
            prefix = f'chosen["{target}"] = ctx.next_task' if target else "ctx.next_task"
            out += call_lines(prefix, [text], 16)
        elif instances:
            self.wp.imports.add("parallel")
            out.append("tasks = [")
            out += [f"    {text}," for _, text in instances]
            out.append("]")
            for i, (target, _) in enumerate(instances):
                if target:
                    out.append(f'chosen["{target}"] = tasks[{i}].task_id')
            out.append(
                'ctx.next_task(parallel(*tasks).with_execution(backend_config={"thread_count": 1}))'
            )
        if not out:
            out.append("pass")
        lines += ["    " + line for line in out]


def _literal(code: str) -> Any:
    import ast

    return ast.literal_eval(code)


def _comments(stmt: cst.CSTNode) -> list[str]:
    lines = getattr(stmt, "leading_lines", ())
    return [line.comment.value for line in lines if line.comment is not None]


def _unwrap_result(expr: cst.BaseExpression) -> cst.BaseExpression:
    while (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "result"
        and all(a.keyword is not None for a in expr.args)
    ):
        expr = expr.func.value
    return expr
