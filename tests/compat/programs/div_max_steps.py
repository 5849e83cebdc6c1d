"""max_steps reached with tasks still queued (a loop that never terminates)."""

from graflow.core.decorators import task
from graflow.core.workflow import workflow

with workflow("bounded") as wf:
    count = {"n": 0}

    @task
    def ping():
        count["n"] += 1
        return f"ping{count['n']}"

    @task
    def pong():
        return "pong"

    ping >> pong >> ping
    try:
        result = wf.execute("ping", max_steps=5)
        print("returned:", result)
    except Exception as exc:
        print("raised:", type(exc).__name__, [c.__name__ for c in type(exc).__mro__[1:3]])
    print("ping ran:", count["n"])
