"""Prefect back to graflow: :func:`from_prefect_flow` records a real run of a Prefect flow.

The flow runs for real (against the configured Prefect API) while every task call made by the
flow — ``task(...)``, ``task.submit(...)``, ``task.map(...)``, in subflows too — is recorded with
its arguments, the futures/states/results it received (data dependencies) and its ``wait_for``
futures (order dependencies). The recording becomes the neutral spec
(:class:`graflow_core.spec.WorkflowSpec`) and then a runnable workflow:

* every task call → a graflow task whose id is the Prefect task's name (``name``, ``name_2`` …
  for repeated calls; a ``task_run_name`` string template is formatted with the arguments);
  it calls the Prefect task's underlying function (``module:qualname.fn``) through
  :func:`run_prefect_task`, with its arguments rebuilt from upstream results, flow parameters
  and JSON constants;
* data dependencies and ``wait_for`` → edges; a plain (blocking) task call also runs after the
  previous plain call, as it did in the flow; several roots get a ``start`` placeholder;
* ``task.map(...)`` → a parallel group of one task per mapped item (``unmapped`` values are
  passed to every member);
* ``retries`` / ``retry_delay_seconds`` (number or list) / ``retry_jitter_factor`` →
  a ``RetryPolicy``; ``timeout_seconds`` → the task's timeout;
* flow parameters → run parameters read from the channel (their recorded value is the fallback).

What a single recorded run cannot express is listed in :attr:`RecordedFlow.notes`: branches the
run did not take (the recording is one path through the flow body), values computed in the flow
body between task calls (kept as constants when they are JSON, else refused), subflows
(flattened into the workflow), tasks called inside tasks (left to Prefect), concurrency of
``.submit()`` calls (graflow runs them in dependency order), callable retry delays, caching.
"""

from __future__ import annotations

import inspect
import re
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import GraflowError

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec import WorkflowSpec

__all__ = ["RecordError", "RecordedFlow", "from_prefect_flow", "record_prefect_flow"]

#: The ``ref`` of every recorded task: the adapter that calls the Prefect task's function.
ADAPTER_REF = "graflow_prefect.record:run_prefect_task"

_record_lock = threading.Lock()


class RecordError(GraflowError):
    """A Prefect flow could not be recorded (the message says why and what to do)."""


@dataclass
class RecordedFlow:
    """The outcome of :func:`record_prefect_flow`.

    ``spec`` is the recorded workflow, ``params`` the flow parameters of the recorded run (run
    the workflow with ``workflow.execute(initial_channel=params)``), ``result`` the flow's
    result in that run, ``notes`` what the workflow cannot express exactly.
    """

    spec: WorkflowSpec
    params: dict[str, Any]
    result: Any
    flow_run_id: str
    notes: list[str] = field(default_factory=list)

    @property
    def workflow(self) -> WorkflowContext:
        """A fresh runnable workflow of :attr:`spec`."""
        from graflow_core.spec import load_workflow

        return load_workflow(self.spec)


# -- the adapter every recorded task calls -------------------------------------------------------


def run_prefect_task(ctx: Any, fn: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Call the recorded Prefect task's function ``fn`` with its recorded arguments.

    ``args``/``kwargs`` are encoded values: ``{"result": id}`` (an upstream task's result),
    ``{"param": name, "default": v}`` (a run parameter from the channel), ``{"value": v}``
    (a JSON constant), ``{"list"|"tuple": [...]}`` and ``{"dict": {...}}``.
    """
    from graflow_core.spec.references import import_ref

    func = _functions.get(fn)
    if func is None:
        func = _functions[fn] = import_ref(fn)
    channel = ctx.get_channel()
    value = func(
        *[_decode(a, channel) for a in args],
        **{k: _decode(v, channel) for k, v in kwargs.items()},
    )
    if inspect.isawaitable(value):
        import asyncio

        value = asyncio.run(_await(value))
    return value


async def _await(value: Any) -> Any:
    return await value


_functions: dict[str, Any] = {}


def _decode(encoded: Any, channel: Any) -> Any:
    if "result" in encoded:
        return channel.get(f"{encoded['result']}.__result__")
    if "param" in encoded:
        name = encoded["param"]
        return channel.get(name) if channel.exists(name) else encoded.get("default")
    if "value" in encoded:
        return encoded["value"]
    if "list" in encoded:
        return [_decode(v, channel) for v in encoded["list"]]
    if "tuple" in encoded:
        return tuple(_decode(v, channel) for v in encoded["tuple"])
    if "dict" in encoded:
        return {k: _decode(v, channel) for k, v in encoded["dict"].items()}
    raise RecordError(f"unknown recorded argument {encoded!r}")


# -- recording -----------------------------------------------------------------------------------


@dataclass
class _Call:
    id: str
    task: Any
    args: list[Any]
    kwargs: dict[str, Any]
    upstream: list[str]
    kind: str  # "call" | "submit" | "member"
    group: str | None = None


@dataclass
class _Group:
    id: str
    members: list[str]


_SINGLETONS = (type(None), bool)


class _Recorder:
    """Collects the task calls of one flow run (patched into Prefect's Task/Flow methods)."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)
        self.calls: list[_Call] = []
        self.groups: list[_Group] = []
        self.notes: list[str] = []
        self.ids: set[str] = set()
        self.by_object: dict[int, tuple[Any, str]] = {}  # id(obj) -> (obj, task or group id)
        self.futures: list[tuple[Any, str]] = []  # (future, task id) not yet resolved
        self.last_plain: str | None = None
        self.subflows: list[str] = []
        self.thread = threading.get_ident()

    # ids ---------------------------------------------------------------------------------------

    def new_id(self, base: str) -> str:
        base = re.sub(r"[^\w.-]", "_", base) or "task"
        candidate, n = base, 1
        while candidate in self.ids:
            n += 1
            candidate = f"{base}_{n}"
        self.ids.add(candidate)
        return candidate

    def task_id(self, task: Any, bound: inspect.BoundArguments | None) -> str:
        name = task.name
        template = getattr(task, "task_run_name", None)
        if isinstance(template, str) and bound is not None:
            with suppress(KeyError, IndexError, ValueError):
                name = template.format(**bound.arguments)
        return self.new_id(name)

    def remember(self, obj: Any, task_id: str) -> None:
        if isinstance(obj, _SINGLETONS):
            return
        self.by_object[id(obj)] = (obj, task_id)

    # arguments ---------------------------------------------------------------------------------

    def encode(self, value: Any, where: str, upstream: set[str]) -> Any:
        from prefect.futures import PrefectFuture
        from prefect.states import State
        from prefect.utilities.annotations import BaseAnnotation

        if isinstance(value, BaseAnnotation):  # unmapped / allow_failure / quote
            return self.encode(value.unwrap(), where, upstream)
        found = self.by_object.get(id(value))
        if found is not None and found[0] is value and not isinstance(value, _SINGLETONS):
            upstream.add(found[1])
            return {"result": found[1]}
        if isinstance(value, (PrefectFuture, State)):
            self.notes.append(f"{where}: a future/state of a call that was not recorded")
            return {"value": None}
        self._resolve_futures()
        found = self.by_object.get(id(value))
        if found is not None and found[0] is value and not isinstance(value, _SINGLETONS):
            upstream.add(found[1])
            return {"result": found[1]}
        for name, param in self.params.items():
            if param is value or (
                type(param) is type(value) and _immutable(value) and param == value
            ):
                return {"param": name, "default": _json_or_none(param)}
        if isinstance(value, list):
            return {"list": [self.encode(v, where, upstream) for v in value]}
        if isinstance(value, tuple):
            return {"tuple": [self.encode(v, where, upstream) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": {k: self.encode(v, where, upstream) for k, v in value.items()}}
        if _is_json(value):
            if not isinstance(value, _SINGLETONS):
                producers = [
                    tid
                    for obj, tid in self.by_object.values()
                    if type(obj) is type(value) and obj == value
                ]
                if producers:
                    # A small int / short string is shared by Python: it may be that task's
                    # result (Prefect cannot tell either). Take the latest producer.
                    upstream.add(producers[-1])
                    self.notes.append(
                        f"{where}: the value {value!r} is linked to task '{producers[-1]}' by "
                        "equality (Python shares small values, so identity cannot tell)"
                    )
                    return {"result": producers[-1]}
            return {"value": value}
        raise RecordError(
            f"{where}: the argument is a {type(value).__name__} computed in the flow body, not "
            "a task result, a flow parameter or a JSON constant, so a workflow cannot rebuild "
            "it. Compute it in a task, or pass it as a flow parameter."
        )

    def _resolve_futures(self) -> None:
        pending = []
        for future, tid in self.futures:
            state = future.state
            if state.is_completed():
                with suppress(Exception):  # a result we cannot read is not linked
                    self.remember(future.result(), tid)
            elif not state.is_final():
                pending.append((future, tid))
        self.futures = pending

    def bind(self, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return inspect.signature(task.fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise RecordError(
                f"task '{task.name}': cannot bind the call's arguments: {exc}"
            ) from exc

    def record(
        self,
        task: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wait_for: Any,
        kind: str,
        *,
        task_id: str | None = None,
        group: str | None = None,
    ) -> _Call:
        bound = self.bind(task, args, kwargs)
        tid = task_id or self.task_id(task, bound)
        upstream: set[str] = set()
        enc_args: list[Any] = []
        enc_kwargs: dict[str, Any] = {}
        params = inspect.signature(task.fn).parameters
        for name, value in bound.arguments.items():
            where = f"task '{tid}' argument '{name}'"
            pkind = params[name].kind
            if pkind is inspect.Parameter.POSITIONAL_ONLY:
                enc_args.append(self.encode(value, where, upstream))
            elif pkind is inspect.Parameter.VAR_POSITIONAL:
                enc_args.extend(self.encode(v, where, upstream) for v in value)
            elif pkind is inspect.Parameter.VAR_KEYWORD:
                enc_kwargs.update({k: self.encode(v, where, upstream) for k, v in value.items()})
            else:
                enc_kwargs[name] = self.encode(value, where, upstream)
        for item in _as_list(wait_for):
            self.encode(item, f"task '{tid}' wait_for", upstream)
        if self.last_plain is not None:
            upstream.add(self.last_plain)
        call = _Call(tid, task, enc_args, enc_kwargs, sorted(upstream), kind, group)
        self.calls.append(call)
        if self.subflows:
            self.notes.append(
                f"task '{tid}' ran in subflow '{self.subflows[-1]}': flattened into the workflow"
            )
        return call

    def foreign(self) -> bool:
        """Not a call of the recorded flow: another thread (another flow), or outside a flow."""
        from prefect.context import FlowRunContext

        return threading.get_ident() != self.thread or FlowRunContext.get() is None

    def nested(self) -> bool:
        """A call made inside a task run (the task's body calls another task)."""
        from prefect.context import TaskRunContext

        return TaskRunContext.get() is not None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


def _immutable(value: Any) -> bool:
    return isinstance(value, (int, float, str, bytes, bool, type(None)))


def _is_json(value: Any) -> bool:
    from graflow_core.spec.jsonvalues import NotJSONError, json_copy

    try:
        json_copy(value)
    except NotJSONError:
        return False
    return True


def _json_or_none(value: Any) -> Any:
    return value if _is_json(value) else None


@contextmanager
def _recording(recorder: _Recorder) -> Iterator[None]:
    """Patch Prefect's ``Task.__call__/submit/map`` and ``Flow.__call__`` while recording."""
    from prefect.flows import Flow
    from prefect.tasks import Task

    orig_call, orig_submit, orig_map = Task.__call__, Task.submit, Task.map
    orig_flow_call = Flow.__call__
    rec = recorder

    def call(
        self: Any, *args: Any, return_state: bool = False, wait_for: Any = None, **kw: Any
    ) -> Any:
        if rec.foreign():
            return orig_call(self, *args, return_state=return_state, wait_for=wait_for, **kw)
        if rec.nested():
            rec.notes.append(f"task '{self.name}' was called inside a task: left to Prefect")
            return orig_call(self, *args, return_state=return_state, wait_for=wait_for, **kw)
        entry = rec.record(self, args, kw, wait_for, "call")
        state = orig_call(self, *args, return_state=True, wait_for=wait_for, **kw)
        rec.remember(state, entry.id)
        rec.last_plain = entry.id
        if return_state:
            return state
        value = state.result()
        rec.remember(value, entry.id)
        return value

    def submit(self: Any, *args: Any, wait_for: Any = None, **kw: Any) -> Any:
        if rec.foreign():
            return orig_submit(self, *args, wait_for=wait_for, **kw)
        if rec.nested():
            rec.notes.append(f"task '{self.name}' was submitted inside a task: left to Prefect")
            return orig_submit(self, *args, wait_for=wait_for, **kw)
        return_state = kw.get("return_state", False)
        entry = rec.record(
            self, args, {k: v for k, v in kw.items() if k != "return_state"}, wait_for, "submit"
        )
        future = orig_submit(self, *args, wait_for=wait_for, **kw)
        rec.remember(future, entry.id)
        if not return_state:
            rec.futures.append((future, entry.id))
        return future

    def map_(self: Any, *args: Any, wait_for: Any = None, **kw: Any) -> Any:
        if rec.foreign():
            return orig_map(self, *args, wait_for=wait_for, **kw)
        if rec.nested():
            rec.notes.append(f"task '{self.name}' was mapped inside a task: left to Prefect")
            return orig_map(self, *args, wait_for=wait_for, **kw)
        result = orig_map(self, *args, wait_for=wait_for, **kw)
        items = _mapped_calls(
            self, args, {k: v for k, v in kw.items() if k not in ("return_state", "deferred")}
        )
        group = _Group(rec.new_id(f"{self.name}_map"), [])
        for i, (item_args, item_kwargs) in enumerate(items):
            entry = rec.record(
                self,
                item_args,
                item_kwargs,
                wait_for,
                "member",
                task_id=rec.new_id(f"{self.name}_{i}"),
                group=group.id,
            )
            group.members.append(entry.id)
            if i < len(result):
                rec.remember(result[i], entry.id)
                if not kw.get("return_state", False):
                    rec.futures.append((result[i], entry.id))
        rec.groups.append(group)  # the future list itself encodes as a list of member results
        return result

    def flow_call(self: Any, *args: Any, **kw: Any) -> Any:
        from prefect.context import FlowRunContext

        if FlowRunContext.get() is None or threading.get_ident() != rec.thread:
            return orig_flow_call(self, *args, **kw)
        rec.subflows.append(self.name)
        try:
            return orig_flow_call(self, *args, **kw)
        finally:
            rec.subflows.pop()

    patches: list[tuple[type, str, Any, Any]] = [
        (Task, "__call__", call, orig_call),
        (Task, "submit", submit, orig_submit),
        (Task, "map", map_, orig_map),
        (Flow, "__call__", flow_call, orig_flow_call),
    ]
    for owner, attr, patched, _ in patches:
        setattr(owner, attr, patched)
    try:
        yield
    finally:
        for owner, attr, _, original in patches:
            setattr(owner, attr, original)


def _mapped_calls(
    task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The per-item arguments of ``task.map(*args, **kwargs)`` (Prefect's mapping rules)."""
    from prefect.futures import PrefectFuture
    from prefect.utilities.annotations import unmapped
    from prefect.utilities.collections import isiterable

    bound = inspect.signature(task.fn).bind_partial(*args, **kwargs)
    mapped: dict[str, list[Any]] = {}
    static: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        if isinstance(value, unmapped):
            static[name] = value.value
        elif isiterable(value) and not isinstance(value, (PrefectFuture, dict)):
            mapped[name] = list(value)
        else:
            static[name] = value
    lengths = {len(v) for v in mapped.values()}
    if len(lengths) > 1:
        raise RecordError(f"task '{task.name}' was mapped over iterables of different lengths")
    count = lengths.pop() if lengths else 0
    return [((), {**static, **{k: v[i] for k, v in mapped.items()}}) for i in range(count)]


# -- recording → spec ----------------------------------------------------------------------------


def _function_ref(task: Any) -> str:
    from graflow_core.spec.references import RefProblem, import_ref

    fn = task.fn
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", "")
    if not module or "<locals>" in qualname or "<lambda>" in qualname:
        raise RecordError(
            f"task '{task.name}': its function {qualname or fn!r} is not importable by "
            "'module:qualname' (a lambda, a closure or a local function). Define it at module "
            "level of an importable module."
        )
    if module == "__main__":
        raise RecordError(
            f"task '{task.name}' is defined in the __main__ script; move the flow's tasks into "
            "an importable module so the recorded workflow can import them."
        )
    for ref in (f"{module}:{qualname}.fn", f"{module}:{qualname}"):
        try:
            found = import_ref(ref)
        except RefProblem:
            continue
        if found is fn or getattr(found, "fn", None) is fn:
            return ref
    raise RecordError(
        f"task '{task.name}': {module}:{qualname} does not import to its function (the name "
        "was reused, or a decorator lacks functools.wraps); give the function its own "
        "module-level name."
    )


def _retry_def(task: Any, notes: list[str]) -> Any:
    from graflow_core.spec.model import RetryDef

    retries = int(getattr(task, "retries", 0) or 0)
    if retries <= 0:
        return None
    delay = getattr(task, "retry_delay_seconds", None)
    jitter = bool(getattr(task, "retry_jitter_factor", None))
    if callable(delay):
        notes.append(f"task '{task.name}': callable retry_delay_seconds recorded as no delay")
        delay = 0
    if delay is None:
        delay = 0
    if isinstance(delay, (int, float)):
        return RetryDef(retries, float(delay), 1.0, float(delay), jitter)
    delays = [float(d) for d in delay]
    first = delays[0] if delays else 0.0
    backoff = delays[1] / first if len(delays) > 1 and first > 0 else 1.0
    cap = max(delays) if delays else 0.0
    retry = RetryDef(retries, first, backoff, cap, jitter)
    from graflow_core.spec.load import retry_policy
    from graflow_prefect.flow import retry_delays

    padded = [delays[min(i, len(delays) - 1)] for i in range(retries)] if delays else []
    if retry_delays(retry_policy(retry), retries) != padded:
        notes.append(
            f"task '{task.name}': retry delays {delays} approximated as initial {first}, "
            f"backoff {backoff:g}, cap {cap}"
        )
    return retry


def _build_spec(name: str, rec: _Recorder) -> WorkflowSpec:
    from graflow_core.spec.model import GroupDef, TaskDef, WorkflowSpec

    member_group = {m: g.id for g in rec.groups for m in g.members}
    group_upstream: dict[str, set[str]] = {g.id: set() for g in rec.groups}
    tasks: list[TaskDef] = []
    refs: dict[int, str] = {}
    edges: set[tuple[str, str]] = set()
    for call in rec.calls:
        key = id(call.task)
        if key not in refs:
            refs[key] = _function_ref(call.task)
        retry = _retry_def(call.task, rec.notes)
        timeout = getattr(call.task, "timeout_seconds", None)
        tasks.append(
            TaskDef(
                id=call.id,
                ref=ADAPTER_REF,
                parameters=["ctx", "fn", "args", "kwargs"],
                bound_kwargs={"fn": refs[key], "args": call.args, "kwargs": call.kwargs},
                inject_context=True,
                resolve_keyword_args=False,
                max_retries=None if retry is None else retry.max_retries,
                retry_policy=retry,
                timeout=None if timeout is None else float(timeout),
                features=["channels"],
            )
        )
        upstream = {member_group.get(u, u) for u in call.upstream}
        if call.group is not None:
            group_upstream[call.group] |= upstream - {call.group}
            continue
        for u in upstream:
            if u != call.id:
                edges.add((u, call.id))
    for g, ups in group_upstream.items():
        for u in ups:
            edges.add((u, g))
    members = set(member_group)
    nodes = [c.id for c in rec.calls if c.id not in members]
    for grp in rec.groups:  # a group is a node where its first member was called
        first = grp.members[0] if grp.members else None
        index = next((i for i, c in enumerate(rec.calls) if c.id == first), len(rec.calls))
        position = len([c for c in rec.calls[:index] if c.id not in members])
        nodes.insert(min(position, len(nodes)), grp.id)
    reduced = _transitive_reduction(nodes, edges)
    has_pred = {v for _, v in reduced}
    roots = [n for n in nodes if n not in has_pred]
    start: str | None = roots[0] if len(roots) == 1 else None
    if len(roots) > 1:
        start = rec.new_id("start")
        tasks.insert(0, TaskDef(id=start, kind="placeholder"))
        nodes.insert(0, start)
        reduced = [(start, r) for r in roots] + reduced
    groups = [GroupDef(id=g.id, members=list(g.members)) for g in rec.groups]
    order = {n: i for i, n in enumerate(nodes)}
    edges_sorted = sorted(reduced, key=lambda e: (order.get(e[0], 0), order.get(e[1], 0)))
    return WorkflowSpec(
        name=name,
        start_node=start,
        nodes=[*nodes, *[m for g in rec.groups for m in g.members]],
        edges=edges_sorted,
        tasks=tasks,
        groups=groups,
    )


def _transitive_reduction(nodes: list[str], edges: set[tuple[str, str]]) -> list[tuple[str, str]]:
    succ: dict[str, set[str]] = {}
    for u, v in edges:
        succ.setdefault(u, set()).add(v)

    def reachable(a: str, b: str, skip: tuple[str, str]) -> bool:
        seen, stack = set(), [a]
        while stack:
            n = stack.pop()
            for s in succ.get(n, ()):
                if (n, s) == skip or s in seen:
                    continue
                if s == b:
                    return True
                seen.add(s)
                stack.append(s)
        return False

    return [e for e in edges if not reachable(e[0], e[1], e)]


# -- public API ----------------------------------------------------------------------------------


def record_prefect_flow(flow: Any, /, **params: Any) -> RecordedFlow:
    """Run ``flow(**params)`` for real and record it as a graflow workflow spec.

    The flow runs against the configured Prefect API (a server, or ``prefect_test_harness``).
    Returns a :class:`RecordedFlow` (spec, params, result, notes).

    Raises:
        RecordError: ``flow`` is not a synchronous Prefect flow, the run failed, or something
            the workflow must rebuild cannot be expressed (an argument computed in the flow body
            that is not JSON, a task function that cannot be imported by reference).
    """
    from prefect.flows import Flow

    if not isinstance(flow, Flow):
        raise RecordError(f"from_prefect_flow() needs a prefect Flow (@flow), got {flow!r}")
    if flow.isasync:
        raise RecordError(
            f"flow '{flow.name}' is async; record a synchronous flow (wrap the async one in a "
            "sync flow that calls it with asyncio.run)"
        )
    try:
        bound = inspect.signature(flow.fn).bind(**params)
    except TypeError as exc:
        raise RecordError(f"flow '{flow.name}': {exc}") from exc
    bound.apply_defaults()
    recorder = _Recorder(bound.arguments)
    with _record_lock, _recording(recorder):
        state: Any = flow(**params, return_state=True)
    if not state.is_completed():
        try:
            state.result()
        except Exception as exc:
            raise RecordError(
                f"the recorded run of flow '{flow.name}' ended in state {state.name!r}: "
                f"{type(exc).__name__}: {exc}. Record a run that succeeds."
            ) from exc
    if not recorder.calls:
        raise RecordError(f"flow '{flow.name}' called no task in the recorded run")
    if any(c.kind == "submit" for c in recorder.calls):
        recorder.notes.append(
            "tasks submitted with .submit() ran concurrently in Prefect; the workflow runs "
            "them in dependency order"
        )
    notes = list(dict.fromkeys(recorder.notes))
    spec = _build_spec(flow.name, recorder)
    return RecordedFlow(
        spec=spec,
        params=dict(bound.arguments),
        result=state.result(),
        flow_run_id=str(state.state_details.flow_run_id),
        notes=notes,
    )


def from_prefect_flow(flow: Any, /, **params: Any) -> WorkflowContext:
    """Record a real run of the Prefect ``flow(**params)`` and return it as a graflow workflow.

    Run the workflow with the same parameters as initial channel:
    ``wf.execute(initial_channel=params)`` (parameters left out fall back to the recorded
    values). What the workflow cannot express exactly is emitted as one ``UserWarning``; use
    :func:`record_prefect_flow` to get the notes, the spec and the recorded result.
    """
    recorded = record_prefect_flow(flow, **params)
    if recorded.notes:
        warnings.warn(
            f"from_prefect_flow('{recorded.spec.name}'): " + "; ".join(recorded.notes),
            UserWarning,
            stacklevel=2,
        )
    return recorded.workflow
