"""Data cases: hand-written Query forms with AWS's wire names, and the error replies."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqs_reference import CTX, parse_error

from broker import errors
from broker.sqs import api
from protocol import sqs_json, sqs_query
from protocol.wire import HttpRequest

FORM = {"content-type": "application/x-www-form-urlencoded"}

QUERY_CASES: list[tuple[str, object]] = [
    (
        "Action=SendMessage&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Fq&MessageBody=a%0D%0Ab"
        "&DelaySeconds=5&MessageAttribute.1.Name=n&MessageAttribute.1.Value.DataType=Number"
        "&MessageAttribute.1.Value.StringValue=1.5&MessageAttribute.2.Name=b"
        "&MessageAttribute.2.Value.DataType=Binary&MessageAttribute.2.Value.BinaryValue=AAE%3D"
        "&MessageSystemAttribute.1.Name=AWSTraceHeader&MessageSystemAttribute.1.Value.DataType=String"
        "&MessageSystemAttribute.1.Value.StringValue=Root%3D1",
        api.SendMessage(
            queue_url="http://h/000000000000/q",
            message_body="a\r\nb",
            delay_seconds=5,
            message_attributes={
                "n": api.MessageAttributeValue(data_type="Number", string_value="1.5"),
                "b": api.MessageAttributeValue(data_type="Binary", binary_value=b"\x00\x01"),
            },
            message_system_attributes={
                "AWSTraceHeader": api.MessageSystemAttributeValue(data_type="String", string_value="Root=1")
            },
        ),
    ),
    (
        "Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All&MessageAttributeName.1=x"
        "&MessageAttributeName.2=y&MessageSystemAttributeName.1=SenderId&MaxNumberOfMessages=10"
        "&WaitTimeSeconds=0",
        api.ReceiveMessage(
            queue_url="u",
            attribute_names=["All"],
            message_attribute_names=["x", "y"],
            message_system_attribute_names=["SenderId"],
            max_number_of_messages=10,
            wait_time_seconds=0,
        ),
    ),
    (
        "Action=DeleteMessageBatch&QueueUrl=u&DeleteMessageBatchRequestEntry.2.Id=b"
        "&DeleteMessageBatchRequestEntry.2.ReceiptHandle=r2&DeleteMessageBatchRequestEntry.1.Id=a"
        "&DeleteMessageBatchRequestEntry.1.ReceiptHandle=r1",
        api.DeleteMessageBatch(
            queue_url="u",
            entries=[
                api.DeleteMessageBatchRequestEntry(id="a", receipt_handle="r1"),
                api.DeleteMessageBatchRequestEntry(id="b", receipt_handle="r2"),
            ],
        ),
    ),
    (
        "Action=CreateQueue&QueueName=q.fifo&Attribute.1.Name=FifoQueue&Attribute.1.Value=true"
        "&Tag.1.Key=team&Tag.1.Value=core",
        api.CreateQueue(queue_name="q.fifo", attributes={"FifoQueue": "true"}, tags={"team": "core"}),
    ),
    (
        "Action=AddPermission&QueueUrl=u&Label=l&AWSAccountId.1=111111111111&ActionName.1=SendMessage",
        api.AddPermission(
            queue_url="u", label="l", aws_account_ids=["111111111111"], actions=["SendMessage"]
        ),
    ),
    (
        "Action=UntagQueue&QueueUrl=u&TagKey.1=a&TagKey.2=b",
        api.UntagQueue(queue_url="u", tag_keys=["a", "b"]),
    ),
    (
        "Action=GetQueueAttributes&QueueUrl=u&AttributeName.1=",
        api.GetQueueAttributes(queue_url="u", attribute_names=[""]),
    ),
    ("Action=ListQueues&Version=2012-11-05&Unknown=1", api.ListQueues()),
]


@pytest.mark.parametrize(("form", "expected"), QUERY_CASES)
def test_query_forms(form: str, expected: object) -> None:
    post = HttpRequest("POST", "/", "", FORM, form.encode())
    assert sqs_query.CODEC.decode(post, CTX).request == expected
    get = HttpRequest("GET", "/", form, {}, b"")
    assert sqs_query.CODEC.decode(get, CTX).request == expected


def test_query_string_and_body_combine() -> None:
    http = HttpRequest("POST", "/", "Action=DeleteQueue", FORM, b"QueueUrl=u")
    assert sqs_query.CODEC.decode(http, CTX).request == api.DeleteQueue(queue_url="u")


def test_queue_url_from_path() -> None:
    http = HttpRequest("POST", "/123456789012/jobs", "", FORM, b"Action=PurgeQueue")
    request = sqs_query.CODEC.decode(http, CTX).request
    assert request == api.PurgeQueue(queue_url="http://localhost:4566/123456789012/jobs")
    explicit = HttpRequest("POST", "/123456789012/jobs", "", FORM, b"Action=PurgeQueue&QueueUrl=x")
    assert sqs_query.CODEC.decode(explicit, CTX).request == api.PurgeQueue(queue_url="x")


ERROR_CASES: list[tuple[str, bytes, type[errors.ShoalError], str]] = [
    (
        "",
        b"Version=2012-11-05",
        errors.MissingAction,
        "The request is missing an action or a required parameter.",
    ),
    ("", b"Action=Frobnicate", errors.InvalidAction, "The action Frobnicate is not valid for this endpoint."),
    (
        "",
        b"Action=SendMessage&MessageBody=x",
        errors.MissingParameter,
        "The request must contain the parameter QueueUrl.",
    ),
    (
        "",
        b"Action=SendMessage&QueueUrl=u&MessageBody=x&DelaySeconds=ten",
        errors.InvalidParameterValue,
        "Value ten for parameter DelaySeconds is invalid. Reason: Must be an integer.",
    ),
    (
        "",
        b"Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.1.Id=a",
        errors.MissingParameter,
        "The request must contain the parameter Entries.1.MessageBody.",
    ),
    (
        "",
        b"Action=CreateQueue&QueueName=q&Attribute.1.Value=1",
        errors.MissingParameter,
        "The request must contain the parameter Attribute.1.Name.",
    ),
    (
        "",
        b"Action=SendMessage&QueueUrl=u&MessageBody=%FF",
        errors.MalformedQueryString,
        "The query string contains a syntax error.",
    ),
]


@pytest.mark.parametrize(("query", "body", "error", "message"), ERROR_CASES)
def test_query_errors(query: str, body: bytes, error: type[errors.ShoalError], message: str) -> None:
    with pytest.raises(error) as raised:
        sqs_query.CODEC.decode(HttpRequest("POST", "/", query, FORM, body), CTX)
    assert raised.value.message == message


def _json(action: str, body: bytes) -> HttpRequest:
    headers = {"x-amz-target": f"AmazonSQS.{action}", "content-type": "application/x-amz-json-1.0"}
    return HttpRequest("POST", "/", "", headers, body)


JSON_ERRORS: list[tuple[str, bytes, type[errors.ShoalError], str]] = [
    ("Frobnicate", b"{}", errors.UnknownOperationException, errors.UnknownOperationException.default_message),
    (
        "SendMessage",
        b"{not json",
        errors.SerializationException,
        errors.SerializationException.default_message,
    ),
    ("SendMessage", b"", errors.SerializationException, errors.SerializationException.default_message),
    ("SendMessage", b"[]", errors.SerializationException, "Start of structure or map expected."),
    (
        "SendMessage",
        b'{"QueueUrl": "u"}',
        errors.MissingParameter,
        "The request must contain the parameter MessageBody.",
    ),
    (
        "SendMessage",
        b'{"QueueUrl": "u", "MessageBody": "x", "DelaySeconds": "5"}',
        errors.SerializationException,
        "STRING_VALUE can not be converted to an Integer",
    ),
    (
        "SendMessage",
        b'{"QueueUrl": 5, "MessageBody": "x"}',
        errors.SerializationException,
        "NUMBER_VALUE can not be converted to a String",
    ),
    (
        "SendMessage",
        b'{"QueueUrl": {}, "MessageBody": "x"}',
        errors.SerializationException,
        "Start of structure or map found where not expected.",
    ),
    (
        "ReceiveMessage",
        b'{"QueueUrl": "u", "AttributeNames": "All"}',
        errors.SerializationException,
        "STRING_VALUE can not be converted to a List",
    ),
    (
        "SendMessage",
        b'{"QueueUrl": "u", "MessageBody": "x", "MessageAttributes": '
        b'{"a": {"DataType": "Binary", "BinaryValue": "!!"}}}',
        errors.SerializationException,
        "Base64 encoded value expected",
    ),
    (
        "DeleteMessageBatch",
        b'{"QueueUrl": "u", "Entries": [{"Id": "a"}]}',
        errors.MissingParameter,
        "The request must contain the parameter Entries.1.ReceiptHandle.",
    ),
]


@pytest.mark.parametrize(("action", "body", "error", "message"), JSON_ERRORS)
def test_json_errors(action: str, body: bytes, error: type[errors.ShoalError], message: str) -> None:
    with pytest.raises(error) as raised:
        sqs_json.CODEC.decode(_json(action, body), CTX)
    assert raised.value.message == message


def test_json_ignores_unknown_members_and_nulls() -> None:
    body = b'{"QueueUrl": "u", "MessageBody": "x", "Nope": [1], "DelaySeconds": null}'
    request = sqs_json.CODEC.decode(_json("SendMessage", body), CTX).request
    assert request == api.SendMessage(queue_url="u", message_body="x")


REPLY_CASES: list[tuple[errors.ShoalError, int, str, str]] = [
    (
        errors.QueueDoesNotExist(),
        400,
        "com.amazonaws.sqs#QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue;Sender",
    ),
    (
        errors.MissingParameter("m"),
        400,
        "com.amazon.coral.service#MissingRequiredParameterException",
        "MissingParameter;Sender",
    ),
    (
        errors.InvalidParameterValue("m"),
        400,
        "com.amazon.coral.service#InvalidParameterValueException",
        "InvalidParameterValue;Sender",
    ),
    (
        errors.PurgeQueueInProgress(),
        403,
        "com.amazonaws.sqs#PurgeQueueInProgress",
        "AWS.SimpleQueueService.PurgeQueueInProgress;Sender",
    ),
    (errors.InternalFailure(), 500, "com.amazon.coral.service#InternalFailure", "InternalFailure;Receiver"),
    (
        errors.UnknownOperationException(),
        400,
        "com.amazon.coral.service#UnknownOperationException",
        "UnknownOperationException;Sender",
    ),
]


@pytest.mark.parametrize(("error", "status", "json_type", "query_header"), REPLY_CASES)
def test_error_replies(error: errors.ShoalError, status: int, json_type: str, query_header: str) -> None:
    reply = sqs_json.CODEC.encode_error(error, CTX)
    assert reply.status == status
    assert reply.headers == [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("x-amzn-RequestId", "req-1"),
        ("x-amzn-query-error", query_header),
    ]
    assert orjson.loads(reply.body) == {"__type": json_type, "message": error.message}
    parsed: dict[str, Any] = parse_error("json", "SendMessage", reply)
    assert parsed["Error"]["Code"] == error.query_code  # botocore reads the query-compatible header

    xml = sqs_query.CODEC.encode_error(error, CTX)
    assert xml.status == status
    assert xml.body.decode() == (
        '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>'
        f"<Type>{error.fault}</Type><Code>{error.query_code}</Code><Message>{error.message}</Message>"
        "<Detail/></Error><RequestId>req-1</RequestId></ErrorResponse>"
    )
    parsed = parse_error("query", "SendMessage", xml)
    assert parsed["Error"]["Code"] == error.query_code
    assert parsed["Error"]["Message"] == error.message
