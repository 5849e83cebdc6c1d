"""Building the spec of a 500-task workflow is cheap (Airflow DAG files build it at parse time)."""

from __future__ import annotations

import time

import spec_sample_tasks as s

from graflow_core import workflow
from graflow_core.spec import build_spec, load_workflow


def _five_hundred_tasks():
    with workflow("big") as wf:
        prev = s.source
        for i in range(0, 495, 5):
            group = s.step(task_id=f"a{i}", k=i) | s.fail_step(task_id=f"b{i}", k=i)
            group.with_execution(policy="best_effort")
            end = s.step(task_id=f"c{i}", k=i, extra={"i": [i, "x"]})
            prev = prev >> group >> end >> s.step(task_id=f"d{i}") >> s.step(task_id=f"e{i}")
    return wf


def _best_ms(func, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def test_building_a_500_task_spec_takes_well_under_50_ms():
    wf = _five_hundred_tasks()
    spec = build_spec(wf)
    assert len(spec.tasks) >= 496
    assert _best_ms(lambda: build_spec(wf)) < 50
    assert _best_ms(spec.to_json) < 50
    assert _best_ms(lambda: load_workflow(spec)) < 100
