"""Property tests: arbitrary bodies, attribute maps and binary values round-trip through both codecs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqs_reference import CTX, json_request, parse, query_request, typed

from broker.sqs import api
from protocol import sqs_json, sqs_query
from protocol.shapes import operation
from protocol.wire import Call

# SQS's allowed body characters (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF).
ALLOWED = st.characters(codec="utf-8", exclude_categories=("Cs",)).filter(
    lambda c: c in "\t\n\r" or ("\x20" <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or c >= "\U00010000"
)
TEXT = st.text(ALLOWED, max_size=40)
NAMES = st.text(st.sampled_from("abcXYZ019_-."), min_size=1, max_size=12)
ATTRIBUTE = st.one_of(
    st.builds(lambda s: {"DataType": "String", "StringValue": s}, TEXT),
    st.builds(lambda b: {"DataType": "Binary", "BinaryValue": b}, st.binary(max_size=24)),
)
ATTRIBUTES = st.dictionaries(NAMES, ATTRIBUTE, max_size=4)
FAST = settings(max_examples=60, deadline=None)


def _send_params(body: str, attributes: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"QueueUrl": "http://localhost:4566/000000000000/q", "MessageBody": body}
    if attributes:
        params["MessageAttributes"] = attributes
    return params


@FAST
@given(TEXT, ATTRIBUTES)
def test_send_message_decodes(body: str, attributes: dict[str, Any]) -> None:
    params = _send_params(body, attributes)
    expected = typed(operation("SendMessage").input, params)  # type: ignore[union-attr]
    assert sqs_json.CODEC.decode(json_request("SendMessage", params), CTX).request == expected
    assert sqs_query.CODEC.decode(query_request("SendMessage", params), CTX).request == expected


@FAST
@given(st.lists(st.tuples(TEXT, ATTRIBUTES, st.dictionaries(NAMES, TEXT, max_size=3)), max_size=3))
def test_receive_result_parses_back(messages: list[tuple[str, dict[str, Any], dict[str, str]]]) -> None:
    expected: dict[str, Any] = {}
    if messages:
        expected["Messages"] = []
        for index, (body, attributes, system) in enumerate(messages):
            message: dict[str, Any] = {"MessageId": f"m{index}", "ReceiptHandle": "r", "Body": body}
            if system:
                message["Attributes"] = system
            if attributes:
                message["MessageAttributes"] = attributes
            expected["Messages"].append(message)
    result = typed(operation("ReceiveMessage").output, expected)  # type: ignore[union-attr]
    call = Call("sqs", "ReceiveMessage", None, CTX)
    for protocol, codec in (("json", sqs_json.CODEC), ("query", sqs_query.CODEC)):
        assert parse(protocol, "ReceiveMessage", codec.encode_result(call, result)) == expected


def test_empty_receive_result() -> None:
    call = Call("sqs", "ReceiveMessage", None, CTX)
    reply = sqs_query.CODEC.encode_result(call, api.ReceiveMessageResult())
    assert b"<ReceiveMessageResult/>" in reply.body
    assert sqs_json.CODEC.encode_result(call, api.ReceiveMessageResult()).body == b"{}"
