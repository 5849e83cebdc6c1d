"""Per-task engine overhead: an N-task ``>>`` chain of no-op tasks.

Written once against Graflow's API. The runner executes it unchanged under Graflow 0.2 and, with
only the ``graflow`` import lines rewritten to ``graflow_core``, under graflow_core.
Usage: python chain.py N   -> prints one line ``BENCH_RESULT {json}``.
Also used for the memory benchmark (N=100000): it reports the process's peak RSS.
"""

import json
import resource
import sys
import time

t_import0 = time.perf_counter()
from graflow.core.decorators import task  # noqa: E402
from graflow.core.workflow import workflow  # noqa: E402

t_import1 = time.perf_counter()

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
CALLS = 0


def noop():
    global CALLS
    CALLS += 1


def rss_now_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


rss_after_import = rss_now_mb()

t0 = time.perf_counter()
with workflow("bench") as wf:
    tasks = [task(id=f"t{i}")(noop) for i in range(N)]
    for i in range(1, N):
        tasks[i - 1] >> tasks[i]
t1 = time.perf_counter()
rss_after_build = rss_now_mb()

wf.execute(start_node="t0", max_steps=10**7)
t2 = time.perf_counter()

if CALLS != N:
    raise SystemExit(f"chain: expected {N} task executions, got {CALLS}")

print(
    "BENCH_RESULT "
    + json.dumps(
        {
            "n": N,
            "import_s": t_import1 - t_import0,
            "build_s": t1 - t0,
            "run_s": t2 - t1,
            "tasks_executed": CALLS,
            "rss_after_import_mb": rss_after_import,
            "rss_after_build_mb": rss_after_build,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "module_file": sys.modules[task.__module__].__file__,
        }
    )
)
