"""The HTTP endpoint: ``/metrics`` (Prometheus text format) and ``/health`` (JSON).

A stdlib ``ThreadingHTTPServer`` in a daemon thread, bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from graflow_core.exceptions import ConfigError
from graflow_metrics.health import HealthStatus, health_report


class MetricsServer:
    """Serves ``registry`` on ``/metrics`` and the registered health checks on ``/health``.

    Args:
        registry: a ``prometheus_client.CollectorRegistry`` (default: prometheus_client's
            global ``REGISTRY``).
        port: TCP port; ``0`` picks a free one (read it back from :attr:`port`).
        host: interface to bind (default ``127.0.0.1``: reachable from this machine only).

    Use :meth:`start` / :meth:`stop`, or ``with MetricsServer(...) as server:``.
    """

    def __init__(self, registry: Any = None, *, port: int = 9464, host: str = "127.0.0.1"):
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ConfigError(f"metrics server: port must be an int 0..65535, got {port!r}")
        self.registry = registry
        self.host = host
        self._requested_port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the requested one until :meth:`start`)."""
        if self._httpd is not None:
            return int(self._httpd.server_address[1])
        return self._requested_port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> MetricsServer:
        """Bind and serve in a daemon thread; returns self. Raises ``ConfigError`` when the port
        cannot be bound."""
        if self._httpd is not None:
            return self
        from prometheus_client import REGISTRY

        registry = self.registry if self.registry is not None else REGISTRY
        handler = type("_Handler", (_Handler,), {"registry": registry})
        try:
            httpd = ThreadingHTTPServer((self.host, self._requested_port), handler)
        except OSError as exc:
            raise ConfigError(
                f"graflow-metrics cannot listen on {self.host}:{self._requested_port}: "
                f"{exc.strerror or exc}. Choose another port (GRAFLOW_METRICS_PORT, or "
                "enable(port=...)); port=0 picks a free one."
            ) from exc
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"graflow-metrics-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<MetricsServer {self.url} {state}>"


class _Handler(BaseHTTPRequestHandler):
    registry: Any = None
    server_version = "graflow-metrics"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/metrics":
            self._metrics()
        elif path == "/health":
            self._health()
        elif path == "/":
            self._send(200, "text/plain; charset=utf-8", b"graflow-metrics: /metrics /health\n")
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics or /health\n")

    def _metrics(self) -> None:
        from prometheus_client.exposition import choose_encoder

        # Prometheus asks for OpenMetrics in its Accept header; curl gets the text format.
        encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
        try:
            body = encoder(self.registry)
        except Exception as exc:  # a broken custom collector: say so instead of hanging up
            self._send(500, "text/plain; charset=utf-8", f"{type(exc).__name__}: {exc}\n".encode())
            return
        self._send(200, content_type, body)

    def _health(self) -> None:
        report = health_report()
        code = 503 if report["status"] == HealthStatus.UNHEALTHY.value else 200
        self._send(code, "application/json", json.dumps(report).encode())

    def _send(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: scrapes every few seconds would flood stderr."""
