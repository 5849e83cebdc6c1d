"""Prometheus metrics, a /health endpoint and JSON logs for a graflow workflow.

    .venv/bin/python examples/metrics/monitored_pipeline.py        # serves on a free port
    METRICS_PORT=9464 .venv/bin/python examples/metrics/monitored_pipeline.py --serve

With ``--serve`` it keeps serving after the run so you can point Prometheus (or curl) at
``http://127.0.0.1:9464/metrics`` and ``/health``; without it, it scrapes itself once and exits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request

import graflow_metrics

from graflow_core import task, workflow

log = logging.getLogger("pipeline")

with workflow("orders") as wf:

    @task
    def extract() -> list[dict[str, float]]:
        rows = [{"id": 1, "amount": 12.5}, {"id": 2, "amount": 80.0}, {"id": 3, "amount": 7.25}]
        log.info("extracted rows", extra={"rows": len(rows)})
        return rows

    @task(max_retries=2)
    def enrich(extract: list[dict[str, float]]) -> list[dict[str, float]]:
        enrich.attempts = getattr(enrich, "attempts", 0) + 1  # type: ignore[attr-defined]
        if enrich.attempts == 1:  # type: ignore[attr-defined]
            log.warning("currency service timed out, retrying")
            raise TimeoutError("currency service")
        return [{**row, "eur": round(row["amount"] * 0.92, 2)} for row in extract]

    @task
    def total(enrich: list[dict[str, float]]) -> float:
        value = sum(row["eur"] for row in enrich)
        log.info("total computed", extra={"eur": value})
        return value

    extract >> enrich >> total


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


if __name__ == "__main__":
    # JSON lines on stderr; every line logged during the run names the run and the task.
    graflow_metrics.configure_json_logging(logging.INFO)
    checkpoints = os.path.join(tempfile.gettempdir(), "graflow-example-checkpoints")
    plugin = graflow_metrics.enable(
        port=int(os.environ.get("METRICS_PORT", "0")), checkpoint_dir=checkpoints
    )
    graflow_metrics.register_health_check("warehouse", lambda: (True, "reachable"), critical=False)

    print("result:", wf.execute())

    url = plugin.server.url
    _, text = get(f"{url}/metrics")
    print(f"scraped {url}/metrics:")
    for line in text.splitlines():
        if line.startswith(
            ("graflow_tasks_total", "graflow_workflows_total")
        ) and not line.endswith(" 0.0"):
            print("  " + line)
    code, body = get(f"{url}/health")
    health = json.loads(body)
    print(f"/health -> HTTP {code} {health['status']}: {sorted(health['checks'])}")
    if "--serve" in sys.argv:
        print(f"serving {url}/metrics and {url}/health; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            while plugin.server.running:
                time.sleep(1)
    graflow_metrics.disable()
