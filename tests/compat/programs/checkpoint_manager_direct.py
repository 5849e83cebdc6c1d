"""CheckpointManager.create_checkpoint between runs, metadata helpers, missing files."""

import os
import tempfile

from graflow.core.checkpoint import CheckpointManager, CheckpointMetadata
from graflow.core.context import ExecutionContext
from graflow.core.engine import WorkflowEngine
from graflow.core.graph import TaskGraph
from graflow.core.task import TaskWrapper


class Log(list):
    """A list that also prints what is appended (restored tasks hold their own copy)."""

    def append(self, item):
        print("  ran:", item)
        super().append(item)


tmp = tempfile.mkdtemp()
graph = TaskGraph()
log = Log()
for name in ("s1", "s2", "s3"):
    graph.add_node(
        TaskWrapper(name, lambda n=name: log.append(n) or n.upper(), register_to_context=False),
        name,
    )
graph.add_edge("s1", "s2")
graph.add_edge("s2", "s3")
ctx = ExecutionContext.create(graph, "s1")
ctx.get_channel().set("k", "v")
path, meta = CheckpointManager.create_checkpoint(
    ctx, path=os.path.join(tmp, "manual"), metadata={"why": "test"}
)
print("path:", os.path.basename(path), "meta:", meta.steps, meta.start_node, meta.user_metadata)
print("to_dict keys:", sorted(meta.to_dict()))
rt = CheckpointMetadata.from_dict(meta.to_dict())
print("roundtrip:", rt.to_dict() == meta.to_dict())
print(
    "infer:",
    [CheckpointManager._infer_backend_from_path(p) for p in ("a/b.pkl", "redis://x", "s3://b/k")],
)
restored, _ = CheckpointManager.resume_from_checkpoint(path)
print("restored run:", WorkflowEngine().execute(restored), log, restored.get_channel().get("k"))
try:
    CheckpointManager.resume_from_checkpoint(os.path.join(tmp, "missing"))
except FileNotFoundError as exc:
    print("missing:", type(exc).__name__)
for bad in ("redis://host/key", "s3://bucket/key"):
    try:
        CheckpointManager.create_checkpoint(ctx, path=bad)
    except NotImplementedError as exc:
        print("unsupported:", bad.split(":")[0], type(exc).__name__)
