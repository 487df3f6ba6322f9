"""Shoal's own endpoints: GET /_shoal/health and GET /metrics (Prometheus text)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name{labels...}`` (label order free), or None."""
    for line in metrics.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


def test_health(raw_http: Any) -> None:
    response = raw_http.request("GET", "/_shoal/health")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert body["status"] == "running"
    assert body["services"]["sqs"] == "running"


def test_metrics_count_requests_and_queues(raw_http: Any, sqs: Any, queue_name: Callable[..., str]) -> None:
    name = queue_name()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    before = raw_http.request("GET", "/metrics")
    assert before.status == 200
    assert before.headers["content-type"].startswith("text/plain")
    sent_before = sample(before.text, "shoal_requests_total", service="sqs", action="SendMessage") or 0.0

    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="e2e-never-created")

    text = raw_http.request("GET", "/metrics").text
    assert "# TYPE shoal_requests_total counter" in text
    assert sample(text, "shoal_requests_total", service="sqs", action="SendMessage") == sent_before + 3
    errors = sample(
        text, "shoal_request_errors_total", service="sqs", action="GetQueueUrl", code="QueueDoesNotExist"
    )
    assert errors is not None and errors >= 1
    account = "000000000000"
    assert sample(text, "shoal_queue_messages", account=account, queue=name, state="visible") == 2
    assert sample(text, "shoal_queue_messages", account=account, queue=name, state="in_flight") == 1
    assert sample(text, "shoal_queue_messages", account=account, queue=name, state="delayed") == 0

    sqs.delete_queue(QueueUrl=url)
    text = raw_http.request("GET", "/metrics").text
    assert sample(text, "shoal_queue_messages", queue=name) is None


def test_metrics_count_query_requests_too(
    raw_http: Any, sqs_query: Any, queue_name: Callable[..., str]
) -> None:
    before = raw_http.request("GET", "/metrics").text
    created = sample(before, "shoal_requests_total", service="sqs", action="CreateQueue") or 0.0
    sqs_query.create_queue(QueueName=queue_name())
    after = raw_http.request("GET", "/metrics").text
    assert sample(after, "shoal_requests_total", service="sqs", action="CreateQueue") == created + 1
