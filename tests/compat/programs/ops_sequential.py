"""Operators: >> and << build edges and SequentialTask values; execution follows the chain."""

from graflow.core.decorators import task
from graflow.core.task import SequentialTask
from graflow.core.workflow import workflow

with workflow("seq") as wf:
    order = []

    @task
    def a():
        order.append("a")
        return "A"

    @task
    def b():
        order.append("b")
        return "B"

    @task
    def c():
        order.append("c")
        return "C"

    @task
    def d():
        order.append("d")
        return "D"

    seq = a >> b
    print("type:", type(seq).__name__, isinstance(seq, SequentialTask))
    print("repr:", repr(seq))
    print("task_id:", seq.task_id, "len:", len(seq))
    print("leftmost/rightmost:", seq.leftmost.task_id, seq.rightmost.task_id)
    seq2 = seq >> c
    print("repr2:", repr(seq2), [t.task_id for t in seq2])
    seq3 = d << c
    print("repr3:", repr(seq3))
    print("edges:", sorted(wf.graph.get_edges()))
    print("nodes:", sorted(wf.graph.nodes))
    result, ctx = wf.execute("a", ret_context=True)
    print("order:", order)
    print("result:", result)
    print("completed:", ctx.completed_tasks, "steps:", ctx.steps)
    print("results:", [ctx.get_result(t) for t in "abcd"])
