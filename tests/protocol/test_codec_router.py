"""Routing table and request context."""

from __future__ import annotations

import pytest

from protocol import sqs_json, sqs_query
from protocol.router import codec_for, context_for
from protocol.wire import HttpRequest

AUTH = "AWS4-HMAC-SHA256 Credential={}/20250101/{}/sqs/aws4_request, SignedHeaders=host, Signature=ab"


@pytest.mark.parametrize(
    ("headers", "query", "body", "codec"),
    [
        ({"x-amz-target": "AmazonSQS.SendMessage"}, "", b"{}", sqs_json.CODEC),
        ({"x-amz-target": "Nope_2020.Thing"}, "", b"{}", sqs_json.CODEC),
        ({"content-type": "application/x-www-form-urlencoded"}, "", b"Action=ListQueues", sqs_query.CODEC),
        ({}, "Action=ListQueues", b"", sqs_query.CODEC),
        ({}, "", b"", sqs_query.CODEC),
        ({"authorization": AUTH.format("AKID", "eu-west-1")}, "", b"Action=ListQueues", sqs_query.CODEC),
    ],
)
def test_codec_for(headers: dict[str, str], query: str, body: bytes, codec: object) -> None:
    assert codec_for(HttpRequest("POST", "/", query, headers, body)) is codec


@pytest.mark.parametrize(
    ("headers", "query", "account", "region", "host"),
    [
        ({"host": "example:4566"}, "", "000000000000", "us-east-1", "example:4566"),
        (
            {"authorization": AUTH.format("123456789012", "us-west-2")},
            "",
            "123456789012",
            "us-west-2",
            "localhost:4566",
        ),
        (
            {"authorization": AUTH.format("AKIAEXAMPLE", "eu-central-1")},
            "",
            "000000000000",
            "eu-central-1",
            "localhost:4566",
        ),
        (
            {"authorization": AUTH.format("1234567890123", "ap-south-1")},
            "",
            "000000000000",
            "ap-south-1",
            "localhost:4566",
        ),
        (
            {},
            "Action=ListQueues&X-Amz-Credential=210987654321%2F20250101%2Feu-west-3%2Fsqs%2Faws4_request",
            "210987654321",
            "eu-west-3",
            "localhost:4566",
        ),
        ({"authorization": "AWS AKID:sig"}, "", "000000000000", "us-east-1", "localhost:4566"),
    ],
)
def test_context_for(headers: dict[str, str], query: str, account: str, region: str, host: str) -> None:
    ctx = context_for(
        HttpRequest("GET", "/", query, headers, b""),
        default_account="000000000000",
        default_region="us-east-1",
        request_id="r",
    )
    assert (ctx.account_id, ctx.region, ctx.host, ctx.request_id) == (account, region, host, "r")
