"""What the conformance tests compare between runs of one workflow on different engines.

:data:`ENGINES` are the engines compared; :func:`profile_name` is the hypothesis profile chosen
with ``GRAFLOW_CONFORMANCE_PROFILE`` (profiles registered in conftest.py).

An *outcome* is built from a :class:`~graflow_core.spec.target_run.TargetRun`:

* ``result`` -- what ``wf.execute()`` returned (``None`` for a failed run);
* ``results`` -- every task's stored result (``"<task>.__result__"`` keys);
* ``channel`` -- the final user channel (the ``__result__`` keys and ``scratch_dir`` left out);
* ``error`` / ``cause`` -- the type of the error the run failed with and of its ``__cause__``.

A failed run on a target that carries the channel between native tasks (``channels`` not
``native``: Airflow, Dagster) is compared with :meth:`Outcome.differences` ``(partial=True)``:
the target may report more than the engine. The orchestrator keeps running every task whose
upstream tasks succeeded, so tasks on branches independent of the failure, which the engine
never reached (it stops at the first failure), may have run; and it keeps what the succeeded
members of a failed *nested* group wrote, which the engine discards with the failed member (the
nested group) of the outer group. Everything both runs report must be equal and everything the
engine kept (the failing task's own writes and exception result included) must be there. An
extra is accepted only from a task the failure could not stop: every task downstream (in the
spec graph: edges, and the members of a downstream group) of a task or group the orchestrator
reports ``failed`` must be ``upstream_failed``/``skipped`` (or not reported), and no such task
or group has a result (a downstream group's join task may run only to fail with the group).

Values are compared as they are, except exceptions (stored as the result of a failed task or
group), compared by type and message, and the ids of iterations (``countdown_cycle_1_8af687d3``),
whose random suffix is dropped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graflow_core.spec.model import WorkflowSpec
from graflow_core.spec.target_run import TargetRun
from graflow_core.testing.catalog import task_results, user_channel

#: The engines every conformance test compares: the graflow engine and the three bridges.
ENGINES = ("graflow", "airflow", "prefect", "dagster")

PROFILE_ENV = "GRAFLOW_CONFORMANCE_PROFILE"


def profile_name() -> str:
    """The hypothesis profile the conformance tests use (``GRAFLOW_CONFORMANCE_PROFILE``)."""
    chosen = os.environ.get(PROFILE_ENV, "ci").strip().lower() or "ci"
    if chosen not in ("ci", "long"):
        raise ValueError(f"{PROFILE_ENV}={chosen!r}: use 'ci' (the default) or 'long'")
    return f"conformance-{chosen}"


_ITERATION = re.compile(r"(_cycle_\d+)_[0-9a-f]{8}")


def normal_key(key: str) -> str:
    """``key`` without the random suffix of an iteration id."""
    return _ITERATION.sub(r"\1", key)


def comparable(value: Any) -> Any:
    """``value``, or ``(type name, message)`` for an exception."""
    if isinstance(value, BaseException):
        return ("raised", type(value).__name__, str(value))
    return value


def normal(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with iteration ids normalised and exceptions made comparable."""
    return {normal_key(k): comparable(v) for k, v in data.items()}


@dataclass(frozen=True)
class Outcome:
    """The comparable outcome of one run (see the module docs)."""

    result: Any
    results: dict[str, Any]
    channel: dict[str, Any]
    error: type | None
    cause: type | None
    #: The orchestrator's task states by graflow task / group id (:func:`graflow_states`).
    states: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, run: TargetRun) -> Outcome:
        """The outcome of ``run``."""
        error = run.error
        return cls(
            result=comparable(run.result),
            results=normal(task_results(run.channel)),
            channel=normal(user_channel(run.channel)),
            error=None if error is None else type(error),
            cause=None if error is None else type(error.__cause__),
            states=graflow_states(run),
        )

    def differences(
        self, other: Outcome, *, partial: bool = False, spec: WorkflowSpec | None = None
    ) -> list[str]:
        """What differs from ``other`` (the reference), one line each; ``[]`` when equal.

        ``partial``: a failed run whose channel may hold writes the reference never made or
        discarded (see the module docs); ``spec`` (the workflow's, required then) says which
        tasks a failure stops.
        """
        problems = []
        stopped: set[str] = set()
        if partial:
            if spec is None:
                return ["partial comparison without the workflow's spec"]
            stopped = downstream_of(spec, {n for n, s in self.states.items() if s == "failed"})
            tasks = {t.id for t in spec.tasks}  # a group's join may run to fail with it
            for node in sorted(stopped & tasks):
                if self.states.get(node, "upstream_failed") not in ("upstream_failed", "skipped"):
                    problems.append(
                        f"{node!r} is downstream of a failure, yet {self.states[node]!r}"
                    )
        if (self.error, self.cause) != (other.error, other.cause):
            problems.append(
                f"error {_name(self.error)} (cause {_name(self.cause)}) != "
                f"{_name(other.error)} (cause {_name(other.cause)})"
            )
        if self.result != other.result:
            problems.append(f"result {self.result!r} != {other.result!r}")
        for what, mine, theirs in (
            ("task result", self.results, other.results),
            ("channel", self.channel, other.channel),
        ):
            for key in sorted(set(mine) | set(theirs)):
                if key not in theirs:
                    # ran on a branch the engine stopped before, or discarded: only a task
                    # the failure could not stop may have written it (its state is checked)
                    if partial and not (what == "task result" and key in stopped):
                        continue
                    problems.append(f"{what} {key!r} = {mine[key]!r} is extra")
                elif key not in mine:
                    problems.append(f"{what} {key!r} missing (expected {theirs[key]!r})")
                elif mine[key] != theirs[key]:
                    problems.append(f"{what} {key!r} = {mine[key]!r} != {theirs[key]!r}")
        return problems


def partial_channel(target: str, run: TargetRun) -> bool:
    """True when ``run`` failed on a target whose channel travels with native task outputs."""
    from graflow_core.spec import get_target

    if run.error is None:
        return False
    return get_target(target).capabilities.support("channels").level != "native"


def graflow_states(run: TargetRun) -> dict[str, str]:
    """``run.states`` keyed by graflow task / group id instead of the native task name.

    Dagster names each op (``details["step_ids"]``: op name -> step id); Airflow prefixes a
    task inside a TaskGroup with the group's id (``outer.inner.task``); Prefect's task runs and
    the engine use the graflow ids.
    """
    if run.target == "dagster":
        ids = run.details.get("step_ids", {})
        return {str(ids.get(name, name)): state for name, state in run.states.items()}
    if run.target == "airflow":
        return {name.rsplit(".", 1)[-1]: state for name, state in run.states.items()}
    return dict(run.states)


def downstream_of(spec: WorkflowSpec, failed: set[str]) -> set[str]:
    """The tasks and groups of ``spec`` a failure of ``failed`` stops: everything reachable
    along its edges, and the members (recursively) of a group reached."""
    successors: dict[str, list[str]] = {}
    for src, dst in spec.edges:
        successors.setdefault(src, []).append(dst)
    members = {g.id: list(g.members) for g in spec.groups}
    seen: set[str] = set()
    todo = [n for f in failed for n in successors.get(f, ())]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(successors.get(node, ()))
        todo.extend(members.get(node, ()))
    return seen


def _name(t: type | None) -> str:
    return "none" if t is None or t is type(None) else t.__name__


def explain(target: str, problems: list[str], run: TargetRun) -> str:
    """An assertion message: what differs, and the orchestrator's task states."""
    lines = "\n  ".join(problems)
    return f"{target} differs from the graflow engine:\n  {lines}\n  states: {run.states}"
