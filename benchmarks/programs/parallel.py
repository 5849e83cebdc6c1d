"""Parallel-group overhead: ``src >> parallel(t0..tN-1) >> sink`` with N no-op members.

Written once against Graflow's API; the runner rewrites only the import lines for graflow_core.
Usage: python parallel.py N   -> prints one line ``BENCH_RESULT {json}``.
"""

import itertools
import json
import resource
import sys
import time

from graflow.core.decorators import task
from graflow.core.task import parallel
from graflow.core.workflow import workflow

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
COUNTER = itertools.count()  # next() on itertools.count is atomic under the GIL
SINK_RAN = []


def noop():
    next(COUNTER)


def sink_fn():
    SINK_RAN.append(True)


t0 = time.perf_counter()
with workflow("bench") as wf:
    src = task(id="src")(noop)
    members = [task(id=f"p{i}")(noop) for i in range(N)]
    sink = task(id="sink")(sink_fn)
    src >> parallel(*members) >> sink
t1 = time.perf_counter()

wf.execute(start_node="src", max_steps=10**7)
t2 = time.perf_counter()

calls = next(COUNTER)  # src + N members
if calls != N + 1 or SINK_RAN != [True]:
    raise SystemExit(
        f"parallel: expected {N + 1} no-op runs and 1 sink run, got {calls} and {len(SINK_RAN)}"
    )

print(
    "BENCH_RESULT "
    + json.dumps(
        {
            "n": N,
            "build_s": t1 - t0,
            "run_s": t2 - t1,
            "tasks_executed": calls + len(SINK_RAN),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "module_file": sys.modules[task.__module__].__file__,
        }
    )
)
