"""GraflowOperator and from_airflow_dag numbers (graflow-airflow, the operator side).

1. **One task vs one task per step.** The same eight computations -- ``fetch``, four
   ``score_<k>`` tasks fanning out from it, ``merge`` fanning in, ``publish`` -- as a graflow
   workflow run by ONE ``GraflowOperator`` (durable: a signed checkpoint after every graflow
   task, results and channel pushed to XCom) and as a hand-written TaskFlow DAG (eight Airflow
   tasks, values through XCom), both under ``dag.test()`` in one temporary Airflow installation
   (``graflow_airflow.testing.airflow_environment``); runs alternate after warm-up runs. The
   "lean" operator checkpoints once at the end and pushes only the return value.
2. **Converted DAG.** The TaskFlow DAG of (1) converted with ``from_airflow_dag`` and run by the
   graflow engine (no Airflow scheduling): conversion time and run time.
3. **Conversion of a 200-task DAG** (a chain of TaskFlow tasks): ``from_airflow_dag`` time.

Usage: python benchmarks/airflow_operator_bench.py [--runs N] [--warmup N]
Prints one JSON object with the medians (seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from typing import Any

from graflow_core.core.decorators import task
from graflow_core.core.workflow import WorkflowContext, workflow

SCORES = (2, 3, 5, 7)


@task
def fetch(n: int = 10) -> list[int]:
    return list(range(n))


def _score(values: list[int], k: int) -> int:
    return sum(v * k for v in values)


@task
def score(fetch: list[int], k: int) -> int:
    return _score(fetch, k)


@task
def merge(score_2: int, score_3: int, score_5: int, score_7: int) -> int:
    return score_2 + score_3 + score_5 + score_7


@task
def publish(merge: int) -> str:
    return f"published {merge}"


def build() -> WorkflowContext:
    from graflow_core.core.task import ParallelGroup

    scorers = [score(task_id=f"score_{k}", k=k) for k in SCORES]
    with workflow("operator_bench") as wf:
        fetch >> ParallelGroup(scorers, name="scores") >> merge >> publish
    return wf


def taskflow_dag(dag_id: str) -> Any:
    from airflow.sdk import DAG
    from airflow.sdk import task as af_task

    with DAG(dag_id, schedule=None) as dag:

        @af_task
        def fetch_(dag_run=None) -> list[int]:
            return list(range(dag_run.conf.get("n", 10)))

        values = fetch_()
        scores = [af_task(task_id=f"score_{k}")(_bound_score(k))(values) for k in SCORES]

        @af_task
        def merge_(a: int, b: int, c: int, d: int) -> int:
            return a + b + c + d

        @af_task
        def publish_(total: int) -> str:
            return f"published {total}"

        publish_(merge_(*scores))
    return dag


def _bound_score(k: int):
    def score(values: list[int]) -> int:
        return _score(values, k)

    return score


def operator_dag(dag_id: str, **options: Any) -> Any:
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator(task_id="flow", workflow="airflow_operator_bench:build", **options)
    return dag


def chain_dag(dag_id: str, n: int) -> Any:
    from airflow.sdk import DAG
    from airflow.sdk import task as af_task

    def step(x: int = 0) -> int:
        return x + 1

    with DAG(dag_id, schedule=None) as dag:
        value = af_task(task_id="t0")(step)()
        for i in range(1, n):
            value = af_task(task_id=f"t{i}")(step)(value)
    return dag


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()

    sys.modules.setdefault("airflow_operator_bench", sys.modules[__name__])
    os.environ.setdefault("GRAFLOW_SECRET_KEY", "airflow-operator-bench-" + "0" * 32)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # keep stdout to the JSON
    from graflow_airflow import from_airflow_dag
    from graflow_airflow.testing import airflow_environment

    times: dict[str, list[float]] = {
        "operator": [],
        "operator_lean": [],
        "taskflow": [],
        "convert": [],
        "converted": [],
    }
    with tempfile.TemporaryDirectory() as tmp, airflow_environment(tmp) as env:
        op_dag, tf_dag = operator_dag("bench_operator"), taskflow_dag("bench_taskflow")
        lean_dag = operator_dag(
            "bench_operator_lean", checkpoint_every=100, push_task_results=False, push_channel=False
        )
        results = {}
        for i in range(args.warmup + args.runs):
            for name, dag in (
                ("operator", op_dag),
                ("operator_lean", lean_dag),
                ("taskflow", tf_dag),
            ):
                start = time.perf_counter()
                run = env.run_dag(dag, conf={"n": 10})
                elapsed = time.perf_counter() - start
                assert run.succeeded, run.task_states
                results[name] = run.xcoms["flow" if name.startswith("operator") else "publish_"]
                if i >= args.warmup:
                    times[name].append(elapsed)
        assert results["operator"] == results["operator_lean"] == results["taskflow"], results
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(args.runs):
                start = time.perf_counter()
                wf = from_airflow_dag(tf_dag)
                times["convert"].append(time.perf_counter() - start)
                start = time.perf_counter()
                assert wf.execute(initial_channel={"n": 10}) == results["taskflow"]
                times["converted"].append(time.perf_counter() - start)
            big = chain_dag("bench_chain", 200)
            convert_200 = []
            for _ in range(args.runs):
                start = time.perf_counter()
                from_airflow_dag(big)
                convert_200.append(time.perf_counter() - start)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        json.dumps(
            {
                "graflow_operator_dag_test_s": round(med["operator"], 3),
                "graflow_operator_lean_dag_test_s": round(med["operator_lean"], 3),
                "taskflow_dag_test_s": round(med["taskflow"], 3),
                "operator_vs_taskflow_ratio": round(med["operator"] / med["taskflow"], 3),
                "from_airflow_dag_8_tasks_s": round(med["convert"], 4),
                "converted_run_8_tasks_s": round(med["converted"], 4),
                "from_airflow_dag_200_tasks_s": round(statistics.median(convert_200), 4),
                "runs": args.runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
