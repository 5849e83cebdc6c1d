"""Durable runs: a workflow run that resumes after its process dies instead of restarting.

:func:`run_durable` (or :class:`DurableRun`) runs a workflow and writes a signed checkpoint to
``location`` after every completed task (or every ``checkpoint_every`` tasks).  Calling it
again with the same ``location`` -- after a crash, a ``kill -9``, or an orchestrator retry --
continues from the last checkpoint; once the run has succeeded, calling it again returns the
stored result without running anything.  This is what orchestrator bridges use (e.g. Airflow's
``GraflowOperator`` keys ``location`` by dag_id/run_id/task_id/map_index).

Layout of ``location`` (a local directory or a URL prefix such as ``s3://bucket/runs/r1``)::

    ckpt-000007.pkl / .state.json / .meta.json   checkpoints (the last ``keep`` are kept)
    latest                                       signed pointer to the newest checkpoint
    result                                       signed completion record (the run's result)

Every checkpoint goes to a new base name and ``latest`` is replaced (atomically) only after
all three files are written, so a crash at any moment leaves ``latest`` naming a complete,
verifiable checkpoint.  ``result`` is written after the final checkpoint.

Tasks that had completed before the last checkpoint are not run again; the task that was
running when the process died runs again (at-least-once), so tasks should be idempotent.
One process at a time may use a location (orchestrators run one attempt at a time).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graflow_core.core.checkpoint import (
    CheckpointError,
    CheckpointManager,
    CheckpointNotFoundError,
    CheckpointVerificationError,
    _verify_envelope,
)

if TYPE_CHECKING:
    from graflow_core.checkpoint_stores.base import CheckpointStore
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.workflow import WorkflowContext

__all__ = ["DurableRun", "DurableRunError", "run_durable"]

POINTER_NAME = "latest"
RESULT_NAME = "result"
CHECKPOINT_PREFIX = "ckpt-"
_POINTER_FORMAT = "graflow-core-durable-pointer"
_RESULT_FORMAT = "graflow-core-durable-result"
_SEQ_RE = re.compile(r"ckpt-(\d+)\.")


class DurableRunError(CheckpointError):
    """A durable run's location cannot be used (e.g. it holds a run of another workflow)."""


class DurableRun:
    """One durable run of ``workflow`` whose state lives at ``location``.

    ``checkpoint_every``: write a checkpoint after every N-th completed task (1 = after each);
    ``keep``: how many checkpoints to keep (at least 1); ``store``: a
    :class:`~graflow_core.checkpoint_stores.CheckpointStore` instead of the one resolved for
    ``location``; ``plugins``: hook implementations for this run only (added again on every
    resume, since checkpoints do not hold them).  ``start_node``, ``initial_channel`` and
    ``max_steps`` are used only when the run starts fresh.  ``workflow_run_id`` names the run
    (:attr:`ExecutionContext.workflow_run_id`, e.g. an orchestrator's run identity); it is set
    on a fresh context and on a resumed one.

    :attr:`context` is the execution context of the last :meth:`run` -- also after it raised, so
    a caller can report the channel as it was when the workflow failed (what a native run's
    context holds: the failing task's writes and its exception stored as its result).
    """

    #: The execution context of the last :meth:`run` (``None`` before the first), kept when
    #: the run raises.
    context: ExecutionContext | None = None

    def __init__(
        self,
        workflow: WorkflowContext,
        location: str,
        *,
        start_node: str | None = None,
        initial_channel: dict[str, Any] | None = None,
        max_steps: int = 10000,
        checkpoint_every: int = 1,
        keep: int = 2,
        store: CheckpointStore | None = None,
        plugins: Sequence[object] = (),
        workflow_run_id: str | None = None,
    ) -> None:
        from graflow_core.checkpoint_stores.base import resolve_store

        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, got {checkpoint_every}")
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self.workflow = workflow
        self.location = location.rstrip("/") or location
        self.start_node = start_node
        self.initial_channel = initial_channel
        self.max_steps = max_steps
        self.checkpoint_every = checkpoint_every
        self.keep = keep
        self.plugins = tuple(plugins)
        self.workflow_run_id = workflow_run_id
        self.store = resolve_store(self.location, store)
        self._seq = 0
        self._since_checkpoint = 0
        self._checkpointed_steps = -1

    # -- paths ---------------------------------------------------------------------------------

    def _path(self, name: str) -> str:
        return self.store.join(self.location, name)

    @property
    def pointer_path(self) -> str:
        """Where the signed ``latest`` pointer lives."""
        return self._path(POINTER_NAME)

    @property
    def result_path(self) -> str:
        """Where the signed completion record lives."""
        return self._path(RESULT_NAME)

    # -- inspection ----------------------------------------------------------------------------

    def status(self) -> str:
        """``"completed"``, ``"in_progress"`` (a checkpoint exists) or ``"new"``."""
        if self.store.exists(self.result_path):
            return "completed"
        if self.store.exists(self.pointer_path):
            return "in_progress"
        return "new"

    def latest_checkpoint(self) -> str | None:
        """The base path of the newest checkpoint (verified pointer), or ``None``."""
        pointer = self._read_pointer()
        return None if pointer is None else self._path(str(pointer["checkpoint"]))

    def clear(self) -> None:
        """Delete the run's checkpoints, pointer and result (the next run starts fresh)."""
        self.store.delete(self.result_path)
        self.store.delete(self.pointer_path)
        for path in self.store.list(self._path(CHECKPOINT_PREFIX)):
            self.store.delete(path)

    # -- running -------------------------------------------------------------------------------

    def run(self, *, ret_context: bool = False) -> Any:
        """Run, resume, or return the stored result; see the module docstring.

        With ``ret_context=True`` returns ``(result, ExecutionContext)``.
        """
        record = self._read_result()
        if record is not None:
            result = record["result"]
            if not ret_context:
                return result
            ctx, _ = CheckpointManager.resume_from_checkpoint(
                self._path(str(record["checkpoint"])), store=self.store
            )
            return result, ctx

        pointer = self._read_pointer()
        wf = self.workflow
        last_task_id: str | None = None
        if pointer is None:
            ctx = wf.create_execution_context(self.start_node, self.max_steps, self.initial_channel)
            self._seq = 0
        else:
            ctx, meta = CheckpointManager.resume_from_checkpoint(
                self._path(str(pointer["checkpoint"])), store=self.store
            )
            self._seq = int(pointer["seq"])
            self._checkpointed_steps = ctx.steps
            last_task_id = meta.user_metadata.get("last_task_id")
            self._reattach(ctx)
        if self.workflow_run_id is not None:
            ctx.workflow_run_id = self.workflow_run_id
        self._since_checkpoint = 0
        if self.plugins:
            ctx.use_plugins(*self.plugins)

        ctx._after_task = self._after_task
        self.context = ctx
        try:
            resumed_empty = pointer is not None and not ctx.task_queue._ids
            result = wf.create_engine().execute(ctx)
        finally:
            ctx._after_task = None
        if resumed_empty and last_task_id is not None:
            # The process died after the last task's checkpoint, before the result was
            # stored: nothing was left to run, the run's result is that task's.
            result = ctx.get_result(last_task_id)
        if self._seq == 0 or ctx.steps != self._checkpointed_steps:
            self._checkpoint(ctx, ctx.completed_tasks[-1] if ctx.completed_tasks else None)
        self._write_result(result)
        return (result, ctx) if ret_context else result

    def _reattach(self, ctx: ExecutionContext) -> None:
        """Give a restored context what belongs to this process, not to the checkpoint."""
        wf = self.workflow
        attach = getattr(wf, "_attach_llm_agents", None)
        if attach is not None:
            attach(ctx)
        dead_letters = getattr(wf, "dead_letter_store", None)
        if dead_letters is not None:
            ctx.dead_letter_store = dead_letters

    def _after_task(self, ctx: ExecutionContext, task_id: str) -> None:
        if ctx._task_ctx_stack:
            # A task completed inside another task that is still running (a member of a
            # parallel group with the "direct" backend runs nested in the same context): the
            # outer task is on the Python stack, not in the queue, so a checkpoint taken now
            # could not resume it. The outer task's own completion is checkpointed.
            return
        self._since_checkpoint += 1
        if self._since_checkpoint >= self.checkpoint_every:
            self._checkpoint(ctx, task_id)

    def _checkpoint(self, ctx: ExecutionContext, task_id: str | None) -> None:
        self._seq += 1
        seq = self._seq
        name = f"{CHECKPOINT_PREFIX}{seq:06d}"
        CheckpointManager.create_checkpoint(
            ctx,
            path=self._path(name),
            metadata={"durable_seq": seq, "last_task_id": task_id},
            store=self.store,
        )
        self._write_json_envelope(
            self.pointer_path,
            {
                "format": _POINTER_FORMAT,
                "version": 1,
                "workflow": self.workflow.name,
                "checkpoint": name,
                "seq": seq,
                "steps": ctx.steps,
            },
        )
        self._since_checkpoint = 0
        self._checkpointed_steps = ctx.steps
        self._prune(seq)

    def _prune(self, seq: int) -> None:
        oldest_kept = seq - self.keep + 1
        for path in self.store.list(self._path(CHECKPOINT_PREFIX)):
            match = _SEQ_RE.search(path[len(self.location) :])
            if match is not None and int(match.group(1)) < oldest_kept:
                self.store.delete(path)

    # -- pointer and result records ------------------------------------------------------------

    def _write_json_envelope(self, path: str, data: dict[str, Any]) -> None:
        from graflow_core.signing import sign

        self.store.write_bytes(path, sign(json.dumps(data, sort_keys=True).encode("utf-8")))

    def _read_envelope(self, path: str) -> bytes | None:
        try:
            blob = self.store.read_bytes(path)
        except FileNotFoundError:
            return None
        return _verify_envelope(blob, what=path)

    def _check_workflow(self, path: str, data: dict[str, Any]) -> None:
        name = data.get("workflow")
        if name != self.workflow.name:
            raise DurableRunError(
                f"{path}: this location holds a run of workflow {name!r}, not "
                f"{self.workflow.name!r}; use a separate location per workflow run"
            )

    def _read_pointer(self) -> dict[str, Any] | None:
        payload = self._read_envelope(self.pointer_path)
        if payload is None:
            return None
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("format") != _POINTER_FORMAT:
            raise CheckpointVerificationError(
                self.pointer_path,
                "not-a-pointer",
                "refused: correctly signed, but not a durable-run pointer",
            )
        self._check_workflow(self.pointer_path, data)
        checkpoint = self._path(str(data["checkpoint"]))
        if not self.store.exists(f"{checkpoint}.pkl"):
            raise CheckpointNotFoundError(
                f"{self.pointer_path} points to checkpoint {checkpoint}, whose files are "
                "missing; the location was modified by hand (delete it to start over)"
            )
        return data

    def _write_result(self, result: Any) -> None:
        from graflow_core.signing import dumps_signed

        record = {
            "format": _RESULT_FORMAT,
            "version": 1,
            "workflow": self.workflow.name,
            "checkpoint": f"{CHECKPOINT_PREFIX}{self._seq:06d}",
            "result": result,
        }
        self.store.write_bytes(self.result_path, dumps_signed(record))

    def _read_result(self) -> dict[str, Any] | None:
        payload = self._read_envelope(self.result_path)
        if payload is None:
            return None
        import pickle

        record = pickle.loads(payload)  # verified above
        if not isinstance(record, dict) or record.get("format") != _RESULT_FORMAT:
            raise CheckpointVerificationError(
                self.result_path,
                "not-a-result",
                "refused: correctly signed, but not a durable-run result record",
            )
        self._check_workflow(self.result_path, record)
        return record


def run_durable(
    workflow: WorkflowContext,
    location: str,
    *,
    start_node: str | None = None,
    initial_channel: dict[str, Any] | None = None,
    max_steps: int = 10000,
    checkpoint_every: int = 1,
    keep: int = 2,
    store: CheckpointStore | None = None,
    plugins: Sequence[object] = (),
    ret_context: bool = False,
    workflow_run_id: str | None = None,
) -> Any:
    """Run ``workflow`` durably at ``location``: resume if a checkpoint is there, return the
    stored result if the run already succeeded, else start fresh.  See :class:`DurableRun`."""
    return DurableRun(
        workflow,
        location,
        start_node=start_node,
        initial_channel=initial_channel,
        max_steps=max_steps,
        checkpoint_every=checkpoint_every,
        keep=keep,
        store=store,
        plugins=plugins,
        workflow_run_id=workflow_run_id,
    ).run(ret_context=ret_context)
