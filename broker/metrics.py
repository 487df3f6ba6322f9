"""Prometheus metrics of one server: requests, errors, latency, queues, commits.

Rules: the metrics live in their own :class:`CollectorRegistry` (never the
process-global one), so two servers in one process (tests, the bench) do not
collide.  Request metrics are the hot path, so they are
plain integers and floats kept per ``(service, action)`` (one dict lookup, a
bisect, three additions; the event loop is the only writer and the only
reader) and turned into Prometheus families only at scrape time, by a
collector; prometheus-client's own metric objects (a lock per update) are
used only for the much rarer commits.  Queue gauges
are not kept up to date on every change; a collector asks
``broker.queue_stats()`` at scrape time.  Commit metrics come from the
broker's ``commit_observers`` hook, called on the event loop after each group
commit.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from broker.core import QueueStats
from broker.sns.outbox import OutboxStatistics

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Request latency spans sub-millisecond sends to 20 s long-polls.
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
COMMIT_SECONDS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
COMMIT_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class _ActionStats:
    """Counts of one (service, action): requests, latency buckets, errors by code."""

    __slots__ = ("buckets", "count", "errors", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(REQUEST_BUCKETS) + 1)  # the last one is +Inf
        self.errors: dict[str, int] = {}


class RequestCollector(Collector):
    """``shoal_requests_total``, ``shoal_request_errors_total``, ``shoal_request_seconds``."""

    def __init__(self, actions: dict[tuple[str, str], _ActionStats]) -> None:
        self._actions = actions

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        requests, errors, seconds = self._families()
        bounds = [*(str(b) for b in REQUEST_BUCKETS), "+Inf"]
        for (service, action), stats in self._actions.items():
            labels = (service, action)
            requests.add_metric(labels, stats.count)
            for code, count in stats.errors.items():
                errors.add_metric((service, action, code), count)
            cumulative, total = [], 0
            for bound, count in zip(bounds, stats.buckets, strict=True):
                total += count
                cumulative.append((bound, total))
            seconds.add_metric(labels, cumulative, stats.seconds)
        yield from (requests, errors, seconds)

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, CounterMetricFamily, HistogramMetricFamily]:
        return (
            CounterMetricFamily(
                "shoal_requests", "Requests handled, by service and action.", labels=("service", "action")
            ),
            CounterMetricFamily(
                "shoal_request_errors",
                "Requests answered with an error, by service, action and error code.",
                labels=("service", "action", "code"),
            ),
            HistogramMetricFamily(
                "shoal_request_seconds",
                "Time from a complete request to its reply, by service and action.",
                labels=("service", "action"),
            ),
        )


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


class DeliveryCollector(Collector):
    """``shoal_sns_deliveries_total{outcome}`` and ``shoal_sns_deliveries_pending`` (SNS HTTP/S outbox)."""

    def __init__(self, stats: Callable[[], OutboxStatistics]) -> None:
        self._stats = stats

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        total, pending = self._families()
        s = self._stats()
        for outcome, count in (
            ("attempted", s.attempted),
            ("succeeded", s.succeeded),
            ("failed", s.failed),
            ("dead_lettered", s.dead_lettered),
            ("dropped", s.dropped),
        ):
            total.add_metric((outcome,), count)
        pending.add_metric((), s.pending)
        yield from (total, pending)

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, GaugeMetricFamily]:
        return (
            CounterMetricFamily(
                "shoal_sns_deliveries",
                "SNS HTTP/S delivery attempts by outcome (attempted = succeeded + failed; a failed "
                "delivery's last attempt ends dead_lettered or dropped).",
                labels=("outcome",),
            ),
            GaugeMetricFamily("shoal_sns_deliveries_pending", "SNS HTTP/S deliveries not done yet."),
        )


class Metrics:
    """Every metric a Shoal server exports, in one private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
        self._actions: dict[tuple[str, str], _ActionStats] = {}
        self.registry.register(RequestCollector(self._actions))

    def observe_request(self, service: str, action: str, seconds: float, error_code: str | None) -> None:
        """Count one request; ``error_code`` is the AWS code when it failed."""
        key = (service, action)
        stats = self._actions.get(key)
        if stats is None:
            stats = self._actions[key] = _ActionStats()
        stats.count += 1
        stats.seconds += seconds
        stats.buckets[bisect_left(REQUEST_BUCKETS, seconds)] += 1
        if error_code is not None:
            stats.errors[error_code] = stats.errors.get(error_code, 0) + 1

    def observe_commit(self, batch_size: int, seconds: float) -> None:
        """A :data:`broker.core.CommitObserver`."""
        self.commit_batch_size.observe(batch_size)
        self.commit_seconds.observe(seconds)

    def watch_queues(self, stats: Callable[[], list[QueueStats]]) -> None:
        """Export queue gauges from ``stats()`` (``broker.queue_stats``) at scrape time."""
        self.registry.register(QueueCollector(stats))

    def watch_deliveries(self, stats: Callable[[], OutboxStatistics]) -> None:
        """Export SNS HTTP/S delivery counters from ``stats()`` (the outbox's) at scrape time."""
        self.registry.register(DeliveryCollector(stats))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
