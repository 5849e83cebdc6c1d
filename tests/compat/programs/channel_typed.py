"""TypedChannel via task context: validation on set, invalid stored values read as None."""

from typing import TypedDict

from graflow.channels.typed import TypedChannel
from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow


class Point(TypedDict):
    x: int
    y: int
    label: str


with workflow("typed") as wf:

    @task(inject_context=True)
    def writer(ctx: TaskExecutionContext):
        tc = ctx.get_typed_channel(Point)
        print("typed type:", type(tc).__name__, isinstance(tc, TypedChannel))
        tc.set("p", {"x": 1, "y": 2, "label": "a"})
        for bad in (
            {"x": 1, "y": 2},
            {"x": 1, "y": "2", "label": "a"},
            {"x": 1, "y": 2, "label": "a", "z": 0},
        ):
            try:
                tc.set("bad", bad)
            except TypeError as exc:
                print("rejected:", type(exc).__name__, sorted(bad))
        ctx.get_channel().set("raw", {"x": "no"})

    @task(inject_context=True)
    def reader(ctx: TaskExecutionContext):
        tc = ctx.get_typed_channel(Point)
        print("p:", tc.get("p"))
        print("raw invalid:", tc.get("raw"))
        print("missing:", tc.get("missing"))
        print("exists bad:", ctx.get_channel().exists("bad"))

    writer >> reader
    wf.execute("writer")
