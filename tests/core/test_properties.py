"""Property-based tests of the operator algebra and of join semantics on random DAGs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graflow_core.core.decorators import task
from graflow_core.core.task import ParallelGroup, SequentialTask, Task, chain, parallel
from graflow_core.core.workflow import clear_workflow_context, workflow

pytestmark = pytest.mark.usefixtures("chdir_tmp")

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _names(n):
    return [f"t{i}" for i in range(n)]


@SETTINGS
@given(st.integers(min_value=1, max_value=10))
def test_chain_builds_exactly_consecutive_edges(n):
    clear_workflow_context()
    with workflow("chain") as wf:
        tasks = [Task(name) for name in _names(n)]
        seq = chain(*tasks)
    assert isinstance(seq, SequentialTask)
    assert [t.task_id for t in seq.tasks] == _names(n)
    expected = {(f"t{i}", f"t{i + 1}") for i in range(n - 1)}
    assert set(wf.graph.edges) == expected
    assert len(list(wf.graph.edges)) == n - 1


def _bracketings(lo, hi):
    """Strategy of binary trees over the index range [lo, hi)."""
    if hi - lo == 1:
        return st.just(lo)
    return st.integers(min_value=lo + 1, max_value=hi - 1).flatmap(
        lambda mid: st.tuples(_bracketings(lo, mid), _bracketings(mid, hi))
    )


def _build(tree, tasks):
    if isinstance(tree, int):
        return tasks[tree]
    left, right = tree
    return _build(left, tasks) >> _build(right, tasks)


@SETTINGS
@given(
    st.integers(min_value=2, max_value=8).flatmap(
        lambda n: st.tuples(st.just(n), _bracketings(0, n))
    )
)
def test_rshift_is_associative_in_edges(case):
    n, tree = case
    clear_workflow_context()
    with workflow("assoc") as wf:
        tasks = [Task(name) for name in _names(n)]
        seq = _build(tree, tasks)
    assert isinstance(seq, SequentialTask)
    assert [t.task_id for t in seq.tasks] == _names(n)
    assert set(wf.graph.edges) == {(f"t{i}", f"t{i + 1}") for i in range(n - 1)}


@SETTINGS
@given(st.integers(min_value=2, max_value=10), st.booleans())
def test_or_of_plain_tasks_is_one_ordered_group(n, use_function):
    clear_workflow_context()
    with workflow("or") as wf:
        tasks = [Task(name) for name in _names(n)]
        if use_function:
            group = parallel(*tasks)
        else:
            group = tasks[0]
            for t in tasks[1:]:
                group = group | t
    assert isinstance(group, ParallelGroup)
    assert [t.task_id for t in group.tasks] == _names(n)
    assert list(wf.graph.edges) == []
    groups = [node for node in wf.graph.nodes if isinstance(wf.graph.get_node(node), ParallelGroup)]
    assert groups == [group.task_id]
    assert wf.graph.get_parallel_group_members(group.task_id) == _names(n)


@SETTINGS
@given(st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=6))
def test_sequence_concatenation_joins_ends(n1, n2):
    clear_workflow_context()
    with workflow("concat") as wf:
        left = [Task(f"l{i}") for i in range(n1)]
        right = [Task(f"r{i}") for i in range(n2)]
        s1 = chain(*left)
        s2 = chain(*right)
        s = s1 >> s2
    ids = [t.task_id for t in s.tasks]
    assert ids == [t.task_id for t in left + right]
    expected = {(ids[i], ids[i + 1]) for i in range(len(ids) - 1)}
    assert set(wf.graph.edges) == expected


@st.composite
def dags(draw):
    n = draw(st.integers(min_value=2, max_value=9))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = (
        draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    )
    edges = set(chosen)
    # make node 0 the single root that reaches everything
    for j in range(1, n):
        if not any(e[1] == j for e in edges):
            edges.add((0, j))
    # deterministic insertion order, shuffled by hypothesis
    ordered = draw(st.permutations(sorted(edges)))
    return n, list(ordered)


@SETTINGS
@given(dags())
def test_random_dag_runs_each_node_once_in_topological_order(case):
    n, edges = case
    clear_workflow_context()
    order = []
    with workflow("dag") as wf:
        tasks = []
        for i in range(n):

            def fn(i=i):
                order.append(i)
                return i

            tasks.append(task(f"n{i}")(fn))
        for i, j in edges:
            tasks[i] >> tasks[j]
    wf.execute("n0")
    assert sorted(order) == list(range(n)), order
    position = {node: k for k, node in enumerate(order)}
    for i, j in edges:
        assert position[i] < position[j], (i, j, order)


@SETTINGS
@given(dags())
def test_random_dag_channel_log_matches_topological_order(case):
    """Same property, recorded through the channel instead of a closure."""
    n, edges = case
    clear_workflow_context()
    with workflow("dag_ch") as wf:
        tasks = []
        for i in range(n):

            def fn(ctx, i=i):
                ctx.get_channel().append("log", i)

            tasks.append(task(f"n{i}", inject_context=True, resolve_keyword_args=False)(fn))
        for i, j in edges:
            tasks[i] >> tasks[j]
    _, ctx = wf.execute(ret_context=True)
    log = ctx.get_channel().get("log")
    assert sorted(log) == list(range(n))
    position = {node: k for k, node in enumerate(log)}
    for i, j in edges:
        assert position[i] < position[j]
    assert ctx.steps == n
    assert len(ctx.completed_tasks) == n


@SETTINGS
@given(dags(), st.data())
def test_random_dag_resume_from_any_deferred_checkpoint(case, data):
    """Checkpointing after any node and resuming gives the same log and result as a full run."""
    import os
    import tempfile

    from graflow_core.core.checkpoint import CheckpointManager

    n, edges = case
    k = data.draw(st.integers(min_value=0, max_value=n - 1), label="checkpoint_after")
    clear_workflow_context()
    base = os.path.join(tempfile.mkdtemp(prefix="dagck", dir="."), "ck")
    with workflow("dag_ck") as wf:
        tasks = []
        for i in range(n):

            def fn(ctx, i=i):
                ctx.get_channel().append("log", i)
                if i == k:
                    ctx.checkpoint(path=base)
                return i

            tasks.append(task(f"n{i}", inject_context=True, resolve_keyword_args=False)(fn))
        for i, j in edges:
            tasks[i] >> tasks[j]
    full_result, full_ctx = wf.execute("n0", ret_context=True)
    full_log = list(full_ctx.get_channel().get("log"))

    ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    snapshot_len = len(ctx.get_channel().get("log"))
    resumed_result = ctx.execute()
    assert ctx.get_channel().get("log") == full_log
    if snapshot_len < len(full_log):  # something was left to run after the checkpoint
        assert resumed_result == full_result
    else:
        assert resumed_result is None
