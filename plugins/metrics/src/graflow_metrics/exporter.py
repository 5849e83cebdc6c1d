"""The metrics plugin: Prometheus metrics of workflow runs, from graflow's run hooks.

Metrics (``registry`` default: prometheus_client's global ``REGISTRY``):

=================================== ========= ==========================================
``graflow_task_duration_seconds``   histogram ``workflow``, ``task`` — one attempt
``graflow_tasks_total``             counter   ``workflow``, ``task``, ``status``
                                              (``success`` / ``failure`` / ``retry``)
``graflow_workflow_duration_seconds`` histogram ``workflow``, ``status`` (``success`` / ``failure``)
``graflow_workflows_total``         counter   ``workflow``, ``status``
``graflow_tasks_running``           gauge     ``workflow`` — attempts in progress
``graflow_queue_depth``             gauge     ``workflow`` — task ids queued, not yet started
``graflow_workflows_running``       gauge     ``workflow``
=================================== ========= ==========================================

The three gauges are computed when scraped (from the runs in progress), so they cost nothing per
task. Parallel-group nodes are not counted as tasks (their members are). Iterations
(``next_iteration``) are labelled with their base task id.
"""

from __future__ import annotations

import threading
import time
import weakref
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from graflow_core.core.task import ParallelGroup
from graflow_core.exceptions import ConfigError
from graflow_core.plugins import hookimpl
from graflow_core.plugins.diagnosis import LazyDiagnosis
from graflow_metrics import logcontext
from graflow_metrics.health import FailureWindow

#: Histogram buckets (seconds) of task and workflow durations.
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.001,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
)
#: Distinct (workflow, task) label pairs kept before new tasks are labelled ``task="_other"``.
DEFAULT_MAX_TASK_LABELS = 2000
OTHER_TASK = "_other"

_perf = time.perf_counter
_SUCCESS, _FAILURE, _RETRY = 0, 1, 2


class _TaskSeries:
    """Histogram and status counts of one (workflow, task) label pair."""

    __slots__ = ("buckets", "counts", "sum")

    def __init__(self, n_buckets: int) -> None:
        self.buckets = [0] * n_buckets  # per bucket (not cumulative); the last one is +Inf
        self.sum = 0.0
        self.counts = [0, 0, 0]  # success, failure, retry


class MetricSet(Collector):
    """The metrics of one registry and the live state of the runs they describe.

    Shared by every :class:`MetricsPlugin` using that registry (a registry refuses a metric
    name twice). Per task attempt the plugin only appends ``(workflow, task, seconds, status)``
    to a deque; the deque is folded into the task histograms and counters when the registry is
    scraped (or every 4096 attempts), so recording a task costs well under a microsecond and
    takes no lock. The running / queue gauges are computed at scrape time from the runs in
    progress.
    """

    #: Fold the pending observations once this many are waiting.
    FOLD_EVERY = 4096

    def __init__(
        self,
        registry: CollectorRegistry,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        max_task_labels: int = DEFAULT_MAX_TASK_LABELS,
        failure_window: int = 100,
    ) -> None:
        bounds = sorted(float(b) for b in buckets if b != float("inf"))
        if not bounds:
            raise ConfigError("graflow-metrics: buckets must contain at least one finite bound")
        self.registry = registry
        self.bounds: tuple[float, ...] = tuple(bounds)
        self.max_task_labels = max_task_labels
        self.workflow_duration = Histogram(
            "graflow_workflow_duration_seconds",
            "Duration of one graflow workflow run, in seconds.",
            ["workflow", "status"],
            buckets=self.bounds,
            registry=registry,
        )
        self.workflows_total = Counter(
            "graflow_workflows",
            "Finished graflow workflow runs by status (success, failure).",
            ["workflow", "status"],
            registry=registry,
        )
        self.window = FailureWindow(failure_window, before_read=self.fold)
        # id(context) -> (context, workflow name, start time) of runs in progress.
        self.runs: dict[int, tuple[Any, str, float]] = {}
        # (id(context), task_id) -> (start time, context) of attempts in progress.
        self.inflight: dict[tuple[int, str], tuple[float, Any]] = {}
        # (workflow, task label, seconds, status) of finished attempts not folded yet.
        self.pending: deque[tuple[str, str, float, int]] = deque()
        self._series: dict[tuple[str, str], _TaskSeries] = {}
        self._fold_lock = threading.Lock()
        registry.register(self)

    # -- folding ---------------------------------------------------------------------------------

    def fold(self) -> None:
        """Move the pending observations into the series (thread-safe)."""
        pending = self.pending
        if not pending:
            return
        with self._fold_lock:
            series = self._series
            bounds = self.bounds
            n_buckets = len(bounds) + 1
            outcomes = self.window.outcomes
            while pending:
                try:
                    workflow, label, seconds, status = pending.popleft()
                except IndexError:
                    break
                entry = series.get((workflow, label))
                if entry is None:
                    if len(series) >= self.max_task_labels:
                        label = OTHER_TASK
                        entry = series.get((workflow, label))
                    if entry is None:
                        entry = series[(workflow, label)] = _TaskSeries(n_buckets)
                entry.buckets[bisect_left(bounds, seconds)] += 1
                entry.sum += seconds
                entry.counts[status] += 1
                if status != _RETRY:
                    outcomes.append(status == _SUCCESS)

    def drop_attempts_of(self, context: Any) -> None:
        """Forget attempts in progress of ``context``'s run (its branches included)."""
        for key, (_, ctx) in list(self.inflight.items()):
            owner = ctx
            while owner is not None and owner is not context:
                owner = getattr(owner, "parent_context", None)
            if owner is context:
                self.inflight.pop(key, None)

    def record(self, context: Any, task_id: str, seconds: float, status: int) -> None:
        """Queue one finished attempt (labelled with the base id of an iteration)."""
        if "_cycle_" in task_id:
            base_id = getattr(context, "_base_id", None)
            if base_id is not None:
                task_id = base_id(task_id)
        pending = self.pending
        pending.append((context.workflow_name or "", task_id, seconds, status))
        if len(pending) > self.FOLD_EVERY:
            self.fold()

    # -- scrape ----------------------------------------------------------------------------------

    def describe(self) -> Iterator[Any]:
        """Nothing up front (the families are produced by :meth:`collect`)."""
        return iter(())

    def collect(self) -> Iterator[Any]:
        """The task histogram and counter, and the running / queue gauges."""
        self.fold()
        with self._fold_lock:
            snapshot = [
                (key, list(s.buckets), s.sum, list(s.counts)) for key, s in self._series.items()
            ]
        bounds = [_bound_label(b) for b in self.bounds] + ["+Inf"]
        duration = HistogramMetricFamily(
            "graflow_task_duration_seconds",
            "Duration of one graflow task attempt, in seconds.",
            labels=["workflow", "task"],
        )
        totals = CounterMetricFamily(
            "graflow_tasks",
            "Finished graflow task attempts by status (success, failure, retry).",
            labels=["workflow", "task", "status"],
        )
        for (workflow, label), buckets, total, counts in sorted(snapshot, key=lambda x: x[0]):
            cumulative = [float(c) for c in accumulate(buckets)]
            duration.add_metric(
                [workflow, label], list(zip(bounds, cumulative, strict=True)), sum_value=total
            )
            for status, count in zip(("success", "failure", "retry"), counts, strict=True):
                totals.add_metric([workflow, label, status], float(count))
        yield duration
        yield totals
        yield from self._gauges()

    def _gauges(self) -> Iterator[Any]:
        runs = list(self.runs.values())
        inflight = list(self.inflight.values())
        running: dict[str, int] = {}
        workflows: dict[str, int] = {}
        contexts: dict[int, Any] = {}
        for ctx, name, _ in runs:
            if getattr(ctx, "run_scope", "workflow") == "workflow":  # a step is not a run
                workflows[name] = workflows.get(name, 0) + 1
            running.setdefault(name, 0)
            contexts[id(ctx)] = ctx
        for _, ctx in inflight:
            name = ctx.workflow_name or ""
            running[name] = running.get(name, 0) + 1
            contexts[id(ctx)] = ctx
        depth: dict[str, int] = dict.fromkeys(running, 0)
        for ctx in contexts.values():
            name = ctx.workflow_name or ""
            queue = getattr(ctx, "task_queue", None)
            depth[name] = depth.get(name, 0) + (len(queue) if queue is not None else 0)
        for metric, help_text, values in (
            ("graflow_tasks_running", "graflow task attempts in progress.", running),
            ("graflow_queue_depth", "graflow task ids queued and not started yet.", depth),
            ("graflow_workflows_running", "graflow workflow runs in progress.", workflows),
        ):
            family = GaugeMetricFamily(metric, help_text, labels=["workflow"])
            for name, value in sorted(values.items()):
                family.add_metric([name], float(value))
            yield family


def _bound_label(bound: float) -> str:
    # prometheus_client's own formatting of bucket bounds ("0.005", "1.0", "+Inf")
    return floatToGoString(bound)


_sets: weakref.WeakKeyDictionary[CollectorRegistry, MetricSet] = weakref.WeakKeyDictionary()
_sets_lock = threading.Lock()


def metric_set(
    registry: CollectorRegistry | None = None,
    *,
    buckets: Sequence[float] | None = None,
    max_task_labels: int | None = None,
) -> MetricSet:
    """The :class:`MetricSet` of ``registry`` (created on first use)."""
    target = registry if registry is not None else REGISTRY
    with _sets_lock:
        found = _sets.get(target)
        if found is None:
            found = MetricSet(
                target,
                buckets=buckets if buckets is not None else DEFAULT_BUCKETS,
                max_task_labels=max_task_labels or DEFAULT_MAX_TASK_LABELS,
            )
            _sets[target] = found
        elif (
            buckets is not None
            and tuple(sorted(float(b) for b in buckets if b != float("inf"))) != found.bounds
        ):
            raise ConfigError(
                "graflow-metrics: this registry already has graflow metrics with other "
                "buckets; use the same buckets or another CollectorRegistry."
            )
        return found


class MetricsPlugin(LazyDiagnosis):
    """Run hooks that record Prometheus metrics (and keep the JSON-log context).

    Use it for one run (``wf.execute(plugins=[MetricsPlugin(registry=r)])``) or process-wide
    through :func:`graflow_metrics.enable`.

    Args:
        registry: the ``CollectorRegistry`` to record into (default: prometheus_client's
            ``REGISTRY``).
        port: when given, serve ``/metrics`` and ``/health`` on this port (``0``: a free one;
            see :attr:`server`).
        host: the interface the server binds (default ``127.0.0.1``).
        buckets: histogram buckets in seconds (default :data:`DEFAULT_BUCKETS`).
        log_context: keep the workflow / run / task ids that
            :class:`~graflow_metrics.JsonFormatter` writes on every line; ``None`` (default):
            only once a ``JsonFormatter`` exists in the process.
        max_task_labels: distinct task labels kept per registry before new tasks are labelled
            ``_other`` (dynamic task ids must not explode the series count).
        push_gateway: a Prometheus Pushgateway (``"host:9091"`` or a URL) to push the registry
            to when a run ends — for batch processes that exit before a scrape. Pushed with
            ``job=push_job`` and the grouping key ``workflow=<name>``; a failed push warns
            (``RuntimeWarning``) and never fails the run.
        push_job: the ``job`` label of pushed metrics.
    """

    diagnosis = "graflow_metrics.doctor:diagnose"

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        buckets: Sequence[float] | None = None,
        log_context: bool | None = None,
        max_task_labels: int | None = None,
        push_gateway: str | None = None,
        push_job: str = "graflow",
    ) -> None:
        if push_gateway is not None and (not isinstance(push_gateway, str) or not push_gateway):
            raise ConfigError(
                f"MetricsPlugin: push_gateway must be 'host:port' or a URL, got {push_gateway!r}"
            )
        self.push_gateway = push_gateway
        self.push_job = push_job
        self.metrics = metric_set(registry, buckets=buckets, max_task_labels=max_task_labels)
        self.registry = self.metrics.registry
        self._inflight = self.metrics.inflight
        self.log_context = log_context
        self.server: Any = None
        self._serve_at_first_run: tuple[int, str] | None = None
        if port is not None:
            self.serve(port, host=host)

    def serve_at_first_run(self, port: int, *, host: str = "127.0.0.1") -> None:
        """Start the HTTP endpoint when the first workflow run starts (what the entry point
        does with ``GRAFLOW_METRICS=1``: loading the plugin, e.g. for ``graflow doctor``,
        starts nothing). A port that cannot be used gives a ``RuntimeWarning`` then; the
        plugin still records."""
        self._serve_at_first_run = (port, host)

    def _start_deferred_server(self) -> None:
        pending, self._serve_at_first_run = self._serve_at_first_run, None
        if pending is None:
            return
        import warnings

        port, host = pending
        try:
            self.serve(port, host=host)
        except ConfigError as exc:
            warnings.warn(
                f"graflow-metrics (GRAFLOW_METRICS=1) records metrics but serves none: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )

    def serve(self, port: int = 0, *, host: str = "127.0.0.1") -> Any:
        """Start (once) the HTTP endpoint for this plugin's registry; returns the server."""
        if self.server is None or not self.server.running:
            from graflow_metrics.server import MetricsServer

            self.server = MetricsServer(self.registry, port=port, host=host).start()
        return self.server

    def close(self) -> None:
        """Stop the HTTP endpoint (if any)."""
        if self.server is not None:
            self.server.stop()

    # -- workflow hooks --------------------------------------------------------------------------

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        """A run starts."""
        if self._serve_at_first_run is not None:
            self._start_deferred_server()
        self.metrics.runs[id(context)] = (context, workflow_name or "", _perf())
        if self.log_context or (self.log_context is None and logcontext.wanted):
            logcontext.enter_workflow(context, workflow_name)

    @hookimpl
    def workflow_end(self, context: Any, workflow_name: str) -> None:
        """A run finished."""
        self._finish_run(context, workflow_name, "success")

    @hookimpl
    def workflow_failure(self, context: Any, workflow_name: str) -> None:
        """A run failed."""
        self._finish_run(context, workflow_name, "failure")

    def _finish_run(self, context: Any, workflow_name: str, status: str) -> None:
        metrics = self.metrics
        entry = metrics.runs.pop(id(context), None)
        if metrics.inflight:
            metrics.drop_attempts_of(context)  # attempts a BaseException cut short
        # A "step" context runs one orchestrator task of a run split over many (Airflow,
        # Dagster): its tasks count, but it is not a workflow run of its own.
        if getattr(context, "run_scope", "workflow") == "workflow":
            name = workflow_name or ""
            if entry is not None:
                metrics.workflow_duration.labels(name, status).observe(_perf() - entry[2])
            metrics.workflows_total.labels(name, status).inc()
        logcontext.exit_workflow(context)
        if self.push_gateway is not None:
            self.push(workflow_name or "")

    def push(self, workflow_name: str) -> None:
        """Push the registry to :attr:`push_gateway` (grouping key ``workflow``); warns on
        failure."""
        from prometheus_client import push_to_gateway

        try:
            push_to_gateway(
                self.push_gateway or "",
                job=self.push_job,
                registry=self.registry,
                grouping_key={"workflow": workflow_name or "unnamed"},
                timeout=10,
            )
        except Exception as exc:
            import warnings

            warnings.warn(
                f"graflow-metrics could not push to the Pushgateway {self.push_gateway}: "
                f"{type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )

    # -- task hooks ------------------------------------------------------------------------------

    @hookimpl
    def task_start(self, task: Any, task_id: str, context: Any) -> None:
        """An attempt starts."""
        if task.__class__ is ParallelGroup:
            return
        self._inflight[(id(context), task_id)] = (_perf(), context)
        if self.log_context or (self.log_context is None and logcontext.wanted):
            logcontext.enter_task(context, task_id)

    @hookimpl
    def task_end(self, task_id: str, context: Any) -> None:
        """An attempt succeeded."""
        entry = self._inflight.pop((id(context), task_id), None)
        if entry is None:
            return
        self.metrics.record(context, task_id, _perf() - entry[0], _SUCCESS)
        if logcontext._entered:
            logcontext.exit_task(context, task_id)

    @hookimpl
    def task_failure(self, task_id: str, context: Any, final: bool) -> None:
        """An attempt failed (``final=False``: a retry follows)."""
        entry = self._inflight.pop((id(context), task_id), None)
        if entry is None:
            return
        self.metrics.record(context, task_id, _perf() - entry[0], _FAILURE if final else _RETRY)
        if logcontext._entered:
            logcontext.exit_task(context, task_id)

    def __repr__(self) -> str:
        server = f" serving {self.server.url}" if self.server is not None else ""
        return f"<MetricsPlugin{server}>"
