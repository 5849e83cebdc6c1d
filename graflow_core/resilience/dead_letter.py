"""Dead letters: keep what a task that failed for good needs to be inspected and replayed.

``workflow(..., dead_letter_store=DeadLetterStore("dead_letters"))`` makes the engine call
:meth:`DeadLetterStore.record_failure` when a task fails for good (its retries used up, or it
had none).  The store writes one entry per failure into a local directory:

* ``<id>.json`` -- the inspectable part: task id, workflow name, session id, retry count,
  time, the error (type, message, formatted traceback), a reference to the task function
  (``module:qualname``), the ``repr`` of each input, and the replay status;
* ``<id>.inputs.pkl`` -- the task's inputs (the keyword arguments it was called with),
  pickled and signed with ``GRAFLOW_SECRET_KEY`` (:mod:`graflow_core.signing`), so a replay
  never unpickles bytes someone else wrote.

Both files are written atomically (temporary file, fsync, rename).  Inputs that cannot be
pickled are kept as their ``repr`` and the entry is marked not replayable; the error record
itself is never lost.  :meth:`DeadLetterStore.replay` re-imports the task and calls it with
the stored inputs; on success the entry is marked ``replayed``.  ``graflow dead-letters
list|show|replay`` does the same from the command line.  See ``docs/resilience.md``.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import importlib.util
import json
import os
import sys
import threading
import traceback
import uuid
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from graflow_core.checkpoint_stores.local import write_file_atomic
from graflow_core.exceptions import GraflowError, GraflowRuntimeError, describe_error
from graflow_core.utils.names import attribute_path

__all__ = [
    "FAILED",
    "FORMAT",
    "REPLAYED",
    "DeadLetter",
    "DeadLetterError",
    "DeadLetterNotFoundError",
    "DeadLetterNotReplayableError",
    "DeadLetterReplayError",
    "DeadLetterStore",
    "DeadLetterStoreWarning",
]

FORMAT = "graflow-dead-letter/1"
FAILED = "failed"
REPLAYED = "replayed"
DEFAULT_DIRECTORY = "dead_letters"

_JSON_SUFFIX = ".json"
_INPUTS_SUFFIX = ".inputs.pkl"
_REPR_LIMIT = 1000


class DeadLetterError(GraflowError):
    """A dead-letter entry cannot be read, found or replayed."""


class DeadLetterNotFoundError(DeadLetterError, LookupError):
    """No entry with the given id (or id prefix) is in the store."""


class DeadLetterNotReplayableError(DeadLetterError):
    """An entry cannot be replayed: its inputs were not stored, or the task cannot be found."""


class DeadLetterReplayError(GraflowRuntimeError):
    """The task failed again when replayed; ``cause`` is its error.  The entry stays."""

    def __init__(self, entry_id: str, task_id: str, cause: BaseException) -> None:
        super().__init__(
            f"Replay of dead letter {entry_id} (task '{task_id}') failed: "
            f"{describe_error(cause)}. The entry stays in the store; fix the cause and replay it "
            "again."
        )
        self.cause = cause
        self.entry_id = entry_id
        self.task_id = task_id

    def __str__(self) -> str:  # the message already names the cause
        return str(self.args[0])


class DeadLetterStoreWarning(RuntimeWarning):
    """The store could not record a failure (the run itself is not affected)."""


@dataclass
class DeadLetter:
    """One recorded failure (the contents of ``<id>.json``)."""

    id: str
    task_id: str
    workflow_name: str | None
    session_id: str | None
    retry_count: int
    created_at: str
    error_type: str
    error_message: str
    traceback: str
    task_ref: str | None = None
    source_file: str | None = None
    inputs_repr: dict[str, str] = field(default_factory=dict)
    inputs_stored: bool = False
    replayable: bool = False
    not_replayable_reason: str | None = None
    status: str = FAILED
    replays: list[dict[str, Any]] = field(default_factory=list)
    resolved_at: str | None = None
    cause: dict[str, str] | None = None

    @property
    def attempts(self) -> int:
        """How often the task ran: the first run plus its retries."""
        return self.retry_count + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form written to ``<id>.json``."""
        return {"format": FORMAT, **asdict(self), "attempts": self.attempts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeadLetter:
        """Read an entry from its JSON form (unknown keys are ignored)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _qualified_type(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _safe_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        return f"<unrepresentable {type(value).__name__}: {describe_error(exc)}>"
    if len(text) > _REPR_LIMIT:
        return text[: _REPR_LIMIT - 3] + "..."
    return text


def _format_error(exc: BaseException) -> dict[str, str]:
    return {
        "type": _qualified_type(exc),
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` like a checkpoint file (temporary file, fsync, rename), but
    with the default permissions (0o666 minus the umask) rather than a checkpoint's 0o600."""
    write_file_atomic(str(path), data, mode=0o666)


def _safe_id_part(task_id: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in task_id)
    return cleaned.strip("._")[:40] or "task"


def _task_reference(task: Any) -> tuple[str | None, str | None, str | None]:
    """``(module:qualname, source file, reason)``: where replay finds the task again."""
    func = getattr(task, "_original_func", None)
    if func is None:
        if getattr(task, "tasks", None) is not None or not callable(task):
            return None, None, f"{type(task).__name__} is not a function task"
        func = task
    module_name = getattr(task, "__module__", None) or getattr(func, "__module__", None)
    qualname = getattr(task, "__qualname__", None) or getattr(func, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None, None, "the task function has no module or qualified name"
    module = sys.modules.get(module_name)
    source = getattr(module, "__file__", None)
    source_file = os.path.abspath(source) if isinstance(source, str) else None
    if "<locals>" in qualname:
        return (
            None,
            source_file,
            f"the task function {qualname} is defined inside a function, so it cannot be "
            "imported; replay it with replay(entry_id, func=...)",
        )
    found = attribute_path(module, qualname) if module is not None else None
    if found is None or not (
        found is task or found is func or getattr(found, "_original_func", None) is func
    ):
        return (
            None,
            source_file,
            f"{module_name}.{qualname} does not name the task function; replay it with "
            "replay(entry_id, func=...)",
        )
    return f"{module_name}:{qualname}", source_file, None


def _resolve_reference(ref: str, source_file: str | None) -> Any:
    """Import the object ``module:qualname`` names (using ``source_file`` if needed)."""
    module_name, _, qualname = ref.partition(":")
    module = sys.modules.get(module_name)
    found = attribute_path(module, qualname) if module is not None else None
    if found is not None:
        return found
    problem: str | None = None
    if module_name != "__main__":
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            root = _import_root(module_name, source_file)
            if root is None or exc.name != module_name.split(".")[0]:
                problem = describe_error(exc)
            else:
                if root not in sys.path:
                    sys.path.insert(0, root)
                try:
                    module = importlib.import_module(module_name)
                except Exception as exc2:
                    problem = describe_error(exc2)
        except Exception as exc:
            problem = describe_error(exc)
    elif source_file is not None and os.path.isfile(source_file):
        module = _load_file(source_file)
    else:
        problem = "the task was defined in a script run as __main__ whose file is unknown"
    found = attribute_path(module, qualname) if module is not None and problem is None else None
    if found is None:
        reason = problem or f"module {module_name} has no attribute {qualname}"
        raise DeadLetterNotReplayableError(
            f"cannot find task function {ref} ({reason}); make its module importable (run "
            "from the project directory) or pass func= to replay()"
        )
    return found


def _import_root(module_name: str, source_file: str | None) -> str | None:
    """The ``sys.path`` entry from which ``module_name`` was imported, from its file."""
    if source_file is None:
        return None
    path = Path(source_file).resolve()
    depth = module_name.count(".") + (1 if path.stem == "__init__" else 0)
    try:
        return str(path.parents[depth])
    except IndexError:
        return None


def _load_file(source_file: str) -> Any:
    """Import a script by path under its file name (not as ``__main__``), like ``graflow run``."""
    path = Path(source_file).resolve()
    name = path.stem
    existing = sys.modules.get(name)
    existing_file = getattr(existing, "__file__", None)
    if existing is not None and existing_file and Path(existing_file).resolve() == path:
        return existing
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(name, str(path))
    if spec is None or spec.loader is None:
        raise DeadLetterNotReplayableError(f"cannot import {source_file} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _call_task(target: Any, inputs: dict[str, Any]) -> Any:
    """Call a task (or a plain function) with ``inputs`` as keyword arguments."""
    from graflow_core.core.task import TaskWrapper

    if isinstance(target, TaskWrapper):
        return target.run(**inputs)  # injects a context for inject_context=True tasks
    if not callable(target):
        raise DeadLetterNotReplayableError(f"{target!r} is not callable")
    return target(**inputs)


class DeadLetterStore:
    """Failed tasks, one entry per failure, in a local directory (created on first write).

    ``path`` defaults to ``./dead_letters`` and is made absolute when the store is created.
    Entry ids sort by time: ``20250101T120000123Z-<task>-<random>``; every method taking an
    id also accepts a unique prefix of one.
    """

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_DIRECTORY) -> None:
        self.path = Path(os.path.abspath(os.fspath(path)))
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DeadLetterStore({str(self.path)!r})"

    def __getstate__(self) -> dict[str, Any]:  # checkpoints pickle the context holding us
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._lock = threading.Lock()

    # -- recording (called by the engine) -------------------------------------------------------

    def record_failure(
        self, *, task: Any, task_id: str, context: Any, error: BaseException
    ) -> str | None:
        """Record that ``task`` failed for good with ``error``; the new entry's id.

        Never raises: if the entry cannot be written, a :class:`DeadLetterStoreWarning` says
        why and ``None`` is returned (the run goes on failing with its own error).
        """
        try:
            return self._record(task, task_id, context, error)
        except Exception as exc:
            # (warnings configured as errors must not break the run either)
            with contextlib.suppress(Exception):
                warnings.warn(
                    f"graflow: could not record the failure of task '{task_id}' in the "
                    f"dead-letter store {self.path}: {describe_error(exc)}",
                    DeadLetterStoreWarning,
                    stacklevel=2,
                )
            return None

    def _record(self, task: Any, task_id: str, context: Any, error: BaseException) -> str:
        stamp = datetime.now(timezone.utc)
        entry_id = (
            f"{stamp:%Y%m%dT%H%M%S}{stamp.microsecond // 1000:03d}Z-"
            f"{_safe_id_part(task_id)}-{uuid.uuid4().hex[:8]}"
        )
        retry_count = 0
        controller = getattr(context, "retry_controller", None)
        if controller is not None:
            try:
                retry_count = int(controller.get_retry_count(task_id))
            except Exception:
                retry_count = 0
        formatted = _format_error(error)
        cause = getattr(error, "cause", None)
        ref, source_file, ref_problem = _task_reference(task)

        inputs: dict[str, Any] = {}
        blob: bytes | None = None
        inputs_problem: str | None = None
        resolve = getattr(task, "resolved_inputs", None)
        if resolve is not None:
            try:
                inputs = dict(resolve(context))
            except Exception as exc:
                inputs_problem = f"the task's inputs could not be resolved ({describe_error(exc)})"
        elif ref_problem is None:
            ref_problem = f"{type(task).__name__} is not a function task"
        if inputs_problem is None:
            blob, inputs_problem = _pickle_inputs(inputs)

        entry = DeadLetter(
            id=entry_id,
            task_id=task_id,
            workflow_name=getattr(context, "workflow_name", None),
            session_id=getattr(context, "session_id", None),
            retry_count=retry_count,
            created_at=stamp.isoformat(timespec="milliseconds"),
            error_type=formatted["type"],
            error_message=formatted["message"],
            traceback=formatted["traceback"],
            task_ref=ref,
            source_file=source_file,
            inputs_repr={str(k): _safe_repr(v) for k, v in inputs.items()},
            inputs_stored=blob is not None,
            replayable=blob is not None and ref is not None,
            not_replayable_reason=inputs_problem or ref_problem,
            cause=_format_error(cause) if isinstance(cause, BaseException) else None,
        )
        if blob is not None:
            _write_atomic(self.path / f"{entry_id}{_INPUTS_SUFFIX}", blob)
        self._write(entry)
        return entry_id

    # -- reading -------------------------------------------------------------------------------

    def list(self, status: str | None = None) -> builtins.list[DeadLetter]:
        """All entries, oldest first (only those with ``status``, if given).

        An unreadable entry file is skipped with a :class:`DeadLetterStoreWarning`.
        """
        entries: builtins.list[DeadLetter] = []
        for entry_path in self._entry_files():
            try:
                entry = self._read(entry_path)
            except DeadLetterError as exc:
                warnings.warn(str(exc), DeadLetterStoreWarning, stacklevel=2)
                continue
            if status is None or entry.status == status:
                entries.append(entry)
        entries.sort(key=lambda e: (e.created_at, e.id))
        return entries

    def get(self, entry_id: str) -> DeadLetter:
        """The entry ``entry_id`` (or the only one whose id starts with it)."""
        return self._read(self._entry_path(entry_id))

    def load_inputs(self, entry_id: str) -> dict[str, Any]:
        """The stored inputs of ``entry_id`` (verifies their signature before unpickling)."""
        entry = self.get(entry_id)
        if not entry.inputs_stored:
            raise DeadLetterNotReplayableError(
                f"dead letter {entry.id} (task '{entry.task_id}') has no stored inputs: "
                f"{entry.not_replayable_reason}"
            )
        blob_path = self.path / f"{entry.id}{_INPUTS_SUFFIX}"
        try:
            blob = blob_path.read_bytes()
        except OSError as exc:
            raise DeadLetterNotReplayableError(
                f"dead letter {entry.id}: cannot read its inputs {blob_path} "
                f"({describe_error(exc)})"
            ) from exc
        from graflow_core.signing import loads_signed

        try:
            inputs = loads_signed(blob, what=f"inputs of dead letter {entry.id}")
        except GraflowError as exc:
            raise DeadLetterNotReplayableError(
                f"dead letter {entry.id}: its stored inputs cannot be loaded: {exc}", cause=None
            ) from exc
        except Exception as exc:
            raise DeadLetterNotReplayableError(
                f"dead letter {entry.id}: its stored inputs cannot be loaded "
                f"({describe_error(exc)})"
            ) from exc
        if not isinstance(inputs, dict):
            raise DeadLetterNotReplayableError(
                f"dead letter {entry.id}: stored inputs are a {type(inputs).__name__}, not a dict"
            )
        return inputs

    # -- replay and housekeeping ---------------------------------------------------------------

    def replay(self, entry_id: str, *, func: Callable[..., Any] | None = None) -> Any:
        """Call the task again with its stored inputs and return its result.

        The task is re-imported from its ``module:qualname`` reference (or ``func`` is called
        instead: a fixed version, or a task defined inside a function).  On success the entry
        is marked ``replayed``; if the task raises, the attempt is recorded in the entry and
        :class:`DeadLetterReplayError` is raised with the task's error as ``cause``.
        """
        entry = self.get(entry_id)
        inputs = self.load_inputs(entry.id)
        if func is None:
            if entry.task_ref is None:
                raise DeadLetterNotReplayableError(
                    f"dead letter {entry.id} (task '{entry.task_id}') has no importable task "
                    f"reference ({entry.not_replayable_reason}); pass func= to replay()"
                )
            target: Any = _resolve_reference(entry.task_ref, entry.source_file)
        else:
            target = func
        try:
            result = _call_task(target, inputs)
        except DeadLetterNotReplayableError:
            raise
        except Exception as exc:
            attempt = {"at": _now(), "ok": False, "error": describe_error(exc)}
            self._try_update(entry.id, lambda e: e.replays.append(attempt))
            raise DeadLetterReplayError(entry.id, entry.task_id, exc) from exc

        def resolved(e: DeadLetter) -> None:
            e.status = REPLAYED
            e.resolved_at = _now()
            e.replays.append({"at": e.resolved_at, "ok": True, "result": _safe_repr(result)})

        self._try_update(entry.id, resolved)
        return result

    def delete(self, entry_id: str) -> None:
        """Remove the entry ``entry_id`` and its stored inputs."""
        self._remove(self._entry_path(entry_id))

    def purge(self, status: str | None = None) -> int:
        """Remove every entry (only those with ``status``, if given); how many were removed."""
        removed = 0
        for entry_path in self._entry_files():
            if status is not None:
                try:
                    if self._read(entry_path).status != status:
                        continue
                except DeadLetterError:
                    continue
            self._remove(entry_path)
            removed += 1
        return removed

    # -- files ---------------------------------------------------------------------------------

    def _remove(self, entry_path: Path) -> None:
        """Delete the entry file ``entry_path`` and its stored inputs."""
        real_id = entry_path.name[: -len(_JSON_SUFFIX)]
        with self._lock:
            entry_path.unlink(missing_ok=True)
            (self.path / f"{real_id}{_INPUTS_SUFFIX}").unlink(missing_ok=True)

    def _entry_files(self) -> builtins.list[Path]:
        if not self.path.is_dir():
            return []
        return sorted(
            p
            for p in self.path.iterdir()
            if p.name.endswith(_JSON_SUFFIX) and not p.name.startswith(".")
        )

    def _entry_path(self, entry_id: str) -> Path:
        if not entry_id or "/" in entry_id or os.sep in entry_id or entry_id.startswith("."):
            raise DeadLetterNotFoundError(f"not a dead-letter id: {entry_id!r}")
        exact = self.path / f"{entry_id}{_JSON_SUFFIX}"
        if exact.is_file():
            return exact
        matches = [p for p in self._entry_files() if p.name.startswith(entry_id)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(p.name[: -len(_JSON_SUFFIX)] for p in matches[:5])
            raise DeadLetterNotFoundError(
                f"dead-letter id prefix {entry_id!r} is ambiguous in {self.path}: {shown}"
                + (", ..." if len(matches) > 5 else "")
            )
        count = len(self._entry_files())
        raise DeadLetterNotFoundError(
            f"no dead letter {entry_id!r} in {self.path} ({count} entr"
            f"{'y' if count == 1 else 'ies'} there; list them with `graflow dead-letters "
            f"list {self.path}`)"
        )

    def _read(self, entry_path: Path) -> DeadLetter:
        try:
            data = json.loads(entry_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DeadLetterError(
                f"{entry_path}: not a readable dead-letter entry ({describe_error(exc)})"
            ) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DeadLetterError(f"{entry_path}: not a dead-letter entry (format {FORMAT})")
        try:
            return DeadLetter.from_dict(data)
        except TypeError as exc:
            raise DeadLetterError(
                f"{entry_path}: incomplete dead-letter entry ({describe_error(exc)})"
            ) from exc

    def _write(self, entry: DeadLetter) -> None:
        text = json.dumps(entry.to_dict(), indent=2, ensure_ascii=False, default=repr)
        _write_atomic(self.path / f"{entry.id}{_JSON_SUFFIX}", text.encode("utf-8"))

    def _try_update(self, entry_id: str, change: Callable[[DeadLetter], None]) -> None:
        """Record a replay's outcome; if the entry cannot be rewritten, warn (the replay ran)."""
        try:
            self._update(entry_id, change)
        except (OSError, DeadLetterError) as exc:
            warnings.warn(
                f"dead letter {entry_id}: the replay ran but its outcome could not be "
                f"recorded in {self.path} ({describe_error(exc)})",
                DeadLetterStoreWarning,
                stacklevel=3,
            )

    def _update(self, entry_id: str, change: Callable[[DeadLetter], None]) -> None:
        with self._lock:
            entry = self._read(self.path / f"{entry_id}{_JSON_SUFFIX}")
            change(entry)
            self._write(entry)


def _pickle_inputs(inputs: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """``(signed pickle, None)`` or ``(None, why the inputs cannot be stored)``."""
    from graflow_core.signing import dumps_signed

    try:
        return dumps_signed(inputs), None
    except Exception as exc:
        bad = []
        for key, value in inputs.items():
            try:
                dumps_signed(value)
            except Exception:
                bad.append(str(key))
        which = f" (input{'s' if len(bad) > 1 else ''} {', '.join(bad)})" if bad else ""
        return None, f"the inputs could not be pickled{which}: {describe_error(exc)}"
