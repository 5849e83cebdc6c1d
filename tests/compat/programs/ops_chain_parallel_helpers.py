"""chain() and parallel() helpers and their argument errors."""

from graflow.core.decorators import task
from graflow.core.task import SequentialTask, chain, parallel
from graflow.core.workflow import workflow

with workflow("helpers") as wf:
    ran = []

    @task
    def x():
        ran.append("x")

    @task
    def y():
        ran.append("y")

    @task
    def z():
        ran.append("z")

    @task
    def w():
        ran.append("w")

    one = chain(x)
    print("chain(x):", type(one).__name__, repr(one))
    again = chain(one)
    print("chain(seq) is seq:", again is one)
    s = chain(x, y, z)
    print("chain(x,y,z):", repr(s))
    p = parallel(z, w)
    print("parallel:", repr(p), p.task_id)
    for fn, args in ((chain, ()), (parallel, ()), (parallel, (x,))):
        try:
            fn(*args)
        except ValueError as exc:
            print(f"{fn.__name__}{(args and '(x)') or '()'}:", type(exc).__name__, exc)
    print("edges:", sorted(wf.graph.get_edges()))
    wf.execute("x")
    print("ran:", ran)
    print("isinstance:", isinstance(s, SequentialTask))
