"""Prometheus metrics of one server: requests, errors, latency, queues, commits.

Rules: the metrics live in their own :class:`CollectorRegistry` (never the
process-global one), so two servers in one process (tests, the bench) do not
collide.  The per-request cost is a dict lookup and three child updates: label
children are resolved once per ``(service, action)`` and cached.  Queue gauges
are not kept up to date on every change; a collector asks
``broker.queue_stats()`` at scrape time.  Commit metrics come from the
broker's ``commit_observers`` hook, called on the event loop after each group
commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from broker.core import QueueStats

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Request latency spans sub-millisecond sends to 20 s long-polls.
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
COMMIT_SECONDS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
COMMIT_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class _ActionMetrics:
    """The cached label children of one (service, action)."""

    __slots__ = ("errors", "labels", "requests", "seconds")

    def __init__(self, metrics: Metrics, service: str, action: str) -> None:
        self.labels = (service, action)
        self.requests = metrics.requests.labels(service, action)
        self.seconds = metrics.request_seconds.labels(service, action)
        self.errors: dict[str, Counter] = {}


class QueueCollector(Collector):
    """``shoal_queue_messages{account,queue,state}``, read from the broker at scrape time."""

    def __init__(self, stats: Callable[[], list[QueueStats]]) -> None:
        self._stats = stats

    def describe(self) -> Iterator[Metric]:
        """The metric names, without asking the broker (registration happens before it starts)."""
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for q in self._stats():
            family.add_metric((q.account_id, q.name, "visible"), q.visible)
            family.add_metric((q.account_id, q.name, "in_flight"), q.in_flight)
            family.add_metric((q.account_id, q.name, "delayed"), q.delayed)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "shoal_queue_messages",
            "Messages in a queue by state.",
            labels=("account", "queue", "state"),
        )


class Metrics:
    """Every metric a Shoal server exports, in one private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shoal_requests",
            "Requests handled, by service and action.",
            ("service", "action"),
            registry=self.registry,
        )
        self.request_errors = Counter(
            "shoal_request_errors",
            "Requests answered with an error, by service, action and error code.",
            ("service", "action", "code"),
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "shoal_request_seconds",
            "Time from a complete request to its reply, by service and action.",
            ("service", "action"),
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.commit_batch_size = Histogram(
            "shoal_commit_batch_size",
            "Writes per group commit.",
            buckets=COMMIT_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "shoal_commit_seconds",
            "Duration of one group commit (transaction and sync).",
            buckets=COMMIT_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self._actions: dict[tuple[str, str], _ActionMetrics] = {}

    def observe_request(self, service: str, action: str, seconds: float, error_code: str | None) -> None:
        """Count one request; ``error_code`` is the AWS code when it failed."""
        key = (service, action)
        children = self._actions.get(key)
        if children is None:
            children = self._actions[key] = _ActionMetrics(self, service, action)
        children.requests.inc()
        children.seconds.observe(seconds)
        if error_code is not None:
            errors = children.errors.get(error_code)
            if errors is None:
                errors = children.errors[error_code] = self.request_errors.labels(service, action, error_code)
            errors.inc()

    def observe_commit(self, batch_size: int, seconds: float) -> None:
        """A :data:`broker.core.CommitObserver`."""
        self.commit_batch_size.observe(batch_size)
        self.commit_seconds.observe(seconds)

    def watch_queues(self, stats: Callable[[], list[QueueStats]]) -> None:
        """Export queue gauges from ``stats()`` (``broker.queue_stats``) at scrape time."""
        self.registry.register(QueueCollector(stats))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
