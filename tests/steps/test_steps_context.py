"""ExecutionContext.workflow_run_id / run_scope: defaults, plumbing, branches, checkpoints."""

from __future__ import annotations

from typing import Any

import pytest

from graflow_core import task, workflow
from graflow_core.core.context import ExecutionContext
from graflow_core.core.resumable import run_durable
from graflow_core.core.task import ParallelGroup
from graflow_core.exceptions import ConfigError

seen: dict[str, Any] = {}


@task(inject_context=True)
def record(ctx: Any) -> str:
    execution = ctx.execution_context
    seen[ctx.task_id] = (execution.workflow_run_id, execution.run_scope, execution.session_id)
    return execution.workflow_run_id


def _chain():
    with workflow("ids") as wf:
        record(task_id="a") >> record(task_id="b")
    return wf


def test_default_is_the_session_id_and_scope_workflow():
    seen.clear()
    result, ctx = _chain().execute(ret_context=True)
    assert ctx.workflow_run_id == ctx.session_id == result
    assert ctx.run_scope == "workflow"
    assert seen["a"] == (ctx.session_id, "workflow", ctx.session_id)


def test_settable_at_execute_and_on_the_context():
    seen.clear()
    result, ctx = _chain().execute(ret_context=True, workflow_run_id="dag/run-1")
    assert result == "dag/run-1" and ctx.workflow_run_id == "dag/run-1"
    assert ctx.session_id != "dag/run-1"
    ctx.workflow_run_id = "other"
    assert ctx.workflow_run_id == "other"
    ctx.workflow_run_id = None
    assert ctx.workflow_run_id == ctx.session_id
    with pytest.raises(ConfigError, match="non-empty string"):
        ctx.workflow_run_id = ""  # type: ignore[assignment]


def test_parallel_branches_report_the_run_id_and_scope():
    seen.clear()
    with workflow("ids_group") as wf:
        ParallelGroup([record(task_id="m1"), record(task_id="m2")], name="g")
    wf2 = wf
    ctx = wf2.create_execution_context(workflow_run_id="run-7")
    ctx.run_scope = "step"
    wf2.create_engine().execute(ctx)
    assert seen["m1"][:2] == ("run-7", "step") and seen["m2"][:2] == ("run-7", "step")
    assert seen["m1"][2] != ctx.session_id  # a branch has its own session id


def test_survives_save_and_load(graflow_checkpoint_dir, tmp_path):
    ctx = _chain().create_execution_context(workflow_run_id="kept")
    ctx.run_scope = "step"
    path = str(tmp_path / "ctx.pkl")
    ctx.save(path)
    loaded = ExecutionContext.load(path)
    assert loaded.workflow_run_id == "kept" and loaded.run_scope == "step"
    plain = _chain().create_execution_context()
    plain.save(path)
    again = ExecutionContext.load(path)
    assert again.workflow_run_id == again.session_id == plain.session_id
    assert again.run_scope == "workflow"


def test_durable_runs_take_the_run_id_fresh_and_on_resume(graflow_checkpoint_dir, tmp_path):
    seen.clear()
    location = str(tmp_path / "durable")
    result = run_durable(_chain(), location, workflow_run_id="orchestrator/1")
    assert result == "orchestrator/1"
    assert seen["a"][0] == seen["b"][0] == "orchestrator/1"
