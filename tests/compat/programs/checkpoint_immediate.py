"""Immediate checkpoint: returns (path, metadata); resume re-runs the task from its start."""

import os
import tempfile

from graflow.core.checkpoint import CheckpointManager, CheckpointMetadata
from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow


class Log(list):
    """A list that also prints what is appended (restored tasks hold their own copy)."""

    def append(self, item):
        print("  ran:", item)
        super().append(item)


tmp = tempfile.mkdtemp()
runs = Log()
with workflow("imm") as wf:

    @task(inject_context=True)
    def work(ctx: TaskExecutionContext):
        ch = ctx.get_channel()
        runs.append(("work", ch.get("phase", "start"), ctx.cycle_count))
        if ch.get("phase") is None:
            ch.set("phase", "saved")
            path, meta = ctx.checkpoint(path=os.path.join(tmp, "imm.pkl"), deferred=False)
            print("immediate:", os.path.basename(path), isinstance(meta, CheckpointMetadata))
            print("meta user:", sorted(meta.user_metadata), meta.user_metadata["mode"])
        return "worked"

    @task
    def done(work):
        runs.append(("done", work))
        return "finished"

    work >> done
    print("first:", wf.execute("work"))

print("runs:", runs)
runs.clear()
restored, md = CheckpointManager.resume_from_checkpoint(os.path.join(tmp, "imm.pkl"))
print(
    "resuming id queued first:",
    restored.task_queue.to_list()[0] if hasattr(restored.task_queue, "to_list") else "n/a",
)
print("second:", restored.execute())
print("runs:", runs)
