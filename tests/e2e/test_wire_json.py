"""AWS JSON 1.0 on the wire: result shapes, __type and x-amzn-query-error on errors, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from e2e_support import md5_of_body

JSON_CT = "application/x-amz-json-1.0"


def check_error(
    response: Any, status: int, query_code: str, type_suffix: str | None = None
) -> dict[str, Any]:
    assert response.status == status, response.body
    assert response.headers["content-type"] == JSON_CT
    assert response.headers["x-amzn-query-error"] == f"{query_code};Sender"
    assert response.headers["x-amzn-requestid"]
    body = response.json()
    assert "#" in body["__type"]
    if type_suffix is not None:
        assert body["__type"].endswith(f"#{type_suffix}"), body
    assert body["message"]
    return dict(body)


@pytest.fixture
def queue_url(raw_http: Any, queue_name: Callable[..., str]) -> str:
    response = raw_http.sqs_json("CreateQueue", {"QueueName": queue_name()})
    assert response.status == 200, response.body
    return str(response.json()["QueueUrl"])


def test_success_shape(raw_http: Any, queue_url: str) -> None:
    response = raw_http.sqs_json("SendMessage", {"QueueUrl": queue_url, "MessageBody": "json"})
    assert response.status == 200
    assert response.headers["content-type"] == JSON_CT
    assert response.headers["x-amzn-requestid"]
    assert "x-amzn-query-error" not in response.headers
    body = response.json()
    assert set(body) == {"MD5OfMessageBody", "MessageId"}
    assert body["MD5OfMessageBody"] == md5_of_body("json")
    # an action without output answers an empty object
    response = raw_http.sqs_json(
        "SetQueueAttributes", {"QueueUrl": queue_url, "Attributes": {"DelaySeconds": "0"}}
    )
    assert response.status == 200
    assert response.json() == {}
    response = raw_http.sqs_json("ReceiveMessage", {"QueueUrl": queue_url, "VisibilityTimeout": 60})
    assert [m["Body"] for m in response.json()["Messages"]] == ["json"]
    # an empty receive is an empty object, without Messages
    response = raw_http.sqs_json("ReceiveMessage", {"QueueUrl": queue_url})
    assert response.status == 200
    assert response.json() == {}


def test_binary_attributes_are_base64(raw_http: Any, queue_url: str) -> None:
    attrs = {"raw": {"DataType": "Binary", "BinaryValue": "AAH/"}}
    response = raw_http.sqs_json(
        "SendMessage", {"QueueUrl": queue_url, "MessageBody": "b", "MessageAttributes": attrs}
    )
    assert response.status == 200, response.body
    response = raw_http.sqs_json("ReceiveMessage", {"QueueUrl": queue_url, "MessageAttributeNames": ["All"]})
    [message] = response.json()["Messages"]
    assert message["MessageAttributes"] == attrs


def test_queue_does_not_exist(raw_http: Any) -> None:
    response = raw_http.sqs_json("GetQueueUrl", {"QueueName": "e2e-never-created"})
    check_error(response, 400, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    assert response.json()["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"


def test_malformed_json_body(raw_http: Any) -> None:
    for body in ("{bad", "[1, 2]", '"string"', "\xff\xfe"):
        response = raw_http.request(
            "POST",
            "/",
            body.encode("latin-1"),
            {"Content-Type": JSON_CT, "X-Amz-Target": "AmazonSQS.ListQueues"},
        )
        check_error(response, 400, "SerializationException", "SerializationException")


def test_unknown_target(raw_http: Any) -> None:
    response = raw_http.sqs_json("NoSuchOperation", {})
    check_error(response, 400, "UnknownOperationException", "UnknownOperationException")
    response = raw_http.request(
        "POST", "/", "{}", {"Content-Type": JSON_CT, "X-Amz-Target": "NotSqs.ListQueues"}
    )
    assert 400 <= response.status < 500


def test_wrong_typed_member(raw_http: Any, queue_url: str) -> None:
    check_error(raw_http.sqs_json("CreateQueue", {"QueueName": 5}), 400, "SerializationException")
    response = raw_http.sqs_json("ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": "ten"})
    check_error(response, 400, "SerializationException")
    response = raw_http.sqs_json("CreateQueue", {"QueueName": "x", "Attributes": ["not", "a", "map"]})
    check_error(response, 400, "SerializationException")


def test_missing_required_member(raw_http: Any, queue_url: str) -> None:
    check_error(raw_http.sqs_json("CreateQueue", {}), 400, "MissingParameter")
    check_error(raw_http.sqs_json("SendMessage", {"QueueUrl": queue_url}), 400, "MissingParameter")


def test_out_of_range_values(raw_http: Any, queue_url: str) -> None:
    response = raw_http.sqs_json("ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 0})
    body = check_error(response, 400, "InvalidParameterValue")
    assert "between 1 and 10" in body["message"]
    response = raw_http.sqs_json(
        "SetQueueAttributes", {"QueueUrl": queue_url, "Attributes": {"DelaySeconds": "901"}}
    )
    check_error(response, 400, "InvalidAttributeValue")


def test_unknown_members_are_ignored(raw_http: Any, queue_url: str) -> None:
    response = raw_http.sqs_json(
        "SendMessage", {"QueueUrl": queue_url, "MessageBody": "x", "FutureMember": 1}
    )
    assert response.status == 200, response.body


def test_batch_errors_carry_query_codes(raw_http: Any, queue_url: str) -> None:
    entries = [{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}]
    response = raw_http.sqs_json("SendMessageBatch", {"QueueUrl": queue_url, "Entries": entries})
    check_error(response, 400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct")
    response = raw_http.sqs_json("SendMessageBatch", {"QueueUrl": queue_url, "Entries": []})
    check_error(response, 400, "AWS.SimpleQueueService.EmptyBatchRequest", "EmptyBatchRequest")


def test_json_error_with_a_non_400_status(raw_http: Any) -> None:
    response = raw_http.sqs_json(
        "StartMessageMoveTask", {"SourceArn": "arn:aws:sqs:us-east-1:000000000000:e2e-none"}
    )
    assert response.status == 404
    assert response.headers["x-amzn-query-error"] == "ResourceNotFoundException;Sender"
    assert response.json()["__type"] == "com.amazonaws.sqs#ResourceNotFoundException"


def test_both_protocols_see_the_same_queue(raw_http: Any, queue_url: str) -> None:
    response = raw_http.sqs_json(
        "SendMessage", {"QueueUrl": queue_url, "MessageBody": json.dumps({"k": [1, 2]})}
    )
    assert response.status == 200
    response = raw_http.sqs_query("ReceiveMessage", {"QueueUrl": queue_url})
    assert response.status == 200
    assert b"{&quot;k&quot;: [1, 2]}" in response.body or b'{"k": [1, 2]}' in response.body
