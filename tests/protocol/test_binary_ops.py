"""Binary protocol operations: params <-> typed requests and results, errors by code."""

from __future__ import annotations

import pytest

from broker import errors
from broker.sqs import api
from protocol.binary_ops import (
    bind_request,
    bind_result,
    error_class,
    error_from,
    find_operation,
    operation_of,
    render_request,
    render_result,
)
from protocol.shapes import operations


def test_every_sqs_operation_is_reachable() -> None:
    for name in operations():
        assert find_operation("sqs", name).name == name


@pytest.mark.parametrize(("service", "name"), [("sqs", "Nope"), ("nope", "SendMessage"), ("sqs", "")])
def test_unknown_operation(service: str, name: str) -> None:
    with pytest.raises(errors.UnknownOperationException):
        find_operation(service, name)


def test_binary_attribute_is_msgpack_bin() -> None:
    op = find_operation("sqs", "SendMessage")
    params = {
        "QueueUrl": "u",
        "MessageBody": "b",
        "DelaySeconds": 3,
        "MessageAttributes": {"k": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}},
    }
    request = bind_request(op, params)
    assert request == api.SendMessage(
        queue_url="u",
        message_body="b",
        delay_seconds=3,
        message_attributes={"k": api.MessageAttributeValue(data_type="Binary", binary_value=b"\x00\xff")},
    )
    assert render_request(op, request) == params
    assert operation_of(request) == ("sqs", op)


@pytest.mark.parametrize(
    ("params", "error", "fragment"),
    [
        ({"QueueUrl": "u"}, errors.MissingParameter, "MessageBody"),
        ({"QueueUrl": "u", "MessageBody": b"bytes"}, errors.SerializationException, "got msgpack bin"),
        ({"QueueUrl": "u", "MessageBody": "b", "DelaySeconds": "3"}, errors.SerializationException, "str"),
        ({"QueueUrl": "u", "MessageBody": "b", "DelaySeconds": True}, errors.SerializationException, "bool"),
        (
            {
                "QueueUrl": "u",
                "MessageBody": "b",
                "MessageAttributes": {"k": {"DataType": "Binary", "BinaryValue": "AAE="}},
            },
            errors.SerializationException,
            "MessageAttributes.k.BinaryValue",
        ),
    ],
)
def test_bad_params_raise_the_codecs_errors(params: dict[str, object], error: type, fragment: str) -> None:
    with pytest.raises(error) as raised:
        bind_request(find_operation("sqs", "SendMessage"), params)
    assert fragment in str(raised.value)


def test_unknown_members_are_ignored() -> None:
    op = find_operation("sqs", "GetQueueUrl")
    assert bind_request(op, {"QueueName": "q", "Extra": [1]}) == api.GetQueueUrl(queue_name="q")


def test_result_round_trip() -> None:
    op = find_operation("sqs", "ReceiveMessage")
    result = api.ReceiveMessageResult(
        messages=[
            api.Message(
                message_id="m",
                receipt_handle="r",
                md5_of_body="x",
                body="hello",
                attributes={"SentTimestamp": "1"},
                message_attributes={"b": api.MessageAttributeValue(data_type="Binary", binary_value=b"\x01")},
            )
        ]
    )
    wire = render_result(op, result)
    assert wire["Messages"][0]["MessageAttributes"]["b"] == {"BinaryValue": b"\x01", "DataType": "Binary"}
    assert "MD5OfMessageAttributes" not in wire["Messages"][0]  # None is omitted
    assert bind_result(op, wire) == result


def test_operations_without_output_answer_an_empty_map() -> None:
    op = find_operation("sqs", "DeleteQueue")
    assert render_result(op, None) == {}
    assert bind_result(op, {}) is None


def test_error_classes_by_code() -> None:
    for cls in errors.all_errors():
        assert issubclass(error_class(cls.code), errors.ShoalError)
    assert error_class("QueueDoesNotExist") is errors.QueueDoesNotExist
    error = error_from("QueueDoesNotExist", "gone")
    assert isinstance(error, errors.QueueDoesNotExist) and error.message == "gone"
    odd = error_from("SomethingNew", "hm")
    assert isinstance(odd, errors.ShoalError) and odd.code == "SomethingNew"
    assert error_class("SomethingNew") is type(odd)


def test_typed_request_of_another_class_is_refused() -> None:
    with pytest.raises(TypeError):
        operation_of(api.Message(message_id="m"))
