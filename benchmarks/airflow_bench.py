"""graflow-airflow numbers: a rendered DAG vs a hand-written TaskFlow DAG under ``dag.test()``,
the parse time of a 500-task DAG file, and the import overhead of ``graflow_airflow``.

1. **dag.test() wall time.** The same eight computations -- ``fetch``, four ``score_<k>``
   tasks fanning out from it, ``merge`` fanning in, ``publish`` -- once as a graflow workflow
   rendered with ``to_airflow_dag`` (one GraflowTaskOperator per task, step payloads through
   XCom) and once as plain TaskFlow ``@task`` code passing the values through XCom. Both run in
   one temporary Airflow installation (``graflow_airflow.testing.airflow_environment``); runs
   alternate after warm-up runs so machine load affects both alike. Target: ratio <= 1.10.
2. **DAG-file parse time.** ``graflow export`` of a 500-task workflow, parsed by Airflow's own
   ``DagBag`` in a fresh process the way the DAG processor's per-file process does it
   (Airflow imported, ``gc.freeze()``d). Target: <= 1 s.
3. **Import overhead.** ``import graflow_airflow`` after ``import airflow`` (fresh processes).
   Target: <= 30 ms.

The tasks must be importable by reference, so the program imports itself as the module
``airflow_bench`` and renders the workflow from there.

Usage: python benchmarks/airflow_bench.py [--runs N] [--warmup N] [--work N] [--parse-runs N]
Prints one line ``BENCH_RESULT {json}`` with the medians (Airflow logs to stdout too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from graflow_core.core.decorators import task
from graflow_core.core.workflow import WorkflowContext, workflow

SCORES = (2, 3, 5, 7)


def crunch(seed: int, rounds: int) -> int:
    """A few milliseconds of pure-Python work, the same in both DAGs."""
    acc = seed
    for i in range(rounds):
        acc = (acc * 31 + i) % 999_983
    return acc


# -- the graflow workflow (tasks at module level: referenced as airflow_bench:<name>) -----------


@task
def fetch(rounds: int) -> int:
    return crunch(1, rounds)


@task
def score(fetch: int, k: int, rounds: int) -> int:
    return crunch(fetch + k, rounds)


@task(inject_context=True)
def merge(ctx: Any, rounds: int) -> int:
    channel = ctx.get_channel()
    return crunch(sum(channel.get(f"score_{k}.__result__") for k in SCORES), rounds)


@task
def publish(merge: int) -> str:
    return f"published {merge}"


def build_workflow() -> WorkflowContext:
    with workflow("airflow_bench") as wf:
        for k in SCORES:
            fetch >> score(task_id=f"score_{k}", k=k) >> merge  # type: ignore[operator]
        merge >> publish  # type: ignore[operator]
    return wf


def taskflow_dag(rounds: int) -> Any:
    """The same work as hand-written Airflow TaskFlow code."""
    from airflow.sdk import DAG
    from airflow.sdk import task as af_task

    with DAG("airflow_bench_taskflow", schedule=None) as dag:

        @af_task(task_id="fetch")
        def tf_fetch() -> int:
            return crunch(1, rounds)

        def make_score(k: int) -> Any:
            @af_task(task_id=f"score_{k}")
            def tf_score(value: int) -> int:
                return crunch(value + k, rounds)

            return tf_score

        @af_task(task_id="merge")
        def tf_merge(values: list[int]) -> int:
            return crunch(sum(values), rounds)

        @af_task(task_id="publish")
        def tf_publish(value: int) -> str:
            return f"published {value}"

        fetched = tf_fetch()
        tf_publish(tf_merge([make_score(k)(fetched) for k in SCORES]))
    return dag


# -- 1. dag.test() wall time ---------------------------------------------------------------------


def bench_dag_test(runs: int, warmup: int, rounds: int) -> dict[str, Any]:
    from graflow_airflow import to_airflow_dag
    from graflow_airflow.testing import airflow_environment

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import airflow_bench as me  # the tasks' module for their references

    with tempfile.TemporaryDirectory() as tmp, airflow_environment(tmp) as env:
        bridged = to_airflow_dag(me.build_workflow(), dag_id="airflow_bench_graflow")
        hand = me.taskflow_dag(rounds)
        conf = {"rounds": rounds}
        env.serialize(bridged)
        env.serialize(hand)

        def once(dag: Any) -> float:
            start = time.perf_counter()
            run = dag.test(run_conf=conf)
            elapsed = time.perf_counter() - start
            if str(getattr(run.state, "value", run.state)) != "success":
                raise RuntimeError(f"{dag.dag_id} run failed: {env.result(dag.dag_id, run.run_id)}")
            return elapsed

        for _ in range(warmup):
            once(bridged)
            once(hand)
        times: dict[str, list[float]] = {"graflow": [], "taskflow": []}
        for _ in range(runs):
            times["graflow"].append(once(bridged))
            times["taskflow"].append(once(hand))
        check = env.run_dag(bridged, conf=conf)
        expected = env.run_dag(hand, conf=conf)
        if check.xcoms["publish"] != expected.xcoms["publish"]:
            raise RuntimeError(f"different results: {check.xcoms} vs {expected.xcoms}")
    g, h = statistics.median(times["graflow"]), statistics.median(times["taskflow"])
    return {
        "graflow_dag_test_s": round(g, 4),
        "taskflow_dag_test_s": round(h, 4),
        "ratio": round(g / h, 3),
        "runs": runs,
        "tasks": 8,
    }


# -- 2. DAG-file parse time ----------------------------------------------------------------------

BIG_FLOW = textwrap.dedent(
    """
    from graflow_core import ParallelGroup, task, workflow


    @task
    def node(value: int = 0) -> int:
        return value


    def build():
        with workflow("bench_big") as wf:
            previous = None
            for g in range(100):
                head = node(task_id=f"head_{g}", value=g)
                group = ParallelGroup(
                    [node(task_id=f"m_{g}_{i}", value=i) for i in range(4)], name=f"group_{g}"
                )
                if previous is not None:
                    previous >> head
                head >> group
                previous = group
        return wf
    """
)

EXPORT_ARGS = ("bench_big_flow.py:build", "--to", "airflow", "-o", "dags")

PARSE = r"""
import gc, json, sys, time
import airflow, airflow.sdk
from airflow.dag_processing.dagbag import DagBag
gc.freeze()
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - start
assert not bag.import_errors, bag.import_errors
print(json.dumps({"seconds": elapsed, "tasks": len(bag.dags["bench_big"].tasks)}))
"""


def bench_parse(parse_runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "bench_big_flow.py").write_text(BIG_FLOW)
        subprocess.run(
            [sys.executable, "-m", "graflow_core", "export", *EXPORT_ARGS],
            cwd=base,
            check=True,
            capture_output=True,
        )
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(base / "home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{base}/home/airflow.db",
        }
        results = []
        for _ in range(parse_runs):
            out = subprocess.run(
                [sys.executable, "-c", PARSE, str(base / "dags")],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "parse_500_tasks_s": round(statistics.median(r["seconds"] for r in results), 4),
        "parse_500_tasks_best_s": round(min(r["seconds"] for r in results), 4),
        "parse_runs": [round(r["seconds"], 4) for r in results],
        "airflow_tasks": results[0]["tasks"],
    }


# -- 3. import overhead --------------------------------------------------------------------------

IMPORTS = r"""
import json, time
import airflow
start = time.perf_counter()
import graflow_airflow
package = time.perf_counter() - start
start = time.perf_counter()
import graflow_airflow.plugin
plugin = time.perf_counter() - start
print(json.dumps({"package": package, "plugin": plugin}))
"""


def bench_imports(import_runs: int) -> dict[str, Any]:
    runs = []
    for _ in range(import_runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORTS], check=True, capture_output=True, text=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "import_graflow_airflow_ms": round(1000 * statistics.median(r["package"] for r in runs), 3),
        "import_plugin_module_ms": round(1000 * statistics.median(r["plugin"] for r in runs), 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--work", type=int, default=200_000, help="loop rounds per task")
    parser.add_argument("--parse-runs", type=int, default=5)
    parser.add_argument("--import-runs", type=int, default=5)
    args = parser.parse_args(argv)
    out: dict[str, Any] = {}
    out.update(bench_dag_test(args.runs, args.warmup, args.work))
    out.update(bench_parse(args.parse_runs))
    out.update(bench_imports(args.import_runs))
    out["targets"] = {"ratio": 1.10, "parse_500_tasks_s": 1.0, "import_graflow_airflow_ms": 30}
    print("BENCH_RESULT " + json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    main()
