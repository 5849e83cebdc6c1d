"""A bridged workflow vs a hand-written Prefect flow doing the same work, on the same server.

Both flows run the same eight task functions: a chain ``load >> clean >> split``, a parallel
group of four ``score`` tasks (submitted concurrently in both), then ``merge >> report``. Each
task does a little real work (~2 ms of arithmetic). The hand-written flow passes data as Prefect
does (return values, ``.submit()`` futures); the bridged one is ``to_prefect_flow(workflow)``,
which runs the graflow engine inside the flow and every graflow task as a Prefect task run.

Wall time of one flow call (``flow(**params)``, flow run creation to final state) is measured
alternately for both, after warm-up runs; the medians and their ratio are printed as JSON.
Target (issue 5): bridged <= 1.10x hand-written.

Usage: python benchmarks/prefect_bench.py [--runs 9] [--warmup 2]
Starts one temporary Prefect server (prefect_test_harness) with a temporary PREFECT_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

from graflow_core.plugins import hookimpl

WORK = 40_000

#: Seconds spent inside the flow function (the tasks, without the flow run's own set-up and
#: teardown), appended by each flow run.
BODY: list[float] = []


class BodyTimer:
    """graflow run plugin: time from the workflow's start to its end inside the flow."""

    def __init__(self) -> None:
        self.t0 = 0.0

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        self.t0 = time.perf_counter()

    @hookimpl
    def workflow_end(self, context: Any, workflow_name: str, result: Any) -> None:
        BODY.append(time.perf_counter() - self.t0)


def _work(seed: int) -> int:
    total = 0
    for i in range(WORK):
        total = (total + i * seed) % 1_000_003
    return total


# -- the task functions (shared by both flows) ----------------------------------------------------


def load_fn(n: int) -> list[int]:
    _work(n)
    return list(range(n))


def clean_fn(rows: list[int]) -> list[int]:
    _work(len(rows))
    return [r for r in rows if r % 7]


def split_fn(rows: list[int]) -> list[list[int]]:
    _work(3)
    return [rows[i::4] for i in range(4)]


def score_fn(part: list[int]) -> int:
    _work(len(part) + 1)
    return sum(part)


def merge_fn(scores: list[int]) -> int:
    _work(5)
    return sum(scores)


def report_fn(total: int) -> str:
    _work(7)
    return f"total={total}"


# -- graflow workflow ------------------------------------------------------------------------------


def build_workflow() -> Any:
    from graflow_core.core.decorators import task
    from graflow_core.core.task import ParallelGroup
    from graflow_core.core.workflow import workflow

    @task(inject_context=False)
    def load(n: int) -> list[int]:
        return load_fn(n)

    @task
    def clean(load: list[int]) -> list[int]:
        return clean_fn(load)

    @task
    def split(clean: list[int]) -> list[list[int]]:
        return split_fn(clean)

    @task(inject_context=True)
    def score(ctx: Any, index: int) -> int:
        value = score_fn(ctx.get_channel().get("split.__result__")[index])
        ctx.get_channel().set(f"score.{index}", value)
        return value

    @task(inject_context=True)
    def merge(ctx: Any) -> int:
        channel = ctx.get_channel()
        return merge_fn([channel.get(f"score.{i}") for i in range(4)])

    @task
    def report(merge: int) -> str:
        return report_fn(merge)

    with workflow("bench_pipeline") as wf:
        group = ParallelGroup(
            [score(task_id=f"score_{i}", index=i) for i in range(4)], name="scores"
        ).with_execution(backend_config={"thread_count": 4})
        load >> clean >> split >> group >> merge >> report
    return wf


# -- hand-written Prefect flow ---------------------------------------------------------------------


def build_prefect_flow() -> Any:
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    load = task(name="load")(load_fn)
    clean = task(name="clean")(clean_fn)
    split = task(name="split")(split_fn)
    score = task(name="score")(score_fn)
    merge = task(name="merge")(merge_fn)
    report = task(name="report")(report_fn)

    runner: Any = ThreadPoolTaskRunner(max_workers=4)

    @flow(name="bench_handwritten", task_runner=runner)
    def handwritten(n: int) -> str:
        t0 = time.perf_counter()
        parts = split(clean(load(n)))
        futures = [score.submit(p) for p in parts]
        out = report(merge([f.result() for f in futures]))
        BODY.append(time.perf_counter() - t0)
        return out

    return handwritten


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="prefect-bench-")
    os.environ.update(
        {
            "PREFECT_HOME": home,
            "PREFECT_MEMO_STORE_PATH": os.path.join(home, "memo_store.toml"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_TO_API_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    from graflow_prefect import to_prefect_flow
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect.testing.utilities import prefect_test_harness

    timer = BodyTimer()
    bridged = to_prefect_flow(
        build_workflow(),
        name="bench_bridged",
        task_runner=ThreadPoolTaskRunner(max_workers=4),
        plugins=[timer],
    )
    handwritten = build_prefect_flow()
    n = 400
    with prefect_test_harness(server_startup_timeout=120):
        expected = handwritten(n=n)
        assert bridged(n=n) == expected, (bridged(n=n), expected)
        times: dict[str, list[float]] = {"bridged": [], "handwritten": []}
        body: dict[str, list[float]] = {"bridged": [], "handwritten": []}
        for i in range(args.warmup + args.runs):
            order = [("bridged", bridged), ("handwritten", handwritten)]
            if i % 2:
                order.reverse()
            for label, fl in order:
                t0 = time.perf_counter()
                fl(n=n)
                elapsed = time.perf_counter() - t0
                if i >= args.warmup:
                    times[label].append(elapsed)
                    body[label].append(BODY[-1])
    med = {k: statistics.median(v) for k, v in times.items()}
    body_med = {k: statistics.median(v) for k, v in body.items()}
    result = {
        "benchmark": "prefect_bridge",
        "tasks": 9,
        "runs": args.runs,
        "bridged_median_s": round(med["bridged"], 4),
        "handwritten_median_s": round(med["handwritten"], 4),
        "ratio": round(med["bridged"] / med["handwritten"], 3),
        "bridged_body_median_s": round(body_med["bridged"], 4),
        "handwritten_body_median_s": round(body_med["handwritten"], 4),
        "body_ratio": round(body_med["bridged"] / body_med["handwritten"], 3),
        "bridged_s": [round(t, 4) for t in times["bridged"]],
        "handwritten_s": [round(t, 4) for t in times["handwritten"]],
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
