"""The neutral workflow spec of a 500-task workflow: build, JSON both ways, load, preflight.

graflow_core only (Graflow 0.2 has no spec). Airflow DAG files build the spec at parse time, so
the first call in a fresh process (which imports the spec package) is reported as well as the
steady state (best of ROUNDS). The tasks must be importable by reference, so the program
imports itself as a module (``spec_build``) and builds the workflow from there.
Usage: python spec_build.py N  -> prints one line ``BENCH_RESULT {json}``.
"""

import json
import sys
import time

from graflow.core.decorators import task
from graflow.core.workflow import workflow

ROUNDS = 7


@task
def source():
    return 0


@task
def step(k=0):
    return k


def build(n):
    """About ``n`` tasks: a chain of blocks ``parallel(a, b) >> c >> d >> e``."""
    with workflow("spec-bench") as wf:
        prev = source
        for i in range(0, n - 5, 5):
            group = step(task_id=f"a{i}", k=i) | step(task_id=f"b{i}", k=i + 1)
            group.with_execution(policy="best_effort")
            prev = (
                prev
                >> group
                >> step(task_id=f"c{i}", k=i)
                >> step(task_id=f"d{i}")
                >> step(task_id=f"e{i}")
            )
    return wf


def _best(func):
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(n):
    wf = build(n)
    t0 = time.perf_counter()
    from graflow.spec import WorkflowSpec, build_spec, load_workflow, preflight

    spec = build_spec(wf)
    first_build = time.perf_counter() - t0  # incl. importing the spec package
    text = spec.to_json()
    if WorkflowSpec.from_json(text) != spec or build_spec(load_workflow(spec)) != spec:
        raise SystemExit("spec_build: round trip is not exact")
    result = {
        "n": len(spec.tasks),
        "first_build_s": first_build,
        "build_s": _best(lambda: build_spec(wf)),
        "to_json_s": _best(spec.to_json),
        "from_json_s": _best(lambda: WorkflowSpec.from_json(text)),
        "load_s": _best(lambda: load_workflow(spec)),
        "preflight_s": _best(lambda: preflight(spec, "graflow")),
        "json_bytes": len(text.encode()),
        "module_file": sys.modules[build_spec.__module__].__file__,
    }
    print("BENCH_RESULT " + json.dumps(result))


if __name__ == "__main__":
    import spec_build  # this file as an importable module: task references must resolve

    spec_build.main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
