"""Workflows for the Dagster local-run tests, importable by reference (ops load them)."""

from __future__ import annotations

from graflow_core.core.task import ParallelGroup
from graflow_core.core.workflow import WorkflowContext, workflow
from graflow_core.testing.catalog import collect, failing_member, member, prepare


def build_failing_member_chain() -> WorkflowContext:
    """A strict group whose chain member fails at its head: the chain's tail never runs."""
    with workflow("dagster_failing_member_chain") as wf:
        chain = failing_member(task_id="head") >> member(task_id="tail")
        group = ParallelGroup([member(task_id="ok", value=1), chain], name="fan")
        prepare >> group >> collect
    return wf
