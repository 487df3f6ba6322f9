"""Metrics exposition: request histograms built at scrape time, queues, commits."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from broker.core import QueueStats
from broker.metrics import Metrics


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = metrics.render().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_request_histogram_is_cumulative_with_inclusive_bounds() -> None:
    metrics = Metrics()
    metrics.observe_request("sqs", "SendMessage", 0.001, None)  # exactly on a bound: in le="0.001"
    metrics.observe_request("sqs", "SendMessage", 0.003, None)
    metrics.observe_request("sqs", "SendMessage", 99.0, "InternalFailure")
    got = samples(metrics)
    labels = {("service", "sqs"), ("action", "SendMessage")}

    def bucket(le: str) -> float:
        return got[("shoal_request_seconds_bucket", frozenset({*labels, ("le", le)}))]

    assert bucket("0.0005") == 0
    assert bucket("0.001") == 1
    assert bucket("0.005") == 2
    assert bucket("20.0") == 2
    assert bucket("+Inf") == 3
    assert got[("shoal_request_seconds_count", frozenset(labels))] == 3
    assert abs(got[("shoal_request_seconds_sum", frozenset(labels))] - 99.004) < 1e-9
    assert got[("shoal_requests_total", frozenset(labels))] == 3
    assert got[("shoal_request_errors_total", frozenset({*labels, ("code", "InternalFailure")}))] == 1


def test_queue_gauges_are_read_at_scrape_time() -> None:
    metrics = Metrics()
    stats: list[QueueStats] = []
    metrics.watch_queues(lambda: stats)
    assert not any(name == "shoal_queue_messages" for name, _ in samples(metrics))
    stats.append(QueueStats("000000000000", "q", visible=5, in_flight=0, delayed=2))
    got = samples(metrics)
    key = frozenset({("account", "000000000000"), ("queue", "q"), ("state", "delayed")})
    assert got[("shoal_queue_messages", key)] == 2


def test_commit_observer() -> None:
    metrics = Metrics()
    metrics.observe_commit(3, 0.0004)
    metrics.observe_commit(40, 0.002)
    got = samples(metrics)
    assert got[("shoal_commit_batch_size_sum", frozenset())] == 43
    assert got[("shoal_commit_seconds_count", frozenset())] == 2


def test_two_servers_do_not_share_metrics() -> None:
    first, second = Metrics(), Metrics()
    first.observe_request("sqs", "ListQueues", 0.01, None)
    assert ("shoal_requests_total", frozenset({("service", "sqs"), ("action", "ListQueues")})) not in samples(
        second
    )
