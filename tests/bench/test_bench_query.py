"""bench.query: Query requests as botocore flattens them; answers as Shoal's codec writes them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import botocore.loaders
import pytest
from botocore.model import ServiceModel
from botocore.serialize import create_serializer

from bench.http11 import Response
from bench.query import QuerySigner, flatten, parse_result
from bench.query import error_code as query_error_code
from bench.sqs import Endpoint, Signer, SqsError
from broker.context import RequestContext
from broker.sqs import api
from protocol import sqs_json, sqs_query
from protocol.wire import Call, HttpRequest


def botocore_pairs(service: str, action: str, params: dict[str, Any]) -> set[tuple[str, str]]:
    raw = botocore.loaders.Loader().load_service_model(service, "service-2")
    op = ServiceModel(raw, service).operation_model(action)
    body = create_serializer("query").serialize_to_request(params, op)["body"]
    return {(k, str(v)) for k, v in body.items()}


CTX = RequestContext(request_id="req-1")

CASES = [
    ("sqs", "SendMessage", {"QueueUrl": "http://h/1/q", "MessageBody": "a&b=c <é>"}),
    ("sqs", "CreateQueue", {"QueueName": "q.fifo", "Attributes": {"FifoQueue": "true"}}),
    (
        "sqs",
        "SendMessageBatch",
        {
            "QueueUrl": "http://h/1/q",
            "Entries": [
                {
                    "Id": str(i),
                    "MessageBody": f"b{i}",
                    "MessageGroupId": "g",
                    "MessageDeduplicationId": f"d{i}",
                }
                for i in range(3)
            ],
        },
    ),
    ("sqs", "ReceiveMessage", {"QueueUrl": "http://h/1/q", "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}),
    ("sqs", "DeleteMessageBatch", {"QueueUrl": "u", "Entries": [{"Id": "0", "ReceiptHandle": "r+/="}]}),
    ("sqs", "GetQueueAttributes", {"QueueUrl": "u", "AttributeNames": ["QueueArn"]}),
    ("sns", "CreateTopic", {"Name": "t"}),
    (
        "sns",
        "Subscribe",
        {
            "TopicArn": "arn:aws:sns:us-east-1:0:t",
            "Protocol": "sqs",
            "Endpoint": "arn:aws:sqs:us-east-1:0:q",
            "Attributes": {"RawMessageDelivery": "true"},
            "ReturnSubscriptionArn": True,
        },
    ),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:0:t", "Message": "m"}),
]


def http_request(raw: bytes) -> HttpRequest:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")[1:]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return HttpRequest("POST", "/", "", headers, body)


ENDPOINT = Endpoint.parse("http://localhost:4566")


@pytest.mark.parametrize(("service", "action", "params"), [c for c in CASES if c[0] == "sqs"])
def test_sqs_query_decodes_like_json(service: str, action: str, params: dict[str, Any]) -> None:
    """Shoal's Query codec reads the bench's Query request as its JSON codec reads the JSON one."""
    query = sqs_query.CODEC.decode(http_request(QuerySigner(ENDPOINT, "r", "k").request(action, params)), CTX)
    json = sqs_json.CODEC.decode(http_request(Signer(ENDPOINT, "r", "k").request(action, params)), CTX)
    assert (query.action, query.request) == (json.action, json.request)


@pytest.mark.parametrize(("service", "action", "params"), [c for c in CASES if c[0] == "sns"])
def test_sns_flatten_matches_botocore(service: str, action: str, params: dict[str, Any]) -> None:
    assert set(flatten(service, action, params)) == botocore_pairs(service, action, params)


def test_request_bytes_are_form_encoded() -> None:
    raw = QuerySigner(Endpoint.parse("http://h:1"), "eu-west-1", "key", "sns").request(
        "Publish", {"TopicArn": "t", "Message": "a b&c"}
    )
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Credential=key/" in head and b"/eu-west-1/sns/aws4_request" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert parse_qsl(body.decode()) == [
        ("Action", "Publish"),
        ("Version", "2010-03-31"),
        ("TopicArn", "t"),
        ("Message", "a b&c"),
    ]


def shoal_xml(action: str, result: object) -> bytes:
    return sqs_query.CODEC.encode_result(Call("sqs", action, None, CTX), result).body


def test_receive_message_result() -> None:
    messages = [
        api.Message(message_id=f"m{i}", receipt_handle=f"r{i}&<>", body=f"<b{i}>&amp;", md5_of_body="x")
        for i in range(3)
    ]
    parsed = parse_result(
        "ReceiveMessage", shoal_xml("ReceiveMessage", api.ReceiveMessageResult(messages=messages))
    )
    assert [(m["MessageId"], m["ReceiptHandle"], m["Body"]) for m in parsed["Messages"]] == [
        (f"m{i}", f"r{i}&<>", f"<b{i}>&amp;") for i in range(3)
    ]
    assert parse_result("ReceiveMessage", shoal_xml("ReceiveMessage", api.ReceiveMessageResult())) == {}


def test_batch_results() -> None:
    result = api.SendMessageBatchResult(
        successful=[api.SendMessageBatchResultEntry(id="0", message_id="m0", md5_of_message_body="x")],
        failed=[api.BatchResultErrorEntry(id="1", sender_fault=True, code="InvalidParameterValue")],
    )
    parsed = parse_result("SendMessageBatch", shoal_xml("SendMessageBatch", result))
    assert [e["MessageId"] for e in parsed["Successful"]] == ["m0"]
    assert [(e["Id"], e["Code"]) for e in parsed["Failed"]] == [("1", "InvalidParameterValue")]


def test_scalars_and_attribute_maps() -> None:
    url = parse_result(
        "CreateQueue", shoal_xml("CreateQueue", api.CreateQueueResult(queue_url="http://h/0/q"))
    )
    assert url == {"QueueUrl": "http://h/0/q"}
    attrs = api.GetQueueAttributesResult(attributes={"QueueArn": "arn:q", "DelaySeconds": "0"})
    parsed = parse_result("GetQueueAttributes", shoal_xml("GetQueueAttributes", attrs))
    assert parsed == {"Attributes": {"QueueArn": "arn:q", "DelaySeconds": "0"}}


def test_errors() -> None:
    body = (
        b'<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
        b"<Error><Type>Sender</Type><Code>InvalidAction</Code><Message>no</Message></Error></ErrorResponse>"
    )
    response = Response(400, {}, body, True)
    assert query_error_code(response) == "InvalidAction"
    assert query_error_code(Response(503, {}, b"busy", True)) == "HTTP 503"
    signer = QuerySigner(Endpoint.parse("http://h"), "r", "k")
    with pytest.raises(SqsError) as caught:
        signer.decode("Publish", response)
    assert caught.value.code == "InvalidAction"
    with pytest.raises(SqsError):
        parse_result("SendMessage", b"<not xml")
