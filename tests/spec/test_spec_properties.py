"""Random workflows of module-level tasks: every round trip is lossless and runs alike.

A drawn *plan* describes a DAG of nodes (tasks or parallel groups, with members that are
tasks, chains or nested groups, created inside or outside the workflow block), group
policies and backends, retry policies and JSON bound kwargs. The workflow is built from the
plan with the public API; then spec == spec from JSON == spec of the loaded workflow, and
running the original and the loaded workflow gives the same result (or error) and channel.
"""

from __future__ import annotations

import re
from typing import Any

import spec_sample_tasks as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graflow_core import ParallelGroup, RetryPolicy, workflow
from graflow_core.core.handlers.group_policy import AtLeastNGroupPolicy, CriticalGroupPolicy
from graflow_core.spec import WorkflowSpec, build_spec, load_workflow

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
retry_policies = st.one_of(
    st.none(),
    st.builds(
        RetryPolicy,
        max_retries=st.integers(0, 2),
        initial_interval=st.just(0.0),  # no waiting in tests
        backoff_factor=st.floats(0, 4),
        max_interval=st.floats(0, 100),
        jitter=st.booleans(),
    ),
)


@st.composite
def task_plans(draw: Any) -> dict[str, Any]:
    return {
        "fails": draw(st.integers(0, 5)) == 0,
        "k": draw(st.integers(-5, 5)),
        "salt": draw(json_scalars),
        "extra": draw(json_values),
        "retry": draw(retry_policies),
        "inside": draw(st.booleans()),  # created inside the workflow block (a graph node)
    }


@st.composite
def member_plans(draw: Any, depth: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["task", "task", "chain"] + (["group"] if depth < 1 else [])))
    if kind == "group":
        return {"kind": "group", "group": draw(group_plans(depth + 1))}
    if kind == "chain":
        return {"kind": "chain", "tasks": draw(st.lists(task_plans(), min_size=2, max_size=3))}
    return {"kind": "task", "task": draw(task_plans())}


@st.composite
def group_plans(draw: Any, depth: int = 0) -> dict[str, Any]:
    members = draw(st.lists(member_plans(depth), min_size=2, max_size=3))
    policy = draw(st.sampled_from(["strict", "best_effort", "critical", "at_least", "custom"]))
    return {
        "members": members,
        "policy": policy,
        "critical": draw(st.lists(st.booleans(), min_size=len(members), max_size=len(members))),
        "at_least": draw(st.integers(0, len(members))),
        "allowed": draw(st.integers(0, 2)),
        "backend": draw(st.sampled_from([None, "direct", "threading"])),
        "thread_count": draw(st.one_of(st.none(), st.integers(1, 3))),
        "name": draw(st.booleans()),
        "nested_via_constructor": draw(st.booleans()),
    }


@st.composite
def workflow_plans(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 6))
    nodes = [
        draw(
            st.one_of(
                task_plans().map(lambda t: ("task", t)), group_plans().map(lambda g: ("group", g))
            )
        )
        for _ in range(n)
    ]
    preds = [
        sorted(set(draw(st.lists(st.integers(0, j - 1), min_size=1, max_size=3))))
        for j in range(1, n)
    ]
    return {
        "nodes": nodes,
        "preds": preds,
        "default_retry": draw(retry_policies),
        "version": draw(st.one_of(st.none(), st.text(max_size=4))),
    }


class _Builder:
    """Builds a workflow from a plan; tasks planned 'outside' are created before the block."""

    def __init__(self) -> None:
        self.counter = 0
        self.outside: dict[int, Any] = {}

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def make_task(self, plan: dict[str, Any]) -> Any:
        tid = self.new_id("t")
        kwargs: dict[str, Any] = {"task_id": tid, "k": plan["k"]}
        if plan["fails"]:
            factory = s.fail_step
        else:
            factory = s.step
            kwargs.update(salt=plan["salt"], extra=plan["extra"])
        instance = factory(**kwargs)
        if plan["retry"] is not None:
            instance.retry_policy = plan["retry"]
            instance.max_retries = plan["retry"].max_retries
        return instance

    def pre_create(self, plan: dict[str, Any]) -> None:
        """Create the tasks planned outside the block now (ids are taken in plan order)."""
        for kind, node in plan["nodes"]:
            if kind == "task":
                self._pre(node)
            else:
                self._pre_group(node)

    def _pre(self, task_plan: dict[str, Any]) -> None:
        if not task_plan["inside"]:
            self.outside[id(task_plan)] = self.make_task(task_plan)

    def _pre_group(self, group_plan: dict[str, Any]) -> None:
        for m in group_plan["members"]:
            if m["kind"] == "task":
                self._pre(m["task"])
            elif m["kind"] == "chain":
                for t in m["tasks"]:
                    self._pre(t)
            else:
                self._pre_group(m["group"])

    def task(self, task_plan: dict[str, Any]) -> Any:
        found = self.outside.get(id(task_plan))
        return found if found is not None else self.make_task(task_plan)

    def group(self, plan: dict[str, Any]) -> Any:
        members = []
        for m in plan["members"]:
            if m["kind"] == "task":
                members.append(self.task(m["task"]))
            elif m["kind"] == "chain":
                chain_tasks = [self.task(t) for t in m["tasks"]]
                seq = chain_tasks[0]
                for t in chain_tasks[1:]:
                    seq = seq >> t
                members.append(seq)
            else:
                members.append(self.group(m["group"]))
        if any(isinstance(m, ParallelGroup) for m in members) or plan["nested_via_constructor"]:
            group = ParallelGroup([getattr(m, "leftmost", m) for m in members])
        else:
            group = members[0] | members[1]
            for m in members[2:]:
                group = group | m
        ids = [getattr(m, "leftmost", m).task_id for m in members]
        policy: Any = plan["policy"]
        if policy == "critical":
            chosen = [i for i, c in zip(ids, plan["critical"], strict=True) if c] or ids[:1]
            policy = CriticalGroupPolicy(chosen)
        elif policy == "at_least":
            policy = AtLeastNGroupPolicy(plan["at_least"])
        elif policy == "custom":
            policy = s.TOLERANT if plan["allowed"] == 1 else s.AllowFailures(plan["allowed"])
        config = None if plan["thread_count"] is None else {"thread_count": plan["thread_count"]}
        group.with_execution(backend=plan["backend"], backend_config=config, policy=policy)
        if plan["name"]:
            group.set_group_name(self.new_id("group_"))
        return group

    def build(self, plan: dict[str, Any]) -> Any:
        self.pre_create(plan)
        with workflow("random", version=plan["version"], retry_policy=plan["default_retry"]) as wf:
            objs = [
                self.task(node) if kind == "task" else self.group(node)
                for kind, node in plan["nodes"]
            ]
            for j, preds in enumerate(plan["preds"], start=1):
                for i in preds:
                    objs[i] >> objs[j]
        return wf


_ITERATION_ID = re.compile(r"_cycle_(\d+)_[0-9a-f]{8}")


def _run(wf: Any) -> tuple[Any, ...]:
    try:
        result, ctx = wf.execute(ret_context=True)
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))
    channel = {k: repr(v) for k, v in ctx.channel.data.items()}
    return ("ok", repr(result), channel)


@SETTINGS
@given(workflow_plans())
def test_random_workflows_round_trip_and_run_alike(plan):
    wf = _Builder().build(plan)
    spec = build_spec(wf)
    text = spec.to_json()
    from_json = WorkflowSpec.from_json(text)
    assert from_json == spec
    assert from_json.to_json() == text
    loaded = load_workflow(from_json)
    assert build_spec(loaded) == spec
    assert build_spec(loaded).to_json() == text
    assert _run(loaded) == _run(wf)


@SETTINGS
@given(workflow_plans())
def test_loading_twice_gives_equal_workflows(plan):
    spec = build_spec(_Builder().build(plan))
    first = build_spec(load_workflow(spec.to_dict()))
    second = build_spec(load_workflow(first.to_json()))
    assert first == second == spec
