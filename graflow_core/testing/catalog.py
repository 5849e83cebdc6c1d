"""A catalogue of example workflows for conformance tests of bridges and runtimes.

Every :class:`Example` builds a *fresh* workflow (``example.build()``) from module-level
``@task`` functions of this module, so each workflow is importable by reference (its spec loads
in another process) and a bridge can render it. An example also says what a run must produce:

* ``params`` — the initial channel of the run (``wf.execute(initial_channel=params)``);
* ``expected_result`` — what ``wf.execute()`` returns (the result of the last task executed);
* ``expected_results`` — the stored result of each listed task (``ctx.get_result(id)``);
* ``expected_channel`` — the final channel *without* the ``"<task>.__result__"`` keys
  (:func:`user_channel` filters them) — params included;
* ``absent`` — channel keys that must *not* be there at the end (writes of failed group members,
  of skipped branches);
* ``error`` — for a failing workflow, the exception type ``execute()`` raises (and
  ``error_cause`` the type of the task's own exception, reachable as ``__cause__``);
* ``features`` — the spec features it uses (names of :data:`graflow_core.spec.FEATURES`).

Bridge tests iterate over :data:`EXAMPLES` ("every example workflow runs natively and on X with
identical results")::

    from graflow_core.testing.catalog import EXAMPLES, run_native

    @pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
    def test_same_as_native(example):
        result, channel = run_native(example)
        assert result == example.expected_result
        ...

The retrying example counts its attempts in a file keyed by
``context.workflow_run_id`` (under ``params["scratch_dir"]``, default: the temp dir), so a
retry in another process (an orchestrator's retry) is observable and a fresh run starts again
at attempt 1. Importing this module is cheap: only graflow_core's task API is imported.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from graflow_core.channels.base import RESULT_SUFFIX, task_results
from graflow_core.core.decorators import task
from graflow_core.core.handlers.group_policy import (
    AtLeastNGroupPolicy,
    CriticalGroupPolicy,
    GroupExecutionPolicy,
)
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import ParallelGroup
from graflow_core.core.workflow import WorkflowContext, workflow
from graflow_core.exceptions import (
    GraflowRuntimeError,
    GraflowWorkflowCanceledError,
    ParallelGroupError,
)

#: ``Example.error_cause`` of an error without a ``__cause__`` (``isinstance(None, NO_CAUSE)``).
NO_CAUSE: type = type(None)


class CatalogError(Exception):
    """The intended failure of the catalogue's failing tasks."""


def _chain(name: str, *tasks: Any) -> WorkflowContext:
    """A fresh workflow ``name`` running ``tasks`` one after another."""
    with workflow(name) as wf:
        previous = tasks[0]
        for t in tasks[1:]:
            previous = previous >> t
    return wf


def _fan(
    name: str, group: str, members: list[tuple[Any, str, dict[str, Any]]], policy: Any = "strict"
) -> WorkflowContext:
    """A fresh workflow ``name``: ``prepare >> group(members) >> collect``.

    ``members`` are ``(task, task_id, bound kwargs)``; the instances are created inside the
    workflow block, so they are graph nodes of their own.
    """
    with workflow(name) as wf:
        tasks = [t(task_id=tid, **kwargs) for t, tid, kwargs in members]
        fan = ParallelGroup(tasks, name=group).with_execution(policy=policy)
        prepare >> fan >> collect
    return wf


# -- linear chain with keyword resolution ------------------------------------------------------


@task
def load(n: int) -> int:
    """Reads the run parameter ``n`` by keyword resolution."""
    return n + 1


@task
def transform(load: int) -> int:
    """Receives ``load``'s result by keyword resolution."""
    return load * 2


@task
def report(transform: int, unit: str = "items") -> str:
    return f"{transform} {unit}"


def build_linear() -> WorkflowContext:
    return _chain("catalog_linear", load, transform, report)


# -- diamond fan-out / fan-in ------------------------------------------------------------------


@task
def root(n: int) -> int:
    return n


@task
def left(root: int) -> int:
    return root + 10


@task
def right(root: int) -> int:
    return root * 10


@task
def join(left: int, right: int) -> list[int]:
    return [left, right]


def build_diamond() -> WorkflowContext:
    with workflow("catalog_diamond") as wf:
        root >> left >> join
        root >> right >> join
    return wf


# -- parallel groups ---------------------------------------------------------------------------


@task(inject_context=True)
def member(ctx: Any, value: int = 1) -> int:
    """A group member: writes ``out.<id>`` and returns ``value`` (bound per instance)."""
    ctx.get_channel().set(f"out.{ctx.task_id}", value)
    return value


@task(inject_context=True)
def failing_member(ctx: Any) -> int:
    """Writes ``out.<id>`` then fails: its writes must not reach the rest of the run."""
    ctx.get_channel().set(f"out.{ctx.task_id}", "written before failing")
    raise CatalogError(f"{ctx.task_id} fails on purpose")


@task(inject_context=True)
def collect(ctx: Any) -> int:
    """Sums every ``out.*`` value that is an int (results of the group's members)."""
    channel = ctx.get_channel()
    total = sum(
        v
        for k in sorted(channel.keys())
        if k.startswith("out.") and isinstance(v := channel.get(k), int)
    )
    channel.set("total", total)
    return total


@task
def prepare() -> str:
    return "ready"


def build_parallel_strict() -> WorkflowContext:
    ms = [(member, "p1", {"value": 1}), (member, "p2", {"value": 2}), (member, "p3", {"value": 3})]
    return _fan("catalog_parallel_strict", "fan", ms)


def build_best_effort() -> WorkflowContext:
    ms = [(member, "ok1", {"value": 5}), (failing_member, "bad", {}), (member, "ok2", {"value": 7})]
    return _fan("catalog_best_effort", "tolerant", ms, "best_effort")


def build_at_least_n() -> WorkflowContext:
    ms = [(member, "q1", {"value": 1}), (failing_member, "q2", {}), (member, "q3", {"value": 3})]
    return _fan("catalog_at_least_n", "quorum", ms, AtLeastNGroupPolicy(2))


@task
def chain_head() -> int:
    return 4


@task(inject_context=True)
def chain_tail(ctx: Any, chain_head: int) -> int:
    ctx.get_channel().set("out.chain_tail", chain_head * 100)
    return chain_head * 100


def build_nested_groups() -> WorkflowContext:
    with workflow("catalog_nested_groups") as wf:
        inner = ParallelGroup(
            [member(task_id="n_in1", value=10), member(task_id="n_in2", value=20)], name="inner"
        )
        outer = ParallelGroup(
            [member(task_id="n_a", value=1), chain_head >> chain_tail, inner],
            name="outer",
        )
        prepare >> outer >> collect
    return wf


def build_critical_policy() -> WorkflowContext:
    """Only ``k1`` is critical: the failure of ``k2`` is tolerated."""
    ms = [(member, "k1", {"value": 1}), (failing_member, "k2", {}), (member, "k3", {"value": 3})]
    return _fan("catalog_critical_policy", "guarded", ms, CriticalGroupPolicy(["k1"]))


class MajorityGroupPolicy(GroupExecutionPolicy):
    """A custom policy: the group fails unless more than half of its members succeeded."""

    def on_group_finished(self, group_id: str, tasks: Any, results: Any, context: Any) -> None:
        self._validate_group_results(group_id, tasks, results)
        successful, failed = self._partition_group_results(results)
        if len(successful) * 2 <= len(results):
            raise ParallelGroupError(
                f"Parallel group {group_id}: no majority ({len(successful)}/{len(results)})",
                group_id=group_id,
                failed_tasks=failed,
                successful_tasks=successful,
            )


#: The module-level instance the custom-policy example uses (a spec refers to it by name).
MAJORITY = MajorityGroupPolicy()


def build_custom_policy() -> WorkflowContext:
    ms = [(member, "v1", {"value": 2}), (failing_member, "v2", {}), (member, "v3", {"value": 5})]
    return _fan("catalog_custom_policy", "majority", ms, MAJORITY)


def build_group_failure() -> WorkflowContext:
    """A strict group with a failing member: the run fails with ``ParallelGroupError``."""
    ms = [(member, "f1", {"value": 1}), (failing_member, "f2", {})]
    return _fan("catalog_group_failure", "all_or_nothing", ms)


def build_group_backends() -> WorkflowContext:
    """Two groups, one on threads (two workers), one run member after member (direct)."""
    with workflow("catalog_group_backends") as wf:
        threads = ParallelGroup(
            [member(task_id="th1", value=1), member(task_id="th2", value=2)], name="threads"
        ).with_execution(backend="threading", backend_config={"thread_count": 2})
        direct = ParallelGroup(
            [member(task_id="d1", value=10), member(task_id="d2", value=20)], name="one_by_one"
        ).with_execution(backend="direct")
        prepare >> threads >> direct >> collect
    return wf


# -- channels ----------------------------------------------------------------------------------


@task(inject_context=True)
def write_config(ctx: Any, city: str) -> str:
    channel = ctx.get_channel()
    channel.set("config", {"city": city, "days": 3})
    channel.set("scratch", "temporary")
    channel.set("counter", 1)
    return "written"


@task(inject_context=True)
def bump(ctx: Any) -> int:
    channel = ctx.get_channel()
    channel.set("counter", channel.get("counter") + 1)
    channel.delete("scratch")
    return channel.get("counter")


@task(inject_context=True)
def read_config(ctx: Any) -> str:
    channel = ctx.get_channel()
    config = channel.get("config")
    return f"{config['city']}x{config['days']}:{channel.get('counter')}:{channel.exists('scratch')}"


def build_channels() -> WorkflowContext:
    return _chain("catalog_channels", write_config, bump, read_config)


class Forecast(TypedDict):
    """The message type of the typed-channel example."""

    city: str
    temperature: float


@task(inject_context=True)
def produce_forecast(ctx: Any) -> None:
    ctx.get_typed_channel(Forecast).set("forecast", {"city": "Oslo", "temperature": 3.5})


@task(inject_context=True)
def consume_forecast(ctx: Any) -> str:
    forecast = ctx.get_typed_channel(Forecast).get("forecast")
    return f"{forecast['city']}:{forecast['temperature']}"


def build_typed_channel() -> WorkflowContext:
    return _chain("catalog_typed_channel", produce_forecast, consume_forecast)


# -- retries -----------------------------------------------------------------------------------


def _attempt_file(ctx: Any) -> str:
    execution = ctx.execution_context
    run_id = getattr(execution, "workflow_run_id", None) or execution.session_id
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(run_id))
    base = ctx.get_channel().get("scratch_dir") or tempfile.gettempdir()
    return os.path.join(base, f"graflow-catalog-{safe}-{ctx.task_id}.attempts")


@task(inject_context=True, retry_policy=RetryPolicy(max_retries=2, initial_interval=0.0))
def flaky_fetch(ctx: Any) -> int:
    """Fails on its first attempt of a run, succeeds on the second; returns the attempt."""
    path = _attempt_file(ctx)
    try:
        with open(path) as fh:
            attempts = int(fh.read() or 0) + 1
    except FileNotFoundError:
        attempts = 1
    with open(path, "w") as fh:
        fh.write(str(attempts))
    if attempts < 2:
        raise CatalogError(f"{ctx.task_id}: attempt {attempts} fails on purpose")
    return attempts


@task
def after_flaky(flaky_fetch: int) -> str:
    return f"succeeded on attempt {flaky_fetch}"


def build_retry() -> WorkflowContext:
    return _chain("catalog_retry", flaky_fetch, after_flaky)


@task(
    inject_context=True,
    timeout=60.0,
    retry_policy=RetryPolicy(
        max_retries=2, initial_interval=0.5, backoff_factor=2.0, max_interval=4.0, jitter=True
    ),
)
def guarded_fetch(ctx: Any, n: int) -> int:
    """Timeout, retry delay, backoff and jitter configured; succeeds at once (no waiting)."""
    return n * 3


def build_retry_options() -> WorkflowContext:
    return _chain("catalog_retry_options", guarded_fetch, after_guarded)


@task
def after_guarded(guarded_fetch: int) -> str:
    return f"fetched {guarded_fetch}"


# -- goto branch -------------------------------------------------------------------------------


@task(inject_context=True)
def decide(ctx: Any, amount: int) -> str:
    """Jumps to ``approve`` or ``reject`` (both static successors) with ``goto=True``."""
    target = approve if amount >= 100 else reject
    ctx.next_task(target, goto=True)
    return target.task_id


@task(inject_context=True)
def approve(ctx: Any, amount: int) -> str:
    ctx.get_channel().set("decision", "approved")
    return f"approved {amount}"


@task(inject_context=True)
def reject(ctx: Any, amount: int) -> str:
    ctx.get_channel().set("decision", "rejected")
    return f"rejected {amount}"


@task
def notify(approve: str) -> str:
    return f"notified: {approve}"


def build_goto_branch() -> WorkflowContext:
    with workflow("catalog_goto_branch") as wf:
        decide >> approve >> notify
        decide >> reject
    return wf


# -- dynamic tasks (hosted on static targets) ---------------------------------------------------


@task(inject_context=True)
def spawn(ctx: Any) -> str:
    """Adds a task that is not part of the static graph; successors still run after it."""
    ctx.next_task(extra(task_id="extra_work", amount=5))
    return "spawned"


@task(inject_context=True)
def extra(ctx: Any, amount: int = 0) -> int:
    ctx.get_channel().set("extra", amount)
    return amount


@task(inject_context=True)
def after_spawn(ctx: Any) -> str:
    return f"after:{ctx.get_channel().get('extra')}"


def build_next_task() -> WorkflowContext:
    return _chain("catalog_next_task", spawn, after_spawn)


@task(inject_context=True)
def countdown(ctx: Any) -> int:
    """Loops with next_iteration until the channel's ``count`` reaches 3."""
    channel = ctx.get_channel()
    count = channel.get("count", 0) + 1
    channel.set("count", count)
    if count < 3:
        ctx.next_iteration()
    return count


@task(inject_context=True)
def after_loop(ctx: Any) -> str:
    return f"looped {ctx.get_channel().get('count')} times"


def build_next_iteration() -> WorkflowContext:
    return _chain("catalog_next_iteration", countdown, after_loop)


@task(inject_context=True)
def check_stop(ctx: Any, load: int) -> str:
    ctx.get_channel().set("stopped", True)
    ctx.terminate_workflow("enough")
    return f"stopped at {load}"


@task
def never_runs() -> str:
    raise CatalogError("never_runs ran after terminate_workflow")


def build_terminate() -> WorkflowContext:
    return _chain("catalog_terminate", load, check_stop, never_runs)


@task(inject_context=True)
def cancel_here(ctx: Any, load: int) -> str:
    """Cancels the run: ``execute()`` raises ``GraflowWorkflowCanceledError`` after it."""
    ctx.get_channel().set("cancelled_at", load)
    ctx.cancel_workflow("cancelled on purpose")
    return "cancelling"


def build_cancel() -> WorkflowContext:
    return _chain("catalog_cancel", load, cancel_here, never_runs)


# -- checkpoints -------------------------------------------------------------------------------


def checkpoint_path(ctx: Any) -> str:
    """Where the checkpoint example writes: under ``scratch_dir``, keyed by the run id."""
    return _attempt_file(ctx).replace(".attempts", ".checkpoint")


@task(inject_context=True)
def save_progress(ctx: Any, load: int) -> int:
    """Requests a (deferred) checkpoint after it succeeds."""
    ctx.checkpoint({"stage": "loaded", "load": load}, path=checkpoint_path(ctx))
    return load * 3


@task
def after_checkpoint(save_progress: int) -> str:
    return f"resumable at {save_progress}"


def build_checkpoint() -> WorkflowContext:
    return _chain("catalog_checkpoint", load, save_progress, after_checkpoint)


@task(inject_context=True, max_cycles=3)
def bounded_loop(ctx: Any) -> int:
    """Iterates while its cycle budget (``max_cycles=3``) allows."""
    channel = ctx.get_channel()
    rounds = channel.get("rounds", 0) + 1
    channel.set("rounds", rounds)
    if ctx.can_iterate():
        ctx.next_iteration()
    return rounds


@task(inject_context=True)
def after_bounded(ctx: Any) -> str:
    return f"{ctx.get_channel().get('rounds')} rounds"


def build_max_cycles() -> WorkflowContext:
    return _chain("catalog_max_cycles", bounded_loop, after_bounded)


@task(inject_context=True)
def loop_body(ctx: Any) -> int:
    channel = ctx.get_channel()
    laps = channel.get("laps", 0) + 1
    channel.set("laps", laps)
    return laps


@task(inject_context=True)
def loop_check(ctx: Any) -> str:
    """Jumps back to ``loop_body`` (a static back edge) until three laps, then to ``loop_done``."""
    if ctx.get_channel().get("laps") < 3:
        ctx.next_task(loop_body, goto=True)
        return "again"
    ctx.next_task(loop_done, goto=True)
    return "done"


@task(inject_context=True)
def loop_done(ctx: Any) -> str:
    return f"{ctx.get_channel().get('laps')} laps"


def build_cycle() -> WorkflowContext:
    with workflow("catalog_cycle") as wf:
        prepare >> loop_body >> loop_check >> loop_body
        loop_check >> loop_done
    return wf


# -- a failing workflow ------------------------------------------------------------------------


@task(inject_context=True)
def explode(ctx: Any, load: int) -> None:
    ctx.get_channel().set("exploded", True)
    raise CatalogError(f"explode fails on purpose (load={load})")


def build_failing() -> WorkflowContext:
    return _chain("catalog_failing", load, explode, never_runs)


# -- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One example workflow and what every correct run of it produces (see module docs)."""

    name: str
    build: Callable[[], WorkflowContext]
    params: Mapping[str, Any] = field(default_factory=dict)
    expected_result: Any = None
    expected_results: Mapping[str, Any] = field(default_factory=dict)
    expected_channel: Mapping[str, Any] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    error: type[BaseException] | None = None
    #: The type of ``error.__cause__``; ``type(None)`` (:data:`NO_CAUSE`) when the error has no
    #: cause (a cancelled run, a failed group).
    error_cause: type | None = None
    #: The graflow tasks whose (last) attempt fails, tolerated group members included.
    failed_tasks: tuple[str, ...] = ()
    #: True when a static target runs every graflow task of it as a native task of its own,
    #: with no dynamic work hosted inside one (a ``goto`` is a native branch); False when tasks
    #: are added at run time (``next_task``/``next_iteration``) or the whole run is hosted.
    static: bool = True

    @property
    def reference(self) -> str:
        """``"module:attr"`` of the builder (what bridges import in DAG files / definitions)."""
        return f"{__name__}:{self.build.__name__}"

    def run_params(self, scratch_dir: str | None = None) -> dict[str, Any]:
        """The initial channel; ``scratch_dir`` is where the retrying example counts attempts
        and the checkpoint example writes its checkpoint."""
        params = dict(self.params)
        if scratch_dir is not None and {"retries", "checkpoints"} & set(self.features):
            params["scratch_dir"] = str(scratch_dir)
        return params

    def __repr__(self) -> str:
        return f"Example({self.name!r})"


EXAMPLES: tuple[Example, ...] = (
    Example(
        "linear",
        build_linear,
        params={"n": 20},
        expected_result="42 items",
        expected_results={"load": 21, "transform": 42, "report": "42 items"},
        expected_channel={"n": 20},
        features=("static_edges",),
    ),
    Example(
        "diamond",
        build_diamond,
        params={"n": 3},
        expected_result=[13, 30],
        expected_results={"root": 3, "left": 13, "right": 30, "join": [13, 30]},
        expected_channel={"n": 3},
        features=("static_edges",),
    ),
    Example(
        "parallel_strict",
        build_parallel_strict,
        expected_result=6,
        expected_results={"prepare": "ready", "p1": 1, "p2": 2, "p3": 3, "fan": None, "collect": 6},
        expected_channel={"out.p1": 1, "out.p2": 2, "out.p3": 3, "total": 6},
        features=("static_edges", "parallel_groups", "group_policy.strict", "channels"),
    ),
    Example(
        "best_effort",
        build_best_effort,
        expected_result=12,
        expected_results={"ok1": 5, "ok2": 7, "tolerant": None, "collect": 12},
        expected_channel={"out.ok1": 5, "out.ok2": 7, "total": 12},
        absent=("out.bad", "bad.__result__"),
        features=("static_edges", "parallel_groups", "group_policy.best_effort", "channels"),
        failed_tasks=("bad",),
    ),
    Example(
        "at_least_n",
        build_at_least_n,
        expected_result=4,
        expected_results={"q1": 1, "q3": 3, "quorum": None, "collect": 4},
        expected_channel={"out.q1": 1, "out.q3": 3, "total": 4},
        absent=("out.q2", "q2.__result__"),
        features=("static_edges", "parallel_groups", "group_policy.at_least_n", "channels"),
        failed_tasks=("q2",),
    ),
    Example(
        "nested_groups",
        build_nested_groups,
        expected_result=431,
        expected_results={
            "n_a": 1,
            "chain_head": 4,
            "chain_tail": 400,
            "n_in1": 10,
            "n_in2": 20,
            "inner": None,
            "outer": None,
            "collect": 431,
        },
        expected_channel={
            "out.n_a": 1,
            "out.chain_tail": 400,
            "out.n_in1": 10,
            "out.n_in2": 20,
            "total": 431,
        },
        features=("static_edges", "parallel_groups", "nested_groups", "channels"),
    ),
    Example(
        "channels",
        build_channels,
        params={"city": "Tokyo"},
        expected_result="Tokyox3:2:False",
        expected_results={"write_config": "written", "bump": 2},
        expected_channel={"city": "Tokyo", "config": {"city": "Tokyo", "days": 3}, "counter": 2},
        absent=("scratch",),
        features=("static_edges", "channels"),
    ),
    Example(
        "typed_channel",
        build_typed_channel,
        expected_result="Oslo:3.5",
        expected_results={"produce_forecast": None},
        expected_channel={"forecast": {"city": "Oslo", "temperature": 3.5}},
        features=("static_edges", "typed_channels"),
    ),
    Example(
        "retry",
        build_retry,
        expected_result="succeeded on attempt 2",
        expected_results={"flaky_fetch": 2},
        features=("static_edges", "retries"),
    ),
    Example(
        "goto_branch",
        build_goto_branch,
        params={"amount": 250},
        expected_result="notified: approved 250",
        expected_results={"decide": "approve", "approve": "approved 250"},
        expected_channel={"amount": 250, "decision": "approved"},
        absent=("reject.__result__",),
        features=("static_edges", "goto", "next_task", "channels"),
    ),
    Example(
        "goto_branch_other_way",
        build_goto_branch,
        params={"amount": 10},
        expected_result="rejected 10",
        expected_results={"decide": "reject", "reject": "rejected 10"},
        expected_channel={"amount": 10, "decision": "rejected"},
        absent=("approve.__result__", "notify.__result__"),
        features=("static_edges", "goto", "next_task", "channels"),
    ),
    Example(
        "next_task",
        build_next_task,
        expected_result="after:5",
        expected_results={"spawn": "spawned", "extra_work": 5},
        expected_channel={"extra": 5},
        features=("static_edges", "next_task", "channels"),
        static=False,
    ),
    Example(
        "next_iteration",
        build_next_iteration,
        expected_result="looped 3 times",
        expected_results={"after_loop": "looped 3 times"},
        expected_channel={"count": 3},
        features=("static_edges", "next_iteration", "channels"),
        static=False,
    ),
    Example(
        "terminate",
        build_terminate,
        params={"n": 1},
        expected_result="stopped at 2",
        expected_results={"load": 2, "check_stop": "stopped at 2"},
        expected_channel={"n": 1, "stopped": True},
        absent=("never_runs.__result__",),
        features=("static_edges", "terminate", "channels"),
        static=False,
    ),
    Example(
        "failing",
        build_failing,
        params={"n": 1},
        expected_results={"load": 2},
        absent=("never_runs.__result__",),
        features=("static_edges", "channels"),
        error=GraflowRuntimeError,
        error_cause=CatalogError,
        failed_tasks=("explode",),
    ),
    Example(
        "critical_policy",
        build_critical_policy,
        expected_result=4,
        expected_results={"k1": 1, "k3": 3, "guarded": None, "collect": 4},
        expected_channel={"out.k1": 1, "out.k3": 3, "total": 4},
        absent=("out.k2", "k2.__result__"),
        features=("static_edges", "parallel_groups", "group_policy.critical", "channels"),
        failed_tasks=("k2",),
    ),
    Example(
        "custom_policy",
        build_custom_policy,
        expected_result=7,
        expected_results={"v1": 2, "v3": 5, "majority": None, "collect": 7},
        expected_channel={"out.v1": 2, "out.v3": 5, "total": 7},
        absent=("out.v2", "v2.__result__"),
        features=("static_edges", "parallel_groups", "group_policy.custom", "channels"),
        failed_tasks=("v2",),
    ),
    Example(
        "group_failure",
        build_group_failure,
        expected_results={"prepare": "ready", "f1": 1},
        absent=("out.f2", "f2.__result__", "total", "collect.__result__"),
        features=("static_edges", "parallel_groups", "group_policy.strict", "channels"),
        error=ParallelGroupError,
        error_cause=NO_CAUSE,
        failed_tasks=("f2",),
    ),
    Example(
        "group_backends",
        build_group_backends,
        expected_result=33,
        expected_results={
            "th1": 1,
            "th2": 2,
            "threads": None,
            "d1": 10,
            "d2": 20,
            "one_by_one": None,
            "collect": 33,
        },
        expected_channel={"out.th1": 1, "out.th2": 2, "out.d1": 10, "out.d2": 20, "total": 33},
        features=(
            "static_edges",
            "parallel_groups",
            "group_policy.strict",
            "group_backend.threading",
            "group_backend.direct",
            "channels",
        ),
    ),
    Example(
        "retry_options",
        build_retry_options,
        params={"n": 2},
        expected_result="fetched 6",
        expected_results={"guarded_fetch": 6},
        expected_channel={"n": 2},
        features=(
            "static_edges",
            "retries",
            "retry_delay",
            "retry_backoff",
            "retry_jitter",
            "timeouts",
        ),
    ),
    Example(
        "checkpoint",
        build_checkpoint,
        params={"n": 1},
        expected_result="resumable at 6",
        expected_results={"load": 2, "save_progress": 6},
        expected_channel={"n": 1},
        features=("static_edges", "checkpoints"),
    ),
    Example(
        "max_cycles",
        build_max_cycles,
        expected_result="3 rounds",
        expected_results={"bounded_loop": 1, "after_bounded": "3 rounds"},
        expected_channel={"rounds": 3},
        features=("static_edges", "max_cycles", "next_iteration", "channels"),
        static=False,
    ),
    Example(
        "cycle",
        build_cycle,
        expected_result="3 laps",
        expected_results={"prepare": "ready", "loop_body": 3, "loop_check": "done"},
        expected_channel={"laps": 3},
        features=("static_edges", "cycles", "goto", "next_task", "channels"),
        static=False,
    ),
    Example(
        "cancel",
        build_cancel,
        params={"n": 1},
        expected_results={"load": 2},
        absent=("never_runs.__result__",),
        features=("static_edges", "cancel", "channels"),
        error=GraflowWorkflowCanceledError,
        error_cause=NO_CAUSE,
        static=False,
    ),
)

#: The examples by name.
BY_NAME: dict[str, Example] = {e.name: e for e in EXAMPLES}


def get_example(name: str) -> Example:
    """The example called ``name`` (``KeyError`` listing the names if none)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"No example {name!r}; known: {', '.join(BY_NAME)}") from None


def user_channel(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without the ``"<task>.__result__"`` keys (and without ``scratch_dir``)."""
    return {k: v for k, v in data.items() if not k.endswith(RESULT_SUFFIX) and k != "scratch_dir"}


def channel_dict(context: Any) -> dict[str, Any]:
    """The final channel of an ``ExecutionContext`` as a dict (every key)."""
    return dict(context.channel.to_dict())


def run_native(
    example: Example, *, scratch_dir: str | None = None, **execute_kwargs: Any
) -> tuple[Any, dict[str, Any]]:
    """Run ``example`` on the graflow engine: ``(result, final channel dict)``.

    For a failing example the exception propagates (``pytest.raises(example.error)``).
    """
    wf = example.build()
    result, ctx = wf.execute(
        ret_context=True, initial_channel=example.run_params(scratch_dir), **execute_kwargs
    )
    return result, channel_dict(ctx)


def check_outcome(example: Example, result: Any, channel: Mapping[str, Any]) -> None:
    """Assert that ``result`` and the final ``channel`` dict are what ``example`` expects."""
    problems = []
    if result != example.expected_result:
        problems.append(f"result {result!r} != expected {example.expected_result!r}")
    results = task_results(channel)
    for tid, expected in example.expected_results.items():
        if tid not in results:
            problems.append(f"no result of task {tid!r}")
        elif results[tid] != expected:
            problems.append(f"result of {tid!r} is {results[tid]!r}, expected {expected!r}")
    user = user_channel(channel)
    for key, expected in example.expected_channel.items():
        if key not in user:
            problems.append(f"channel key {key!r} missing")
        elif user[key] != expected:
            problems.append(f"channel {key!r} = {user[key]!r}, expected {expected!r}")
    extra = sorted(set(user) - set(example.expected_channel))
    if extra:
        problems.append(f"unexpected channel keys {extra}")
    present = [k for k in example.absent if k in channel]
    if present:
        problems.append(f"keys that must be absent are present: {present}")
    if problems:
        raise AssertionError(f"example {example.name!r}: " + "; ".join(problems))


__all__ = [
    "BY_NAME",
    "EXAMPLES",
    "NO_CAUSE",
    "CatalogError",
    "Example",
    "MajorityGroupPolicy",
    "channel_dict",
    "check_outcome",
    "get_example",
    "run_native",
    "task_results",
    "user_channel",
]
