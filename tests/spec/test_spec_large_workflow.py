"""A 500-task workflow is described completely (its timing is benchmarks/programs/spec_build.py)."""

from __future__ import annotations

import spec_sample_tasks as s

from graflow_core import workflow
from graflow_core.spec import build_spec


def _five_hundred_tasks():
    with workflow("big") as wf:
        prev = s.source
        for i in range(0, 495, 5):
            group = s.step(task_id=f"a{i}", k=i) | s.fail_step(task_id=f"b{i}", k=i)
            group.with_execution(policy="best_effort")
            end = s.step(task_id=f"c{i}", k=i, extra={"i": [i, "x"]})
            prev = prev >> group >> end >> s.step(task_id=f"d{i}") >> s.step(task_id=f"e{i}")
    return wf


def test_a_500_task_workflow_has_every_task_in_its_spec():
    spec = build_spec(_five_hundred_tasks())
    assert len(spec.tasks) >= 496
