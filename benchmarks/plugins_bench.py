#!/usr/bin/env python3
"""Per-task overhead of graflow's integration plugins (issue 7). Prints JSON medians.

    .venv/bin/python benchmarks/plugins_bench.py                 # every benchmark
    .venv/bin/python benchmarks/plugins_bench.py metrics langchain
    .venv/bin/python benchmarks/plugins_bench.py --n 2000 --repeats 5

Method: an N-task ``>>`` chain (default N = 10,000) runs REPEATS times per variant, the variants
interleaved in one process (entry-point autoload off, so the baseline is the engine's fast path
with no plugin at all). Each figure is the median run time divided by N; ``overhead_us`` is a
variant's median minus the baseline's. Run-level constants (a run plugin's manager, ~1 ms) are
included, spread over N tasks. ``metrics`` and ``langchain`` report this process's CPU time
(``time.process_time``: on a shared machine other processes inflate wall time several-fold)
and the wall-time figures under ``"wall"``.

Benchmarks (add yours to ``BENCHMARKS``; each returns a JSON-able dict):

* ``metrics`` — graflow-metrics' ``MetricsPlugin`` (run plugin, fresh ``CollectorRegistry``),
  without and with the JSON-log context (kept by default only once a ``JsonFormatter`` exists),
  and a no-op ``task_start``/``task_end`` plugin (the
  engine's cost of any task-observing plugin); the issue's budget is <= 20 us per task.
* ``langchain`` — a chain of ``langchain`` tasks, each a ``RunnableLambda`` taking its
  upstream's result, against calling the same Runnable N times directly (and against plain
  function tasks, to separate the engine's share).
* ``mlflow`` / ``wandb`` — graflow-mlflow's ``MlflowTracking`` (local SQLite store) and
  graflow-wandb's ``WandbTracking`` (``WANDB_MODE=offline``) as run plugins. They write to a
  store per task, so N is capped at 200 and REPEATS at 5: ``marginal_us_per_task`` is
  (median(N-task run) - median(1-task run)) / (N - 1), the cost each further task adds to
  the whole run; ``critical_path_overhead_us_per_task`` what it adds per task between the
  first task's body and the last one's (MLflow writes on a background thread by default:
  tasks do not wait for them, the end of the run does); ``per_run_ms`` the 1-task run over
  the untracked one (finding/creating the parent run, ``wandb.init``/``finish``).
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


def time_runs(
    variants: dict[str, Callable[[], Any]],
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Run every variant ``repeats`` times, interleaved; returns the seconds of each run
    (by ``clock``: wall time by default, ``time.process_time`` for this process's CPU time)."""
    return _time_runs(variants, repeats, (clock,))[0]


def _time_runs(
    variants: dict[str, Callable[[], Any]],
    repeats: int,
    clocks: tuple[Callable[[], float], ...],
) -> list[dict[str, list[float]]]:
    times: list[dict[str, list[float]]] = [{name: [] for name in variants} for _ in clocks]
    for fn in variants.values():  # warm-up (imports, first-run caches)
        fn()
    for _ in range(repeats):
        for name, fn in variants.items():
            gc.collect()
            started = [clock() for clock in clocks]
            fn()
            for i, clock in enumerate(clocks):
                times[i][name].append(clock() - started[i])
    return times


def timed_per_task(
    variants: dict[str, Callable[[], Any]], repeats: int, n: int, baseline: str
) -> dict[str, Any]:
    """:func:`per_task` by this process's CPU time (the headline: other processes on a shared
    machine inflate wall time several-fold) and, under ``"wall"``, by wall time."""
    cpu, wall = _time_runs(variants, repeats, (time.process_time, time.perf_counter))
    result = per_task(cpu, n, baseline)
    result["wall"] = per_task(wall, n, baseline)
    return result


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
    result = timed_per_task(
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
        n,
        "no_plugin",
    )
    recorded = registry.get_sample_value(
        "graflow_tasks_total", {"workflow": "bench", "task": "t0", "status": "success"}
    )
    assert recorded == 2 * (repeats + 1), recorded  # the plugin really recorded every run
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

    return timed_per_task(
        {
            "runnable_invoke_direct": direct,
            "function_task_calling_invoke": via_function_task,
            "langchain_task_type": via_type,
        },
        repeats,
        n,
        "runnable_invoke_direct",
    )


# -- tracking (mlflow, wandb) -------------------------------------------------------------------


def _tracking_bench(n: int, repeats: int, make_plugin: Callable[[], Any]) -> dict[str, Any]:
    """Marginal per-task cost and per-run constant of a tracking run plugin (see module doc)."""
    from graflow_core import task

    n = min(n, 200)
    repeats = min(repeats, 5)
    marks: list[float] = []

    def noop() -> None:
        return None

    def mark() -> None:
        marks.append(time.perf_counter())

    def make(size: int) -> Any:
        return lambda i: task(id=f"t{i}")(mark if i in (0, size - 1) else noop)

    long_wf = chain_workflow(n, make(n), "bench")
    short_wf = chain_workflow(1, make(1), "bench")
    plugin = make_plugin()
    # From the first task's body to the last one's: what the tasks wait for, without the
    # run's start (parent run, wandb.init) and end (waiting for queued writes, finish).
    critical: dict[str, list[float]] = {"untracked_n": [], "tracked_n": []}

    def run(wf: Any, plugins: list[Any], name: str) -> Callable[[], Any]:
        def go() -> None:
            marks.clear()
            wf.execute(start_node="t0", max_steps=10**7, plugins=plugins)
            if name in critical:
                critical[name].append(marks[-1] - marks[0])

        return go

    times = time_runs(
        {
            name: run(wf, plugins, name)
            for name, wf, plugins in (
                ("untracked_1", short_wf, []),
                ("untracked_n", long_wf, []),
                ("tracked_1", short_wf, [plugin]),
                ("tracked_n", long_wf, [plugin]),
            )
        },
        repeats,
    )
    med = {name: statistics.median(runs) for name, runs in times.items()}
    marginal = (med["tracked_n"] - med["tracked_1"]) / (n - 1)
    untracked = (med["untracked_n"] - med["untracked_1"]) / (n - 1)
    on_path = statistics.median(critical["tracked_n"]) - statistics.median(critical["untracked_n"])
    return {
        "n": n,
        "repeats": repeats,
        "marginal_us_per_task": round(marginal * 1e6, 1),
        "marginal_overhead_us_per_task": round((marginal - untracked) * 1e6, 1),
        "critical_path_overhead_us_per_task": round(on_path / (n - 1) * 1e6, 1),
        "per_run_ms": round((med["tracked_1"] - med["untracked_1"]) * 1e3, 1),
        "tracked_run_ms": round(med["tracked_n"] * 1e3, 1),
    }


def bench_mlflow(n: int, repeats: int) -> dict[str, Any]:
    """graflow-mlflow's MlflowTracking into a local SQLite store (a parent + a child per task)."""
    import tempfile

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    tmp = tempfile.mkdtemp(prefix="graflow-mlflow-bench-")
    os.environ["GRAFLOW_MLFLOW_ARTIFACT_LOCATION"] = os.path.join(tmp, "artifacts")
    from graflow_mlflow import MlflowTracking

    uri = f"sqlite:///{tmp}/mlflow.db"
    result = _tracking_bench(n, repeats, lambda: MlflowTracking(uri, "bench"))
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("bench")
    runs = client.search_runs([experiment.experiment_id], max_results=50_000)
    result["runs_logged"] = len(runs)  # the plugin really logged: parents + children
    return result


def bench_wandb(n: int, repeats: int) -> dict[str, Any]:
    """graflow-wandb's WandbTracking in offline mode (one W&B run per workflow run)."""
    import tempfile

    tmp = tempfile.mkdtemp(prefix="graflow-wandb-bench-")
    os.environ.update(WANDB_MODE="offline", WANDB_DIR=tmp, WANDB_SILENT="true")
    from graflow_wandb import WandbTracking, find_offline_runs

    result = _tracking_bench(n, repeats, lambda: WandbTracking(project="bench", dir=tmp))
    result["runs_logged"] = len(find_offline_runs(tmp))
    return result


BENCHMARKS: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "metrics": bench_metrics,
    "langchain": bench_langchain,
    "mlflow": bench_mlflow,
    "wandb": bench_wandb,
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
