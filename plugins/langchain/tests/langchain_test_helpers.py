"""A real LangChain callback handler that records chain events (for the graflow-langchain
tests)."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler


class ChainRecorder(BaseCallbackHandler):
    """Records on_chain_start / on_chain_end / on_chain_error with run ids and names."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, UUID, UUID | None]] = []
        self.names: dict[UUID, str | None] = {}
        self.parents: dict[UUID, UUID | None] = {}
        self.inputs: dict[UUID, Any] = {}
        self.outputs: dict[UUID, Any] = {}
        self.errors: dict[UUID, BaseException] = {}
        self.metadata: dict[UUID, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        with self._lock:
            name = kwargs.get("name")
            self.names[run_id] = name
            self.parents[run_id] = parent_run_id
            self.inputs[run_id] = inputs
            self.metadata[run_id] = dict(metadata or {})
            self.events.append(("start", name, run_id, parent_run_id))

    def on_chain_end(
        self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        with self._lock:
            self.outputs[run_id] = outputs
            self.events.append(("end", self.names.get(run_id), run_id, parent_run_id))

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        with self._lock:
            self.errors[run_id] = error
            self.events.append(("error", self.names.get(run_id), run_id, parent_run_id))

    # -- queries ---------------------------------------------------------------------------

    def runs_named(self, name: str) -> list[UUID]:
        """Run ids of chain runs called ``name``, in start order."""
        return [e[2] for e in self.events if e[0] == "start" and e[1] == name]

    def run(self, name: str) -> UUID:
        """The one run called ``name``."""
        (run_id,) = self.runs_named(name)
        return run_id

    def parent_name(self, run_id: UUID) -> str | None:
        parent = self.parents.get(run_id)
        return None if parent is None else self.names.get(parent)

    def children(self, run_id: UUID) -> list[str | None]:
        """Names of the direct children of ``run_id``, in start order."""
        return [e[1] for e in self.events if e[0] == "start" and e[3] == run_id]

    def ended(self, run_id: UUID) -> str:
        """How the run ended: "end", "error" or "open"."""
        for kind, _, rid, _ in self.events:
            if rid == run_id and kind in ("end", "error"):
                return kind
        return "open"
