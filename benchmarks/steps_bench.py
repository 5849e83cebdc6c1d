"""Step runtime (graflow_core.steps) overheads; prints JSON medians.

* ``run_step_us``: one ``run_step`` of a no-op task in a warm process (load cached), with the
  upstream payload decoded and the output encoded -- what each native task adds on top of the
  orchestrator's own per-task cost;
* ``native_task_us``: the same task's share of a native ``wf.execute()`` of the chain;
* ``plan_500_ms``: ``plan_steps`` of a 500-task chain spec (at DAG/job build time);
* ``payload_bytes_last_of_N``: JSON size of the last step's payload in an N-task chain (the
  merged state grows with the number of results upstream);
* ``run_plan_chain_ms``: ``run_plan(processes=False)`` of an N-task chain vs ``native_chain_ms``.

Usage: python benchmarks/steps_bench.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

from graflow_core import task
from graflow_core.core.workflow import workflow


def _median(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@task
def noop() -> None:
    return None


def chain(size: int) -> Any:
    with workflow(f"chain{size}") as wf:
        prev = None
        for i in range(size):
            t = noop(task_id=f"t{i}")
            if prev is not None:
                prev >> t
            prev = t
    return wf


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    from graflow_core.spec import build_spec
    from graflow_core.steps import StepInputs, plan_steps, run_plan, run_step
    from graflow_core.steps.run import prepare

    # The tasks live in this script: specs reference them as steps_bench:noop.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    spec = build_spec(chain(n), main_module="steps_bench")
    prep = prepare(spec)
    payload = run_step(prep, "t0", StepInputs(), workflow_run_id="b").to_payload()
    loops = 200

    def steps() -> None:
        for _ in range(loops):
            run_step(prep, "t1", StepInputs({}, {"t0": payload}), workflow_run_id="b").to_payload()

    run_step_us = _median(steps) / loops * 1e6
    wf = chain(n)
    native_chain = _median(lambda: wf.execute())
    spec500 = build_spec(chain(500), main_module="steps_bench")
    plan_500 = _median(lambda: plan_steps(spec500), repeat=5)
    run = run_plan(prep, {}, processes=False)
    last = run.outputs[f"t{n - 1}"].to_payload()
    run_plan_chain = _median(lambda: run_plan(prep, {}, processes=False), repeat=5)
    print(
        json.dumps(
            {
                "n": n,
                "run_step_us": round(run_step_us, 1),
                "native_task_us": round(native_chain / n * 1e6, 2),
                "plan_500_ms": round(plan_500 * 1e3, 2),
                f"payload_bytes_last_of_{n}": len(json.dumps(last)),
                "run_plan_chain_ms": round(run_plan_chain * 1e3, 2),
                "native_chain_ms": round(native_chain * 1e3, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
