"""Structured logging: one JSON object per line, with the workflow run and task on every line.

::

    from graflow_metrics import configure_json_logging

    configure_json_logging()          # root logger -> stderr, JSON lines
    log = logging.getLogger("etl")
    log.info("loaded %d rows", 10, extra={"table": "users"})

prints (one line)::

    {"timestamp": "2026-11-28T07:01:02.345Z", "level": "INFO", "logger": "etl",
     "message": "loaded 10 rows", "workflow": "etl", "workflow_run_id": "5f2c...",
     "task_id": "load", "table": "users"}

``workflow``, ``workflow_run_id`` and ``task_id`` come from the run's hooks (see
:mod:`graflow_metrics.logcontext`); outside a run they are ``null``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

from graflow_metrics import logcontext

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object (no newlines inside).

    Keys: ``timestamp`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``, ``message``,
    ``workflow``, ``workflow_run_id``, ``task_id``; then ``exception`` / ``stack`` when present,
    and every ``extra=`` field (values that are not JSON become their ``repr``). An ``extra``
    field never replaces one of the keys above.

    Args:
        static_fields: added to every line (e.g. ``{"service": "etl"}``).
        ensure_ascii: passed to :func:`json.dumps`.
    """

    def __init__(
        self, static_fields: dict[str, Any] | None = None, *, ensure_ascii: bool = False
    ) -> None:
        super().__init__()
        logcontext.wanted = True
        self.static_fields = dict(static_fields or {})
        self.ensure_ascii = ensure_ascii

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        ctx = logcontext.current.get()
        workflow, run_id, task_id = ctx if ctx is not None else (None, None, None)
        # Fields given explicitly on the record (extra={"task_id": ...}) win over the context.
        attrs = record.__dict__
        data: dict[str, Any] = {
            "timestamp": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "workflow": attrs.get("workflow", workflow),
            "workflow_run_id": attrs.get("workflow_run_id", run_id),
            "task_id": attrs.get("task_id", task_id),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        for key, value in self.static_fields.items():
            data.setdefault(key, value)
        for key, value in attrs.items():
            if key not in _STANDARD_ATTRS and key not in data:
                data[key] = value
        return json.dumps(data, default=repr, ensure_ascii=self.ensure_ascii)


def _iso(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


_installed: list[tuple[logging.Logger, logging.Handler]] = []


def configure_json_logging(
    level: int | str = logging.INFO,
    *,
    logger: logging.Logger | str | None = None,
    stream: TextIO | None = None,
    handler: logging.Handler | None = None,
    static_fields: dict[str, Any] | None = None,
    track_runs: bool = True,
    replace_handlers: bool = True,
) -> logging.Handler:
    """Log JSON lines: install a handler with :class:`JsonFormatter` on ``logger``.

    Args:
        level: the logger's level.
        logger: the logger (or its name) to configure; default the root logger.
        stream: where the default ``StreamHandler`` writes (default ``sys.stderr``).
        handler: use this handler instead of a new ``StreamHandler`` (its formatter is replaced).
        static_fields: added to every line.
        track_runs: register :class:`~graflow_metrics.logcontext.LogContextPlugin` process-wide
            so that lines logged during any workflow run carry the run and task ids. Not
            needed when :func:`graflow_metrics.enable` is on (its plugin keeps the context too);
            ``False`` keeps workflows on the engine's fast path.
        replace_handlers: remove the handlers a previous call installed on that logger.

    Returns:
        The handler (remove it with ``logging.getLogger(...).removeHandler(handler)``).
    """
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    if replace_handlers:
        for owner, old in list(_installed):
            if owner is target:
                owner.removeHandler(old)
                _installed.remove((owner, old))
    if handler is None:
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(static_fields))
    target.addHandler(handler)
    target.setLevel(level)
    _installed.append((target, handler))
    if track_runs:
        install_log_context()
    return handler


_LOG_CONTEXT_NAME = "graflow-metrics-log-context"


def install_log_context() -> None:
    """Register :class:`~graflow_metrics.logcontext.LogContextPlugin` process-wide (once)."""
    from graflow_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    if not manager.has_plugin(_LOG_CONTEXT_NAME):
        manager.register(logcontext.LogContextPlugin(), name=_LOG_CONTEXT_NAME)


def uninstall_log_context() -> None:
    """Undo :func:`install_log_context`."""
    from graflow_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    if manager.has_plugin(_LOG_CONTEXT_NAME):
        manager.unregister(name=_LOG_CONTEXT_NAME)
