"""The operator algebra of §1.4: >>, <<, |, chain(), parallel(), SequentialTask, ParallelGroup."""

from __future__ import annotations

import pytest

from graflow_core.core.decorators import task
from graflow_core.core.task import ParallelGroup, SequentialTask, Task, TaskWrapper, chain, parallel
from graflow_core.core.workflow import workflow

pytestmark = pytest.mark.usefixtures("chdir_tmp")


def edges(wf):
    return set(wf.graph.edges)


def ids(composite):
    """Member ids of a SequentialTask or ParallelGroup."""
    return [t.task_id for t in composite.tasks]


@pytest.fixture
def wf():
    with workflow("ops") as ctx:
        yield ctx


@pytest.fixture
def abcd(wf):
    return Task("a"), Task("b"), Task("c"), Task("d")


# --- >> and << -------------------------------------------------------------------------------


def test_task_rshift_task(wf, abcd):
    a, b, _, _ = abcd
    seq = a >> b
    assert isinstance(seq, SequentialTask)
    assert ids(seq) == ["a", "b"]
    assert edges(wf) == {("a", "b")}


def test_task_rshift_sequence(wf, abcd):
    a, b, c, _ = abcd
    bc = b >> c
    seq = a >> bc
    assert ids(seq) == ["a", "b", "c"]
    assert edges(wf) == {("b", "c"), ("a", "b")}


def test_sequence_rshift_task(wf, abcd):
    a, b, c, _ = abcd
    seq = (a >> b) >> c
    assert ids(seq) == ["a", "b", "c"]
    assert edges(wf) == {("a", "b"), ("b", "c")}


def test_sequence_rshift_sequence(wf, abcd):
    a, b, c, d = abcd
    s1 = a >> b
    s2 = c >> d
    seq = s1 >> s2
    assert ids(seq) == ["a", "b", "c", "d"]
    assert edges(wf) == {("a", "b"), ("c", "d"), ("b", "c")}


def test_chained_rshift_left_to_right(wf, abcd):
    a, b, c, d = abcd
    seq = a >> b >> c >> d
    assert ids(seq) == ["a", "b", "c", "d"]
    assert edges(wf) == {("a", "b"), ("b", "c"), ("c", "d")}


def test_group_rshift_task_is_group_level(wf, abcd):
    a, b, c, _ = abcd
    g = a | b
    seq = g >> c
    assert isinstance(seq, SequentialTask)
    assert ids(seq) == [g.task_id, "c"]
    assert edges(wf) == {(g.task_id, "c")}


def test_task_rshift_group_is_group_level(wf, abcd):
    a, b, c, _ = abcd
    g = b | c
    seq = a >> g
    assert ids(seq) == ["a", g.task_id]
    assert edges(wf) == {("a", g.task_id)}


def test_lshift_task(wf, abcd):
    a, b, _, _ = abcd
    seq = b << a
    assert isinstance(seq, SequentialTask)
    assert ids(seq) == ["a", "b"]
    assert edges(wf) == {("a", "b")}


def test_lshift_sequence_on_right(wf, abcd):
    a, b, c, _ = abcd
    seq = c << (a >> b)
    assert ids(seq) == ["a", "b", "c"]
    assert edges(wf) == {("a", "b"), ("b", "c")}


def test_lshift_sequence_on_left(wf, abcd):
    a, b, c, _ = abcd
    seq = (b >> c) << a
    assert ids(seq) == ["a", "b", "c"]
    assert edges(wf) == {("b", "c"), ("a", "b")}


def test_lshift_sequences_both_sides(wf, abcd):
    a, b, c, d = abcd
    seq = (c >> d) << (a >> b)
    assert ids(seq) == ["a", "b", "c", "d"]
    assert edges(wf) == {("a", "b"), ("c", "d"), ("b", "c")}


def test_lshift_group(wf, abcd):
    a, b, c, _ = abcd
    g = b | c
    seq = g << a
    assert ids(seq) == ["a", g.task_id]
    assert edges(wf) == {("a", g.task_id)}


# --- | ---------------------------------------------------------------------------------------


def test_task_or_task_creates_group(wf, abcd):
    a, b, _, _ = abcd
    g = a | b
    assert isinstance(g, ParallelGroup)
    assert ids(g) == ["a", "b"]
    assert g.task_id == "ParallelGroup_1"
    assert g.task_id in wf.graph.nodes
    assert edges(wf) == set()
    assert wf.graph.get_parallel_group_members(g.task_id) == ["a", "b"]


def test_group_or_task_appends(wf, abcd):
    a, b, c, _ = abcd
    g = a | b
    g2 = g | c
    assert g2 is g
    assert ids(g) == ["a", "b", "c"]
    assert edges(wf) == set()


def test_chain_of_ors_is_one_group(wf, abcd):
    a, b, c, d = abcd
    g = a | b | c | d
    assert ids(g) == ["a", "b", "c", "d"]
    groups = [n for n in wf.graph.nodes if str(n).startswith("ParallelGroup_")]
    assert groups == ["ParallelGroup_1"]


def test_task_or_group_inserts_front_without_the_odd_edge(wf, abcd):
    """Deliberate divergence (docs/compatibility.md §5): Graflow also adds ``group -> a``,
    so ``a`` runs inside the group and again after it; graflow_core adds no edge."""
    a, b, c, _ = abcd
    g = b | c
    g2 = a | g
    assert g2 is g
    assert ids(g) == ["a", "b", "c"]
    assert edges(wf) == set()


def test_task_or_group_runs_the_new_member_once():
    order = []
    with workflow("front") as wf:
        a, b, c = (TaskWrapper(n, (lambda n=n: order.append(n))) for n in "abc")
        s = TaskWrapper("s", lambda: order.append("s"))
        s >> (a | (b | c))
    wf.execute("s")
    assert sorted(order) == ["a", "b", "c", "s"]


def test_group_or_group_merges_without_successors(wf, abcd):
    a, b, c, d = abcd
    g1 = a | b
    g2 = c | d
    merged = g1 | g2
    assert merged is g1
    assert ids(g1) == ["a", "b", "c", "d"]
    assert g2.task_id not in wf.graph.nodes
    assert g1.task_id in wf.graph.nodes


def test_group_or_group_nests_with_successors(wf, abcd):
    a, b, c, d = abcd
    e = Task("e")
    g1 = a | b
    g2 = c | d
    g1 >> e
    outer = g1 | g2
    assert isinstance(outer, ParallelGroup)
    assert outer is not g1 and outer is not g2
    assert outer.tasks == [g1, g2]
    assert g1.task_id in wf.graph.nodes
    assert g2.task_id in wf.graph.nodes
    assert outer.task_id in wf.graph.nodes


def test_sequence_or_task_uses_leftmost(wf, abcd):
    a, b, c, _ = abcd
    g = (a >> b) | c
    assert isinstance(g, ParallelGroup)
    assert ids(g) == ["a", "c"]
    assert edges(wf) == {("a", "b")}


def test_task_or_sequence_uses_leftmost(wf, abcd):
    a, b, c, _ = abcd
    g = a | (b >> c)
    assert ids(g) == ["a", "b"]
    assert edges(wf) == {("b", "c")}


def test_sequence_or_sequence_uses_leftmosts(wf, abcd):
    a, b, c, d = abcd
    g = (a >> b) | (c >> d)
    assert ids(g) == ["a", "c"]
    assert edges(wf) == {("a", "b"), ("c", "d")}


def test_group_or_sequence_appends_leftmost(wf, abcd):
    a, b, c, d = abcd
    g = a | b
    g2 = g | (c >> d)
    assert g2 is g
    assert ids(g) == ["a", "b", "c"]
    assert edges(wf) == {("c", "d")}


def test_sequence_or_group_inserts_leftmost_without_odd_edge(wf, abcd):
    a, b, c, d = abcd
    g = c | d
    g2 = (a >> b) | g
    assert g2 is g
    assert ids(g) == ["a", "c", "d"]
    assert edges(wf) == {("a", "b")}


def test_or_with_non_executable_raises_type_error(wf, abcd):
    a, *_ = abcd
    with pytest.raises(TypeError):
        a | 5  # type: ignore[operator]


# --- the canonical fan-out / fan-in expression ------------------------------------------------


def test_diamond_through_group_representation(wf):
    @task
    def a():
        return 1

    @task
    def b():
        return 2

    @task
    def c():
        return 3

    @task
    def d():
        return 4

    seq = a >> (b | c) >> d
    assert isinstance(seq, SequentialTask)
    assert ids(seq) == ["a", "ParallelGroup_1", "d"]
    assert set(wf.graph.nodes) == {"a", "b", "c", "d", "ParallelGroup_1"}
    assert edges(wf) == {("a", "ParallelGroup_1"), ("ParallelGroup_1", "d")}
    assert wf.graph.get_parallel_group_members("ParallelGroup_1") == ["b", "c"]


def test_chained_member_keeps_inner_edge(wf):
    fetch, ta, sub, tb, store = (Task(n) for n in ("fetch", "ta", "sub", "tb", "store"))
    fetch >> ((ta >> sub) | tb) >> store
    assert edges(wf) == {
        ("ta", "sub"),
        ("fetch", "ParallelGroup_1"),
        ("ParallelGroup_1", "store"),
    }
    assert wf.graph.get_parallel_group_members("ParallelGroup_1") == ["ta", "tb"]


# --- chain() / parallel() --------------------------------------------------------------------


def test_chain_requires_a_task():
    with pytest.raises(ValueError, match="chain requires at least one task"):
        chain()


def test_chain_single_task(wf, abcd):
    a, *_ = abcd
    seq = chain(a)
    assert isinstance(seq, SequentialTask)
    assert ids(seq) == ["a"]
    assert edges(wf) == set()


def test_chain_single_sequence_is_returned_as_is(wf, abcd):
    a, b, *_ = abcd
    s = a >> b
    assert chain(s) is s


def test_chain_many(wf, abcd):
    a, b, c, d = abcd
    seq = chain(a, b, c, d)
    assert ids(seq) == ["a", "b", "c", "d"]
    assert edges(wf) == {("a", "b"), ("b", "c"), ("c", "d")}


def test_chain_with_group(wf, abcd):
    a, b, c, d = abcd
    seq = chain(a, parallel(b, c), d)
    assert ids(seq) == ["a", "ParallelGroup_1", "d"]
    assert edges(wf) == {("a", "ParallelGroup_1"), ("ParallelGroup_1", "d")}


def test_parallel_requires_two(wf, abcd):
    a, *_ = abcd
    with pytest.raises(ValueError, match="parallel requires at least two tasks"):
        parallel(a)
    with pytest.raises(ValueError, match="parallel requires at least two tasks"):
        parallel()


def test_parallel_many(wf, abcd):
    a, b, c, d = abcd
    g = parallel(a, b, c, d)
    assert isinstance(g, ParallelGroup)
    assert ids(g) == ["a", "b", "c", "d"]
    assert edges(wf) == set()


# --- SequentialTask --------------------------------------------------------------------------


def test_sequential_task_empty_raises():
    with pytest.raises(ValueError):
        SequentialTask([])


def test_sequential_task_protocol(wf, abcd):
    a, b, c, _ = abcd
    seq = a >> b >> c
    assert len(seq) == 3
    assert seq[0] is a
    assert seq[-1] is c
    assert list(seq) == [a, b, c]
    assert seq.leftmost is a
    assert seq.rightmost is c
    assert seq.task_id == "a"
    assert repr(seq) == "SequentialTask([a >> b >> c])"


def test_sequential_task_is_not_a_graph_node(wf, abcd):
    a, b, *_ = abcd
    a >> b
    assert set(wf.graph.nodes) == {"a", "b", "c", "d"}


# --- ParallelGroup ---------------------------------------------------------------------------


def test_group_repr(wf, abcd):
    a, b, *_ = abcd
    assert repr(a | b) == "ParallelGroup(['a', 'b'])"


def test_group_numbering_per_workflow():
    with workflow("w1") as w1:
        g1 = Task("a") | Task("b")
        g2 = Task("c") | Task("d")
    with workflow("w2") as w2:
        g3 = Task("a") | Task("b")
    assert (g1.task_id, g2.task_id, g3.task_id) == (
        "ParallelGroup_1",
        "ParallelGroup_2",
        "ParallelGroup_1",
    )
    assert "ParallelGroup_2" in w1.graph.nodes
    assert "ParallelGroup_1" in w2.graph.nodes


def test_set_group_name_renames_node(wf, abcd):
    a, b, c, d = abcd
    g = a | b
    assert g.set_group_name("fetchers") is g
    assert g.task_id == "fetchers"
    assert "fetchers" in wf.graph.nodes
    assert "ParallelGroup_1" not in wf.graph.nodes
    # the counter keeps going after a rename
    g2 = c | d
    assert g2.task_id == "ParallelGroup_2"


def test_set_group_name_keeps_edges(wf, abcd):
    a, b, c, d = abcd
    g = b | c
    a >> g >> d
    g.set_group_name("mid")
    assert edges(wf) == {("a", "mid"), ("mid", "d")}


def test_set_group_name_existing_raises(wf, abcd):
    a, b, *_ = abcd
    g = a | b
    with pytest.raises(ValueError):
        g.set_group_name("a")


def test_group_name_constructor_argument(wf, abcd):
    a, b, *_ = abcd
    g = ParallelGroup([a, b], name="named")
    assert g.task_id == "named"
    assert "named" in wf.graph.nodes
    assert g.tasks == [a, b]


def test_group_default_execution_config(wf, abcd):
    a, b, *_ = abcd
    g = a | b
    assert g._execution_config == {"backend": None, "backend_config": {}, "policy": "strict"}


def test_group_run_without_engine_context_raises(wf, abcd):
    from graflow_core.exceptions import GraflowRuntimeError

    a, b, *_ = abcd
    g = a | b
    with pytest.raises(GraflowRuntimeError):
        g.run()


def test_operands_may_be_task_wrappers(wf):
    @task
    def x():
        return 1

    def fn():
        return 2

    y = TaskWrapper("y", fn)
    seq = x >> y
    assert ids(seq) == ["x", "y"]
    assert edges(wf) == {("x", "y")}
