"""Read what an offline W&B run wrote (``WANDB_MODE=offline``) — for tests and checks.

W&B 0.31 writes an offline run as ``<dir>/wandb/offline-run-<time>-<run id>/run-<run id>.wandb``:
a LevelDB-log-format file (7-byte W&B header, 32 KiB blocks of CRC-framed chunks) of
``wandb_internal_pb2.Record`` protobuf messages; it writes no summary or config JSON files
offline. :func:`read_offline_run` decodes that file with W&B's own protobuf classes.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_BLOCK = 32 * 1024
_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


@dataclass
class OfflineRun:
    """The content of one offline run directory."""

    path: Path
    run_id: str = ""
    project: str = ""
    name: str = ""
    group: str = ""
    job_type: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None


def _records(data: bytes) -> Iterator[bytes]:
    if data[:4] != b":W&B":
        raise ValueError("not a W&B run file (missing the ':W&B' header)")
    pos, pending = _HEADER, b""
    while pos + _HEADER <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + _HEADER])
        if kind == 0 and length == 0:  # padding up to the end of the block
            pos += left
            continue
        chunk = data[pos + _HEADER : pos + _HEADER + length]
        pos += _HEADER + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind == _MIDDLE:
            pending += chunk
        elif kind == _LAST:
            yield pending + chunk
            pending = b""


def _key(item: Any) -> str:
    return item.key or "/".join(item.nested_key)


def read_offline_run(run_dir: str | Path) -> OfflineRun:
    """Decode the ``run-<id>.wandb`` file of an offline run directory."""
    from wandb.proto import wandb_internal_pb2

    run_dir = Path(run_dir)
    files = sorted(run_dir.glob("run-*.wandb"))
    if not files:
        raise FileNotFoundError(f"No run-*.wandb file in {run_dir}")
    result = OfflineRun(path=run_dir)
    for raw in _records(files[0].read_bytes()):
        record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]
        record.ParseFromString(raw)
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
            result.run_id, result.project = run.run_id, run.project
            result.name, result.group, result.job_type = (
                run.display_name,
                run.run_group,
                run.job_type,
            )
            for item in run.config.update:
                result.config[_key(item)] = json.loads(item.value_json)
        elif kind == "config":
            for item in record.config.update:
                result.config[_key(item)] = json.loads(item.value_json)
        elif kind == "history":
            result.history.append({_key(i): json.loads(i.value_json) for i in record.history.item})
        elif kind == "summary":
            for item in record.summary.update:
                result.summary[_key(item)] = json.loads(item.value_json)
        elif kind == "exit":
            result.exit_code = record.exit.exit_code
    return result


def find_offline_runs(
    wandb_dir: str | Path, run_id: str | None = None, *, timeout: float = 10.0
) -> list[OfflineRun]:
    """Every offline run under ``wandb_dir`` (its ``wandb/`` folder or the folder itself),
    oldest first, optionally only those of ``run_id``.

    ``run.finish()`` can return before W&B's writer process has flushed the file: runs without
    their exit record yet are read again until they have one or ``timeout`` seconds passed.
    """
    base = Path(wandb_dir)
    if (base / "wandb").is_dir():
        base = base / "wandb"
    deadline = time.monotonic() + timeout
    while True:
        runs = []
        for path in sorted(base.glob("offline-run-*")):
            if path.is_dir():
                try:
                    runs.append(read_offline_run(path))
                except (FileNotFoundError, ValueError):
                    runs.append(OfflineRun(path=path))  # not written yet
        if all(r.exit_code is not None for r in runs) or time.monotonic() > deadline:
            return [r for r in runs if run_id is None or r.run_id == run_id]
        time.sleep(0.05)
