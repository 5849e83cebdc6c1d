"""Calling a task with kwargs outside a run creates a bound instance with its own id."""

from graflow.core.decorators import task
from graflow.core.workflow import workflow

with workflow("inst") as wf:

    @task
    def fetch(city, unit="C"):
        print("fetch", city, unit)
        return f"{city}:{unit}"

    tokyo = fetch(task_id="tokyo", city="Tokyo")
    paris = fetch(task_id="paris", city="Paris", unit="F")
    auto = fetch(city="Oslo")
    print(
        "ids:", tokyo.task_id, paris.task_id, auto.task_id.startswith("fetch_"), len(auto.task_id)
    )
    print("bound:", tokyo._bound_kwargs, paris._bound_kwargs)
    print("distinct:", tokyo is not fetch, tokyo.func is paris.func)
    try:
        fetch("positional", task_id="x")
    except TypeError as exc:
        print("positional:", type(exc).__name__)
    tokyo >> paris
    result, ctx = wf.execute("tokyo", ret_context=True)
    print("result:", result, ctx.get_result("tokyo"))
    print("nodes:", sorted(n for n in wf.graph.nodes if not n.startswith("fetch_")))
