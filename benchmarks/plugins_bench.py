#!/usr/bin/env python3
"""Per-task overhead of graflow's integration plugins (issue 7). Prints JSON medians.

    .venv/bin/python benchmarks/plugins_bench.py                 # every benchmark
    .venv/bin/python benchmarks/plugins_bench.py metrics langchain
    .venv/bin/python benchmarks/plugins_bench.py --n 2000 --repeats 5

Method: an N-task ``>>`` chain (default N = 10,000) runs REPEATS times per variant, the variants
interleaved in one process (entry-point autoload off, so the baseline is the engine's fast path
with no plugin at all). Each figure is the median run time divided by N; ``overhead_us`` is a
variant's median minus the baseline's. Run-level constants (a run plugin's manager, ~1 ms) are
included, spread over N tasks.

Benchmarks (add yours to ``BENCHMARKS``; each returns a JSON-able dict):

* ``metrics`` — graflow-metrics' ``MetricsPlugin`` (run plugin, fresh ``CollectorRegistry``),
  without and with the JSON-log context (kept by default only once a ``JsonFormatter`` exists),
  and a no-op ``task_start``/``task_end`` plugin (the
  engine's cost of any task-observing plugin); the issue's budget is <= 20 us per task.
* ``langchain`` — a chain of ``langchain`` tasks, each a ``RunnableLambda`` taking its
  upstream's result, against calling the same Runnable N times directly (and against plain
  function tasks, to separate the engine's share).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ["GRAFLOW_DISABLE_PLUGIN_AUTOLOAD"] = "1"


def chain_workflow(n: int, make_task: Callable[[int], Any], name: str = "bench") -> Any:
    """A workflow ``t0 >> t1 >> ... >> t{n-1}`` whose tasks ``make_task(i)`` builds."""
    from graflow_core import workflow

    with workflow(name) as wf:
        tasks = [make_task(i) for i in range(n)]
        for i in range(1, n):
            tasks[i - 1] >> tasks[i]
    return wf


def time_runs(variants: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Run every variant ``repeats`` times, interleaved; returns the seconds of each run."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for fn in variants.values():  # warm-up (imports, first-run caches)
        fn()
    for _ in range(repeats):
        for name, fn in variants.items():
            gc.collect()
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return times


def per_task(times: dict[str, list[float]], n: int, baseline: str) -> dict[str, Any]:
    """Median microseconds per task of each variant, and its overhead over ``baseline``."""
    medians = {name: statistics.median(runs) / n * 1e6 for name, runs in times.items()}
    return {
        name: {
            "us_per_task": round(value, 2),
            "overhead_us": round(value - medians[baseline], 2),
        }
        for name, value in medians.items()
    }


# -- metrics ---------------------------------------------------------------------------------


def bench_metrics(n: int, repeats: int) -> dict[str, Any]:
    """graflow-metrics' MetricsPlugin against no plugin."""
    from graflow_metrics import MetricsPlugin
    from prometheus_client import CollectorRegistry

    from graflow_core import task
    from graflow_core.plugins import hookimpl

    def noop() -> None:
        return None

    class NoopObserver:
        """What any plugin observing tasks costs in the engine (the core's share)."""

        @hookimpl
        def task_start(self, task_id: str) -> None:
            return None

        @hookimpl
        def task_end(self, task_id: str) -> None:
            return None

    wf = chain_workflow(n, lambda i: task(id=f"t{i}")(noop))
    observer = NoopObserver()
    registry = CollectorRegistry()
    default = MetricsPlugin(registry=registry)  # no JsonFormatter here: no log context
    with_log = MetricsPlugin(registry=registry, log_context=True)
    times = time_runs(
        {
            "no_plugin": lambda: wf.execute(start_node="t0", max_steps=10**7),
            "noop_observer_plugin": lambda: wf.execute(
                start_node="t0", max_steps=10**7, plugins=[observer]
            ),
            "metrics": lambda: wf.execute(start_node="t0", max_steps=10**7, plugins=[default]),
            "metrics_with_log_context": lambda: wf.execute(
                start_node="t0", max_steps=10**7, plugins=[with_log]
            ),
        },
        repeats,
    )
    recorded = registry.get_sample_value(
        "graflow_tasks_total", {"workflow": "bench", "task": "t0", "status": "success"}
    )
    assert recorded == 2 * (repeats + 1), recorded  # the plugin really recorded every run
    result = per_task(times, n, "no_plugin")
    result["budget_us"] = 20.0
    result["within_budget"] = result["metrics"]["overhead_us"] <= 20.0
    # The plugin's own share: on top of what the engine spends on any task-observing plugin.
    result["metrics_own_us"] = round(
        result["metrics"]["us_per_task"] - result["noop_observer_plugin"]["us_per_task"], 2
    )
    return result


# -- langchain --------------------------------------------------------------------------------


def bench_langchain(n: int, repeats: int) -> dict[str, Any]:
    """The ``langchain`` task type against calling the Runnable directly."""
    from graflow_langchain import langchain_task
    from langchain_core.runnables import RunnableLambda

    from graflow_core import task

    def inc(x: int) -> int:
        return x + 1

    runnable = RunnableLambda(inc)

    def make_lc(i: int) -> Any:
        if i == 0:
            return task(id="t0")(lambda: 0)
        return langchain_task(runnable, id=f"t{i}")

    def make_plain(i: int) -> Any:
        if i == 0:
            return task(id="t0")(lambda: 0)
        # a function task that calls the Runnable itself (same work, no task type)
        return task(id=f"t{i}", resolve_keyword_args=False, inject_context=True)(
            lambda ctx, _id=f"t{i - 1}": runnable.invoke(ctx.get_result(_id))
        )

    lc_wf = chain_workflow(n, make_lc, "lc")
    plain_wf = chain_workflow(n, make_plain, "plain")

    def direct() -> None:
        value = 0
        for _ in range(n - 1):
            value = runnable.invoke(value)
        assert value == n - 1

    def via_type() -> None:
        assert lc_wf.execute(start_node="t0", max_steps=10**7) == n - 1

    def via_function_task() -> None:
        assert plain_wf.execute(start_node="t0", max_steps=10**7) == n - 1

    times = time_runs(
        {
            "runnable_invoke_direct": direct,
            "function_task_calling_invoke": via_function_task,
            "langchain_task_type": via_type,
        },
        repeats,
    )
    return per_task(times, n, "runnable_invoke_direct")


BENCHMARKS: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "metrics": bench_metrics,
    "langchain": bench_langchain,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run ({', '.join(BENCHMARKS)})")
    parser.add_argument("--n", type=int, default=10_000, help="tasks per chain")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per variant")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    report: dict[str, Any] = {
        "n": args.n,
        "repeats": args.repeats,
        "python": sys.version.split()[0],
    }
    for name in names:
        report[name] = BENCHMARKS[name](args.n, args.repeats)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
