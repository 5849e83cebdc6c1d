"""graflow-dagster: a bridged job vs a hand-written Dagster job doing the same work.

Both jobs run the same eight computations -- a source, a fan-out of five transforms, a fan-in
and a report -- with ``execute_in_process`` on one in-memory Dagster instance. The bridged job
is ``to_dagster_job(workflow)`` (one op per graflow task, payloads through Dagster outputs,
group policy evaluated by the join op); the hand-written one is plain ``@op``/``@job`` code
passing the values directly. Runs alternate between the two (after warm-up runs) so that
machine load affects both alike; the medians and their ratio are printed as one JSON line.

Usage: python benchmarks/dagster_bench.py [--runs N] [--warmup N] [--work N]
Target (issue 6): bridged / hand-written <= 1.10 (median wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

from graflow_core.core.decorators import task
from graflow_core.core.task import ParallelGroup
from graflow_core.core.workflow import WorkflowContext, workflow

WORK = int(os.environ.get("DAGSTER_BENCH_WORK", "100000"))
BRANCHES = (1, 2, 3, 4, 5)


def compute(seed: int, work: int) -> int:
    """The unit of work every task/op does (a few milliseconds of pure Python)."""
    total = 0
    for i in range(work):
        total = (total + (i * seed) % 7919) % 1_000_003
    return total


# -- the graflow workflow ------------------------------------------------------------------------


@task
def source(work: int) -> int:
    return compute(1, work)


@task(inject_context=True)
def branch(ctx: Any, factor: int, source: int, work: int) -> int:
    value = compute(factor, work) + source
    ctx.get_channel().set(f"branch.{factor}", value)
    return value


@task(inject_context=True)
def combine(ctx: Any, work: int) -> int:
    channel = ctx.get_channel()
    values = [channel.get(f"branch.{f}") for f in BRANCHES]
    return compute(sum(values) % 97 + 1, work)


@task
def report(combine: int) -> str:
    return f"total={combine}"


def build_workflow() -> WorkflowContext:
    with workflow("bench_bridged") as wf:
        group = ParallelGroup(
            [branch(task_id=f"branch_{f}", factor=f) for f in BRANCHES], name="fan"
        )
        source >> group >> combine >> report  # type: ignore[operator]
    return wf


@task
def step(k: int = 0) -> int:
    return k


def build_large(n: int) -> WorkflowContext:
    """About ``n`` tasks: a chain of blocks, each a best-effort group of two tasks followed by
    three tasks (the shape of ``benchmarks/programs/spec_build.py``)."""
    with workflow("bench_large") as wf:
        tail: Any = source
        for i in range(0, n - 5, 5):
            pair = ParallelGroup([step(task_id=f"{x}{i}", k=i) for x in "ab"])
            block = [pair.with_execution(policy="best_effort")]
            block += [step(task_id=f"{x}{i}", k=i) for x in "cde"]
            for node in block:
                tail = tail >> node
    return wf


def render_times(n: int, rounds: int = 3) -> dict[str, Any]:
    """Best-of-``rounds`` seconds to render a ~``n``-task workflow as a job and parse it back."""
    from graflow_dagster import job_to_spec, to_dagster_job

    from graflow_core.spec import build_spec

    spec = build_spec(build_large(n))
    render, parse = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        job = to_dagster_job(spec)
        render.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        back = job_to_spec(job)
        parse.append(time.perf_counter() - t0)
        assert back == spec
    return {
        "render_tasks": len(spec.tasks),
        "render_ops": len(job.graph.node_defs),
        "render_s": round(min(render), 3),
        "job_to_spec_s": round(min(parse), 3),
    }


# -- the hand-written Dagster job ----------------------------------------------------------------


def hand_written_job(work: int) -> Any:
    from dagster import In, Out, job, op

    @op
    def hw_source() -> int:
        return compute(1, work)

    def make_branch(factor: int) -> Any:
        @op(name=f"hw_branch_{factor}", ins={"source": In(int)}, out=Out(int))
        def hw_branch(source: int) -> int:
            return compute(factor, work) + source

        return hw_branch

    branches = [make_branch(f) for f in BRANCHES]

    @op
    def hw_combine(values: list[int]) -> int:
        return compute(sum(values) % 97 + 1, work)

    @op
    def hw_report(value: int) -> str:
        return f"total={value}"

    @job
    def bench_hand_written() -> None:
        s = hw_source()
        hw_report(hw_combine([b(s) for b in branches]))

    return bench_hand_written


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--work", type=int, default=WORK)
    parser.add_argument(
        "--render", type=int, default=500, help="tasks of the render benchmark (0: skip)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "yes")
    os.environ.setdefault("GRAFLOW_SECRET_KEY", "dagster-bench-" + "0" * 40)

    import logging

    from dagster import DagsterInstance
    from graflow_dagster import graflow_result, to_dagster_job

    logging.getLogger("dagster").setLevel(logging.WARNING)
    params = {"work": args.work}
    bridged = to_dagster_job(build_workflow(), params=params, executor="in_process")
    hand = hand_written_job(args.work)
    instance = DagsterInstance.ephemeral()

    def run_bridged() -> Any:
        result = bridged.execute_in_process(instance=instance)
        return graflow_result(result, bridged, params).result

    def run_hand() -> Any:
        result = hand.execute_in_process(instance=instance)
        return result.output_for_node("hw_report")

    assert run_bridged() == run_hand(), "the two jobs must compute the same result"
    for _ in range(args.warmup):
        run_bridged()
        run_hand()
    times: dict[str, list[float]] = {"bridged": [], "hand_written": []}
    cpu: dict[str, list[float]] = {"bridged": [], "hand_written": []}
    for i in range(args.runs):
        order = [("bridged", run_bridged), ("hand_written", run_hand)]
        if i % 2:
            order.reverse()
        for name, fn in order:
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    out = {
        "benchmark": "dagster_bridged_vs_hand_written",
        "ops": len(bridged.graph.node_defs),
        "hand_written_ops": len(hand.graph.node_defs),
        "work": args.work,
        "runs": args.runs,
        "warmup": args.warmup,
        "bridged_median_s": round(med["bridged"], 4),
        "hand_written_median_s": round(med["hand_written"], 4),
        "ratio": round(med["bridged"] / med["hand_written"], 3),
        "target_ratio": 1.10,
        "bridged_min_s": round(min(times["bridged"]), 4),
        "hand_written_min_s": round(min(times["hand_written"]), 4),
        # CPU time of this process: less sensitive to other processes on a loaded machine
        "bridged_cpu_median_s": round(med_cpu["bridged"], 4),
        "hand_written_cpu_median_s": round(med_cpu["hand_written"], 4),
        "cpu_ratio": round(med_cpu["bridged"] / med_cpu["hand_written"], 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if args.render:
        out.update(render_times(args.render))
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    # Run the module under its own name so that the workflow's tasks are importable by
    # reference (the bridge describes tasks as "module:function").
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dagster_bench

    dagster_bench.main()
