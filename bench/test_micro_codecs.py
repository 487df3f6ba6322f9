"""Each SQS codec (JSON 1.0, Query): decode SendMessage/ReceiveMessage, encode their results."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.query import QuerySigner
from bench.sqs import Dialect, Endpoint, Signer
from broker.context import RequestContext
from broker.sqs import api
from protocol import sqs_json, sqs_query
from protocol.wire import Call, Codec, HttpRequest

CTX = RequestContext(request_id="00000000-0000-0000-0000-000000000000")
ENDPOINT = Endpoint.parse("http://localhost:4566")
URL = "http://localhost:4566/000000000000/q"
CODECS: dict[str, Codec] = {"json": sqs_json.CODEC, "query": sqs_query.CODEC}
SIGNERS: dict[str, Dialect] = {
    "json": Signer(ENDPOINT, "us-east-1", "test"),
    "query": QuerySigner(ENDPOINT, "us-east-1", "test"),
}
PARAMS: dict[str, dict[str, Any]] = {
    "SendMessage": {"QueueUrl": URL, "MessageBody": "x" * 100},
    "ReceiveMessage": {"QueueUrl": URL, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20},
}
RESULTS = {
    "SendMessage": api.SendMessageResult(
        message_id="5fea7756-0ea4-451a-a703-a558b933e274", md5_of_message_body="f" * 32
    ),
    "ReceiveMessage": api.ReceiveMessageResult(
        messages=[
            api.Message(
                message_id=f"5fea7756-0ea4-451a-a703-a558b933e2{i:02}",
                receipt_handle="AQEB" + "h" * 150,
                md5_of_body="f" * 32,
                body="x" * 100,
                attributes={"SentTimestamp": "1700000000000", "ApproximateReceiveCount": "1"},
            )
            for i in range(10)
        ]
    ),
}


def http_request(raw: bytes) -> HttpRequest:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")[1:]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return HttpRequest("POST", "/", "", headers, body)


@pytest.mark.parametrize("action", list(PARAMS))
@pytest.mark.parametrize("protocol", list(CODECS))
def test_decode(benchmark: BenchmarkFixture, protocol: str, action: str) -> None:
    request = http_request(SIGNERS[protocol].request(action, PARAMS[action]))
    call = benchmark(CODECS[protocol].decode, request, CTX)
    assert call.action == action


@pytest.mark.parametrize("action", list(RESULTS))
@pytest.mark.parametrize("protocol", list(CODECS))
def test_encode(benchmark: BenchmarkFixture, protocol: str, action: str) -> None:
    call = Call("sqs", action, None, CTX)
    reply = benchmark(CODECS[protocol].encode_result, call, RESULTS[action])
    assert reply.status == 200 and b"5fea7756" in reply.body
