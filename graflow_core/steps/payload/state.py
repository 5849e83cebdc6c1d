"""What a step receives (:class:`StepInputs`) and returns (:class:`StepOutput`).

**The channel a step sees.** A step sees the run's parameters (the initial channel) plus every
channel write of its *ancestor* steps. When two ancestors wrote (or deleted) the same key, the
one later in plan order wins -- plan order is the order in which the graflow engine runs the
tasks, so for a workflow whose tasks only read what their ancestors wrote, every task sees
exactly what it sees natively. (A task that reads a key written by a task that is *not* its
ancestor -- a sibling branch that happens to run earlier natively -- does not see it: make the
writer an upstream task.) Task results are channel keys too (``"<task>.__result__"``), which is
how keyword resolution finds them. A step's own writes are the keys set through the channel
API (``set``/``append``/``prepend``/``atomic_add``, typed channels included) plus every key
whose value object changed or disappeared; a value mutated in place and never set again is not
seen, and a TTL is not passed on.

**The payload: merged state with writer order.** Each :class:`StepOutput` carries the merged
channel state of the step and all its ancestors as ``key -> [writer, *entry]``, where
``writer`` is the plan index of the step that last wrote the key and ``entry`` is a value entry
of :mod:`graflow_core.steps.payload.values` (``["d"]`` for a deletion). A consumer therefore
needs only the outputs of its *direct* upstream steps (all a Dagster op gets): merging them key
by key, highest writer wins, gives exactly the ancestor state. Entries are copied, never
re-encoded: a large value is written to the value store once and then passed on as a short
reference. The payload grows with the number of distinct keys written upstream (not with the
number of writes); ``StepOutput.own`` lists the keys the step itself wrote.

**Failed steps.** A step that fails still has an output: the channel state up to the failure
(the failing task's writes made before it raised and its exception stored as its result, as in
the graflow engine's channel), with ``StepOutput.error`` set. :func:`~graflow_core.steps.run_step`
attaches it to the exception it raises (:func:`~graflow_core.steps.failed_output` reads it), so
an orchestrator can keep it next to the failed native task and report the run's final channel as
the engine does. It is never an upstream output: a step given one treats that step as failed.

**Failed parallel branches.** A group step lists the steps of its failed members in
``StepOutput.dropped``; their writes are never merged (as natively, where a failed member's
branch is discarded), neither downstream nor in the final channel (:func:`final_channel`).

The JSON form (``to_payload()``) is what XCom / an IO manager stores; ``from_payload()`` reads
it back (tampered pickles and stored values are refused when decoded).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graflow_core.channels.base import RESULT_SUFFIX
from graflow_core.steps.payload.values import (
    DELETED,
    Entry,
    StepPayloadError,
    ValueStore,
    value_store,
)

PAYLOAD_FORMAT = "graflow-step-output"
PAYLOAD_VERSION = 1


@dataclass
class StepOutput:
    """The outcome of one step: merged channel state, own writes, result, branch choice."""

    step_id: str
    #: Plan index of the step (its writer order).
    index: int
    #: ``key -> [writer index, *value entry]``: the merged state of this step and its ancestors.
    state: dict[str, list[Any]] = field(default_factory=dict)
    #: Keys this step wrote or deleted.
    own: tuple[str, ...] = ()
    #: Entry of the step's result (the result of the last task it ran).
    result_entry: Entry = field(default_factory=lambda: ["j", None])
    #: The graflow tasks this step ran, in order (dynamic ones included).
    task_ids: tuple[str, ...] = ()
    #: For a branch: the downstream step ids to run (the others are skipped); ``None``: all.
    follow: tuple[str, ...] | None = None
    #: Step ids whose writes must not be merged (steps of failed group members).
    dropped: tuple[str, ...] = ()
    #: True when a task called ``terminate_workflow`` (nothing after this step should run).
    terminated: bool = False
    workflow_run_id: str = ""
    #: ``None`` for a step that succeeded; for the partial output of a failed step (see the
    #: module docs), the error as ``"<ExceptionType>: <message>"``.
    error: str | None = None
    _store: ValueStore | None = field(default=None, repr=False, compare=False)
    _decoded: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- values --------------------------------------------------------------------------------

    @property
    def store(self) -> ValueStore:
        """The value store references are read from (the default one unless given)."""
        if self._store is None:
            self._store = value_store()
        return self._store

    @property
    def result(self) -> Any:
        """The step's result (decoded)."""
        return self.store.decode(self.result_entry, what=f"the result of step '{self.step_id}'")

    def value(self, key: str, default: Any = None) -> Any:
        """The decoded value of channel ``key`` in this step's state (``default`` if absent)."""
        if key in self._decoded:
            return self._decoded[key]
        item = self.state.get(key)
        if item is None or item[1] == DELETED:
            return default
        value = self.store.decode(item[1:], what=f"channel key '{key}' of step '{self.step_id}'")
        self._decoded[key] = value
        return value

    @property
    def results(self) -> dict[str, Any]:
        """``{task_id: result}`` of the tasks this step ran."""
        out = {}
        for tid in self.task_ids:
            key = tid + RESULT_SUFFIX
            item = self.state.get(key)
            if item is not None and item[1] != DELETED:
                out[tid] = self.value(key)
        return out

    @property
    def writes(self) -> dict[str, Any]:
        """``{key: value}`` of the keys this step wrote (deleted keys are left out)."""
        return {
            k: self.value(k) for k in self.own if k in self.state and self.state[k][1] != DELETED
        }

    # -- serialisation -------------------------------------------------------------------------

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready form (what goes into XCom / an IO manager)."""
        return {
            "format": PAYLOAD_FORMAT,
            "version": PAYLOAD_VERSION,
            "step": self.step_id,
            "index": self.index,
            "run": self.workflow_run_id,
            "state": self.state,
            "own": list(self.own),
            "result": self.result_entry,
            "tasks": list(self.task_ids),
            "follow": None if self.follow is None else list(self.follow),
            "dropped": list(self.dropped),
            "terminated": self.terminated,
            "error": self.error,
        }

    @classmethod
    def from_payload(
        cls, payload: Mapping[str, Any] | StepOutput, *, store: ValueStore | None = None
    ) -> StepOutput:
        """Read :meth:`to_payload`'s form (a ``StepOutput`` is returned as is)."""
        if isinstance(payload, StepOutput):
            return payload
        if not isinstance(payload, Mapping) or payload.get("format") != PAYLOAD_FORMAT:
            raise StepPayloadError(
                f"Not a graflow step output: {str(payload)[:120]!r}. Pass the value that "
                "StepOutput.to_payload() returned (the upstream native task's XCom/output)"
            )
        if payload.get("version") != PAYLOAD_VERSION:
            raise StepPayloadError(
                f"Step output of step {payload.get('step')!r} has payload version "
                f"{payload.get('version')!r}; this graflow-core reads version {PAYLOAD_VERSION}"
                " (run every native task of a run with the same graflow-core)"
            )
        try:
            state = payload["state"]
            if not isinstance(state, dict) or not all(
                isinstance(v, list) and len(v) >= 2 and type(v[0]) is int for v in state.values()
            ):
                raise TypeError("state")
            follow = payload.get("follow")
            return cls(
                step_id=str(payload["step"]),
                index=int(payload["index"]),
                state=dict(state),
                own=tuple(payload.get("own", ())),
                result_entry=list(payload.get("result", ["j", None])),
                task_ids=tuple(payload.get("tasks", ())),
                follow=None if follow is None else tuple(follow),
                dropped=tuple(payload.get("dropped", ())),
                terminated=bool(payload.get("terminated", False)),
                workflow_run_id=str(payload.get("run", "")),
                error=None if payload.get("error") is None else str(payload["error"]),
                _store=store,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StepPayloadError(
                f"Malformed step output of step {payload.get('step')!r} (field {exc}); pass "
                "the value that StepOutput.to_payload() returned"
            ) from None


@dataclass
class StepInputs:
    """What a step gets from the orchestrator.

    ``params``: the run parameters (the initial channel; e.g. the DAG run conf).
    ``upstream``: ``{step_id: StepOutput or its payload}`` of the direct upstream steps that
    succeeded. ``failed``: upstream step ids that failed -- or did not run because one of
    *their* upstream steps failed (Airflow ``upstream_failed``) -- optionally with the error
    message (``{step_id: message}``). ``skipped``: upstream step ids that were skipped (a
    branch not taken). ``attempt``: 1 for the first try, 2 for the first retry ... (Airflow
    ``try_number``), so ``ctx.retry_count`` and the final ``RetryLimitExceededError`` behave
    as natively.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    upstream: Mapping[str, Any] = field(default_factory=dict)
    failed: Mapping[str, str] | Sequence[str] = ()
    skipped: Sequence[str] = ()
    attempt: int = 1

    def outputs(self, store: ValueStore | None = None) -> dict[str, StepOutput]:
        """The upstream outputs as :class:`StepOutput` objects (failed steps' left out)."""
        outs = {
            k: StepOutput.from_payload(v, store=store) for k, v in (self.upstream or {}).items()
        }
        return {k: o for k, o in outs.items() if o.error is None}

    def failed_messages(self) -> dict[str, str]:
        """``{step_id: message}`` of the failed upstream steps.

        An upstream output that is a failed step's partial output (``StepOutput.error``) counts
        as failed too.
        """
        failed = self.failed
        if isinstance(failed, Mapping):
            out = {str(k): str(v) for k, v in failed.items()}
        else:
            out = {str(k): f"step '{k}' failed" for k in failed}
        for k, v in (self.upstream or {}).items():
            if isinstance(v, StepOutput):
                error = v.error
            else:
                error = v.get("error") if isinstance(v, Mapping) else None
            if error is not None and str(k) not in out:
                out[str(k)] = str(error)
        return out


def merge_states(outputs: Iterable[StepOutput]) -> dict[str, list[Any]]:
    """Merge channel states key by key; the highest writer wins; dropped steps are left out."""
    outs = list(outputs)
    dropped: set[str] = set()
    for o in outs:
        dropped.update(o.dropped)
    excluded_writers = {o.index for o in outs if o.step_id in dropped}
    merged: dict[str, list[Any]] = {}
    for o in outs:
        if o.step_id in dropped:
            continue
        for key, item in o.state.items():
            if item[0] in excluded_writers:
                continue
            current = merged.get(key)
            if current is None or item[0] > current[0]:
                merged[key] = item
    return merged


def apply_state(
    params: Mapping[str, Any], state: Mapping[str, list[Any]], store: ValueStore
) -> dict[str, Any]:
    """The channel contents: ``params`` overlaid with ``state`` (decoded; deletions applied)."""
    data = dict(params)
    for key, item in state.items():
        if item[1] == DELETED:
            data.pop(key, None)
        else:
            data[key] = store.decode(item[1:], what=f"channel key '{key}' (step #{item[0]})")
    return data


def final_channel(
    params: Mapping[str, Any], outputs: Iterable[StepOutput], store: ValueStore | None = None
) -> dict[str, Any]:
    """The run's final channel from the outputs of every step that succeeded.

    For a failed run, pass the failed steps' partial outputs too (see the module docs): the
    channel then holds what the failing task wrote and its exception result, as natively.
    """
    return apply_state(params, merge_states(outputs), store or value_store())


def final_result(outputs: Iterable[StepOutput]) -> Any:
    """The run's result: the result of the step latest in plan order (as natively)."""
    last: StepOutput | None = None
    for o in outputs:
        if o.error is None and (last is None or o.index > last.index):
            last = o
    return None if last is None else last.result


__all__ = [
    "PAYLOAD_FORMAT",
    "PAYLOAD_VERSION",
    "StepInputs",
    "StepOutput",
    "apply_state",
    "final_channel",
    "final_result",
    "merge_states",
]
