"""Module-level tasks of the step-runtime tests (importable: tests/steps is on sys.path)."""

from __future__ import annotations

from typing import Any

from graflow_core import task, workflow
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import ParallelGroup


class Blob:
    """A non-JSON value (pickled when passed on)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Blob) and other.data == self.data


@task
def make_big(size: int) -> list[int]:
    return list(range(size))


@task
def make_blob(size: int) -> Blob:
    return Blob(b"x" * size)


@task
def measure(make_big: list[int], make_blob: Blob) -> int:
    return len(make_big) + len(make_blob.data)


def build_big():
    with workflow("steps_big") as wf:
        make_big >> make_blob >> measure
    return wf


@task(inject_context=True, retry_policy=RetryPolicy(max_retries=2, initial_interval=0.05))
def always_fails(ctx: Any) -> None:
    raise RuntimeError(f"attempt {ctx.retry_count + 1} of {ctx.task_id}")


def build_always_fails():
    with workflow("steps_fail") as wf:
        make_big >> always_fails
    return wf


@task(inject_context=True)
def jump_far(ctx: Any) -> None:
    ctx.next_task(far, goto=True)


@task
def near() -> str:
    return "near"


@task
def far() -> str:
    return "far"


def build_jump_far():
    with workflow("steps_jump_far") as wf:
        jump_far >> near >> far
    return wf


@task(inject_context=True)
def choose_group(ctx: Any) -> None:
    ctx.next_task(fan_group_holder["group"], goto=True)


fan_group_holder: dict[str, Any] = {}


@task(inject_context=True)
def leaf(ctx: Any) -> str:
    ctx.get_channel().set(f"leaf.{ctx.task_id}", True)
    return ctx.task_id


def build_branch_to_group():
    """``choose_group`` jumps to the group ``fan`` (its successors: fan, other)."""
    with workflow("steps_branch_group") as wf:
        group = ParallelGroup([leaf(task_id="l1"), leaf(task_id="l2")], name="fan")
        fan_group_holder["group"] = group
        choose_group >> group >> leaf(task_id="after")
        choose_group >> leaf(task_id="other")
    return wf


@task(inject_context=True)
def goto_new(ctx: Any) -> str:
    """Jumps to a task that is not in the graph: it runs here, the successors are skipped."""
    ctx.next_task(leaf(task_id="fresh"), goto=True)
    return "jumped"


def build_goto_new():
    with workflow("steps_goto_new") as wf:
        goto_new >> leaf(task_id="after_goto")
    return wf


@task(inject_context=True)
def jumper(ctx: Any, pick: int = 0) -> str:
    """Looks its successors up in ``ctx.graph`` and jumps to one (``pick < 0``: no jump).

    Only successors without other predecessors are jump targets: natively a jump to a join
    runs it at once, a static orchestrator waits for its other predecessors.
    """
    ctx.get_channel().set(f"seen.{ctx.task_id}", pick)
    graph = ctx.graph
    targets = [s for s in graph.successors(ctx.task_id) if len(graph.predecessors(s)) == 1]
    if not targets or pick < 0:
        return "stay"
    target = targets[pick % len(targets)]
    ctx.next_task(graph.get_node(target), goto=True)
    return target


def build_two_roots():
    """``near >> far`` plus an unconnected ``lonely`` task: runs need a start node."""
    with workflow("two_roots") as wf:
        near >> far
        leaf(task_id="lonely")
    return wf
