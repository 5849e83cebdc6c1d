"""Plugin-hook overhead per task: a 10,000-task ``>>`` chain of no-op tasks, by plugin set-up.

graflow_core only (Graflow 0.2 has no plugin hooks). Modes:
  none      no plugin registered (entry-point autoload off): the engine's fast path
  observer  one plugin implementing task_start + task_end (no-ops)
  host      one plugin implementing execute_task, running every task via invoke()
Usage: python hooks.py MODE N  -> prints one line ``BENCH_RESULT {json}``.
"""

import json
import os
import sys
import time

os.environ["GRAFLOW_DISABLE_PLUGIN_AUTOLOAD"] = "1"

from graflow.core.decorators import task
from graflow.core.workflow import workflow

MODE = sys.argv[1] if len(sys.argv) > 1 else "none"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
CALLS = 0


def noop():
    global CALLS
    CALLS += 1


if MODE not in ("none", "observer", "host"):
    raise SystemExit(f"unknown mode {MODE!r}")
if MODE != "none":
    from graflow.plugins import TaskOutcome, get_plugin_manager, hookimpl

    class Observer:
        @hookimpl
        def task_start(self, task_id):
            pass

        @hookimpl
        def task_end(self, task_id, result):
            pass

    class Host:
        @hookimpl
        def execute_task(self, invoke):
            return TaskOutcome(invoke())

    get_plugin_manager().register(Observer() if MODE == "observer" else Host(), name=MODE)


def run_once():
    with workflow("bench") as wf:
        tasks = [task(id=f"t{i}")(noop) for i in range(N)]
        for i in range(1, N):
            tasks[i - 1] >> tasks[i]
    t0 = time.perf_counter()
    wf.execute(start_node="t0", max_steps=10**7)
    return time.perf_counter() - t0


first = run_once()  # the first run in the process (autoload is off: no entry-point scan)
best = min(run_once() for _ in range(3))
if CALLS != 4 * N:
    raise SystemExit(f"hooks: expected {4 * N} task executions, got {CALLS}")

extra = {}
if MODE == "observer":
    # One hook call: the engine's direct dispatch against pluggy's own caller.
    from graflow.core.hooks import active_hooks

    direct = active_hooks().task_end
    via_pluggy = get_plugin_manager().hook.task_end
    CALLS_N = 100_000
    for name, caller in (("hook_call_direct_s", direct), ("hook_call_pluggy_s", via_pluggy)):
        t0 = time.perf_counter()
        for _ in range(CALLS_N):
            caller(task=None, task_id="t", context=None, result=None)
        extra[name] = (time.perf_counter() - t0) / CALLS_N
if MODE == "none":
    try:  # the entry-point scan a first run does when autoload is on (absent before hooks)
        from graflow.core.hooks import entry_points_present
    except ImportError:
        pass
    else:
        t0 = time.perf_counter()
        entry_points_present()
        extra["discovery_scan_s"] = time.perf_counter() - t0
        # What the first run of a process pays when autoload is on: finding, importing and
        # registering every installed plugin (pluggy included) -- here, whatever integrations
        # the environment has installed.
        del os.environ["GRAFLOW_DISABLE_PLUGIN_AUTOLOAD"]
        t0 = time.perf_counter()
        from graflow.plugins import get_plugin_manager

        manager = get_plugin_manager()
        extra["plugin_load_s"] = time.perf_counter() - t0
        extra["plugins_loaded"] = len(manager.plugin_info())
print(
    "BENCH_RESULT "
    + json.dumps(
        {
            "mode": MODE,
            "n": N,
            "first_run_s": first,
            "run_s": best,
            **extra,
            "module_file": sys.modules[task.__module__].__file__,
        }
    )
)
