"""Checkpoint cost: write + resume of a checkpoint whose channel holds N keys.

The context comes from a tiny workflow run with ``ret_context=True`` after filling the channel
with N keys through ``initial_channel``; then ``CheckpointManager.create_checkpoint(ctx,
path=...)`` and ``CheckpointManager.resume_from_checkpoint(path)`` are timed.
Written once against Graflow's API; the runner rewrites only the import lines for graflow_core.
Usage: python checkpoint.py N OUTDIR   -> prints one line ``BENCH_RESULT {json}``.
"""

import json
import os
import sys
import time

from graflow.core.checkpoint import CheckpointManager
from graflow.core.decorators import task
from graflow.core.workflow import workflow

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
OUTDIR = sys.argv[2] if len(sys.argv) > 2 else "."

initial = {f"key{i}": {"i": i, "name": f"item-{i}"} for i in range(N)}

with workflow("bench") as wf:

    @task
    def first():
        return "first"

    @task
    def second():
        return "second"

    first >> second

result, ctx = wf.execute(start_node="first", ret_context=True, initial_channel=initial)
if result != "second":
    raise SystemExit(f"checkpoint: tiny workflow returned {result!r}, expected 'second'")

# First write/resume in the process: what a script that checkpoints once pays, including any
# lazily imported serialisation machinery. Then more rounds (to new paths) for steady state.
# CPU time is reported too: wall time here is dominated by fsync latency, which varies a lot
# on a shared disk, while the cost of hashing/signing is CPU.
path = os.path.join(OUTDIR, "bench_ckpt")
c0 = time.process_time()
t0 = time.perf_counter()
pkl_path, meta = CheckpointManager.create_checkpoint(ctx, path=path)
t1 = time.perf_counter()
restored, meta2 = CheckpointManager.resume_from_checkpoint(pkl_path)
t2 = time.perf_counter()
c2 = time.process_time()

# Steady state: AGAIN more rounds, each to a new path; the medians are reported.
AGAIN = 5
writes, resumes, cpus = [], [], []
for round_no in range(AGAIN):
    c3 = time.process_time()
    t3 = time.perf_counter()
    pkl_path2, _ = CheckpointManager.create_checkpoint(ctx, path=f"{path}_again{round_no}")
    t4 = time.perf_counter()
    restored2, _ = CheckpointManager.resume_from_checkpoint(pkl_path2)
    t5 = time.perf_counter()
    cpus.append(time.process_time() - c3)
    writes.append(t4 - t3)
    resumes.append(t5 - t4)
    if restored2.get_channel().get(f"key{N - 1}") != initial[f"key{N - 1}"]:
        raise SystemExit("checkpoint: second resume lost data")
writes.sort()
resumes.sort()
cpus.sort()

channel = restored.get_channel()
missing = [k for k in ("key0", f"key{N - 1}") if channel.get(k) != initial[k]]
if missing:
    raise SystemExit(f"checkpoint: keys {missing} not restored correctly")
keys = channel.keys()  # Channel.keys() -> list[str]
n_keys = len([k for k in keys if k.startswith("key")])
if n_keys != N:
    raise SystemExit(f"checkpoint: expected {N} restored keys, got {n_keys}")

base = pkl_path[: -len(".pkl")] if pkl_path.endswith(".pkl") else pkl_path
files = [base + ".pkl", base + ".state.json", base + ".meta.json"]
size = sum(os.path.getsize(f) for f in files if os.path.exists(f))

print(
    "BENCH_RESULT "
    + json.dumps(
        {
            "n": N,
            "write_s": t1 - t0,
            "resume_s": t2 - t1,
            "write_again_s": writes[AGAIN // 2],
            "resume_again_s": resumes[AGAIN // 2],
            "write_resume_cpu_s": c2 - c0,
            "write_resume_again_cpu_s": cpus[AGAIN // 2],
            "bytes": size,
            "restored_keys": n_keys,
            "module_file": sys.modules[CheckpointManager.__module__].__file__,
        }
    )
)
