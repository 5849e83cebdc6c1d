"""Deferred checkpoint from a task, the three files, their fields, and resume."""

import json
import os
import tempfile

from graflow.core.checkpoint import CheckpointManager
from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.engine import WorkflowEngine
from graflow.core.workflow import workflow


class Log(list):
    """A list that also prints what is appended (restored tasks hold their own copy)."""

    def append(self, item):
        print("  ran:", item)
        super().append(item)


tmp = tempfile.mkdtemp()
base = os.path.join(tmp, "cp")
log = Log()
with workflow("cp") as wf:

    @task
    def one():
        log.append("one")
        return 1

    @task(inject_context=True)
    def two(ctx: TaskExecutionContext):
        log.append("two")
        ctx.get_channel().set("note", "kept")
        print("checkpoint() returns:", ctx.checkpoint(path=base, metadata={"stage": "two"}))
        return 2

    @task
    def three(two):
        log.append(f"three({two})")
        return 3

    @task
    def four():
        log.append("four")
        return 4

    one >> two >> three >> four
    result, ctx = wf.execute("one", ret_context=True)

print("first run:", log, result)
print("files:", sorted(os.listdir(tmp)))
print("last path ok:", ctx.last_checkpoint_path == base + ".pkl")
with open(base + ".state.json") as f:
    state = json.load(f)
print("state keys:", sorted(state))
print(
    "state:", state["schema_version"], state["start_node"], state["steps"], state["completed_tasks"]
)
print("pending:", [(p["task_id"], p["status"], p["retry_count"]) for p in state["pending_tasks"]])
print("resuming:", state["resuming_task_id"], "cycles:", state["cycle_counts"], state["backend"])
with open(base + ".meta.json") as f:
    meta = json.load(f)
print("meta keys:", sorted(meta))
print(
    "meta user keys:",
    sorted(meta["user_metadata"]),
    meta["user_metadata"]["stage"],
    meta["user_metadata"]["mode"],
)

log.clear()
restored, md = CheckpointManager.resume_from_checkpoint(base)
print("metadata type:", type(md).__name__, md.steps, md.start_node, md.backend)
print("restored:", restored.completed_tasks, restored.steps, restored.get_channel().get("note"))
print("resumed result:", WorkflowEngine().execute(restored))
print("resumed log:", log, restored.steps, restored.completed_tasks)
