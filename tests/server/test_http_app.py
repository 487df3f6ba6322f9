"""The application edge through a connection: own routes, codec errors, metrics."""

from __future__ import annotations

import logging

import orjson
import pytest
from server_fakes import Wire, post

from broker.errors import InternalFailure


def test_health(wire: Wire) -> None:
    wire.send(b"GET /_shoal/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    (reply,) = wire.responses()
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    health = orjson.loads(reply.body)
    assert health["status"] == "running"
    assert health["services"] == {"sqs": "running"}
    assert isinstance(health["version"], str)
    assert wire.broker.calls == []


def test_metrics(wire: Wire) -> None:
    wire.send(post(b"a", headers="X-Action: SendMessage\r\n"))
    wire.send(post(b"missing", headers="X-Action: GetQueueUrl\r\n"))
    wire.responses()
    wire.metrics.observe_commit(12, 0.002)
    wire.send(b"GET /metrics HTTP/1.1\r\n\r\n")
    (reply,) = wire.responses()
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain")
    text = reply.body.decode()
    assert 'shoal_requests_total{action="SendMessage",service="sqs"} 1.0' in text
    assert (
        'shoal_request_errors_total{action="GetQueueUrl",code="QueueDoesNotExist",service="sqs"} 1.0' in text
    )
    assert 'shoal_request_seconds_count{action="SendMessage",service="sqs"} 1.0' in text
    assert 'shoal_queue_messages{account="000000000000",queue="orders",state="visible"} 3.0' in text
    assert 'shoal_queue_messages{account="000000000000",queue="orders",state="in_flight"} 2.0' in text
    assert 'shoal_queue_messages{account="000000000000",queue="orders",state="delayed"} 1.0' in text
    assert "shoal_commit_batch_size_sum 12.0" in text
    assert "shoal_commit_seconds_count 1.0" in text


def test_post_to_an_own_route_goes_to_the_codecs(wire: Wire) -> None:
    wire.send(post(b"body", path="/metrics"))
    (reply,) = wire.responses()
    assert reply.body == b"body"


def test_shoal_error_is_rendered_by_the_codec(wire: Wire) -> None:
    wire.send(post(b"missing"))
    (reply,) = wire.responses()
    assert reply.status == 400
    assert reply.headers["x-error"] == "QueueDoesNotExist"


def test_decode_error_is_rendered_by_the_codec(wire: Wire) -> None:
    wire.send(post(b"x", headers="X-Action: Invalid\r\n"))
    (reply,) = wire.responses()
    assert reply.headers["x-error"] == "InvalidParameterValue"
    assert wire.broker.calls == []


def test_unexpected_exception_is_internal_failure(wire: Wire, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="shoal.app"):
        wire.send(post(b"boom"))
    (reply,) = wire.responses()
    assert reply.status == 500
    assert reply.headers["x-error"] == InternalFailure.code
    (record,) = caplog.records
    assert record.exc_info is not None
    # the server keeps serving on the same connection
    wire.send(post(b"after"))
    assert [r.body for r in wire.responses()] == [b"after"]


def test_each_request_gets_its_own_request_id(wire: Wire) -> None:
    wire.send(post(b"a") + post(b"b"))
    first, second = wire.responses()
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert len(first.headers["x-request-id"]) == 36
