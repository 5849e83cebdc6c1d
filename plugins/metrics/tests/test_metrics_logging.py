"""JSON log lines carry the workflow, its run id and the task id on every line of a run."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from graflow_core import task, workflow


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    from graflow_metrics import configure_json_logging
    from graflow_metrics.json_logging import uninstall_log_context

    stream = io.StringIO()
    logger = logging.getLogger("graflow_metrics_test")
    handler = configure_json_logging(logging.DEBUG, logger=logger, stream=stream, track_runs=False)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        uninstall_log_context()


def _lines(stream: io.StringIO) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_of_a_run_names_workflow_run_and_task(json_log, registry) -> None:
    from graflow_metrics import MetricsPlugin

    log = logging.getLogger("graflow_metrics_test")

    with workflow("orders") as wf:

        @task
        def fetch() -> list[int]:
            log.info("fetched %d orders", 3, extra={"source": "api"})
            return [1, 2, 3]

        @task
        def left(fetch: list[int]) -> int:
            log.info("left")
            return sum(fetch)

        @task
        def right(fetch: list[int]) -> int:
            log.warning("right")
            return max(fetch)

        @task
        def store(left: int, right: int) -> None:
            try:
                raise KeyError("missing")
            except KeyError:
                log.exception("store failed softly")

        fetch >> (left | right) >> store

    log.info("before")
    _, ctx = wf.execute(plugins=[MetricsPlugin(registry=registry)], ret_context=True)
    log.info("after")

    lines = _lines(json_log)
    assert lines[0]["message"] == "before"
    run_id = ctx.workflow_run_id
    assert run_id == ctx.session_id  # the default
    by_message = {line["message"]: line for line in lines}
    for message, task_id in (
        ("fetched 3 orders", "fetch"),
        ("left", "left"),
        ("right", "right"),
        ("store failed softly", "store"),
    ):
        line = by_message[message]
        assert (line["workflow"], line["workflow_run_id"], line["task_id"]) == (
            "orders",
            run_id,
            task_id,
        ), line
        assert line["logger"] == "graflow_metrics_test"
        assert line["timestamp"].endswith("Z") and "T" in line["timestamp"]
    assert by_message["fetched 3 orders"]["source"] == "api"
    assert by_message["right"]["level"] == "WARNING"
    assert "KeyError: 'missing'" in by_message["store failed softly"]["exception"]
    for outside in ("before", "after"):
        assert by_message[outside]["workflow"] is None
        assert by_message[outside]["task_id"] is None


def test_configure_json_logging_tracks_runs_without_metrics(json_log) -> None:
    from graflow_metrics import configure_json_logging
    from graflow_metrics.json_logging import _LOG_CONTEXT_NAME

    from graflow_core.plugins import get_plugin_manager

    logger = logging.getLogger("graflow_metrics_test")
    configure_json_logging(logging.INFO, logger=logger, stream=json_log, track_runs=True)
    assert get_plugin_manager().has_plugin(_LOG_CONTEXT_NAME)
    from graflow_metrics import JsonFormatter

    json_handlers = [h for h in logger.handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(json_handlers) == 1  # the earlier handler was replaced

    with workflow("plain") as wf:

        @task
        def only() -> None:
            logger.info("inside")

    wf.execute(workflow_run_id="my_dag/manual__2026-11-28")  # what a bridge passes
    (line,) = [line for line in _lines(json_log) if line["message"] == "inside"]
    assert (line["workflow"], line["task_id"]) == ("plain", "only")
    assert line["workflow_run_id"] == "my_dag/manual__2026-11-28"


def test_formatter_static_fields_and_explicit_ids() -> None:
    from graflow_metrics import JsonFormatter

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "msg %s\nnext", ("a",), None)
    record.task_id = "explicit"
    record.obj = object()
    line = JsonFormatter({"service": "etl"}).format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "msg a\nnext"
    assert data["service"] == "etl" and data["task_id"] == "explicit"
    assert data["obj"].startswith("<object object")
