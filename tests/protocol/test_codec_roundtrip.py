"""Every SQS action, both codecs, both directions, against botocore's serializers and parsers."""

from __future__ import annotations

import pytest
from sqs_reference import CTX, json_model, json_request, parse, plain, query_request, sample, typed

from protocol import sqs_json, sqs_query
from protocol.wire import Call

ACTIONS = sorted(json_model().operation_names)
WITH_OUTPUT = [a for a in ACTIONS if json_model().operation_model(a).output_shape is not None]


@pytest.mark.parametrize("action", ACTIONS)
def test_json_decodes_every_member(action: str) -> None:
    shape = json_model().operation_model(action).input_shape
    params = sample(shape)
    call = sqs_json.CODEC.decode(json_request(action, params), CTX)
    assert (call.service, call.action) == ("sqs", action)
    assert call.request == typed(shape, params)


@pytest.mark.parametrize("action", ACTIONS)
def test_query_decodes_every_member(action: str) -> None:
    shape = json_model().operation_model(action).input_shape
    params = sample(shape, seed=3)
    call = sqs_query.CODEC.decode(query_request(action, params), CTX)
    assert call.action == action
    assert call.request == typed(shape, params)


@pytest.mark.parametrize("protocol", ["json", "query"])
@pytest.mark.parametrize("action", WITH_OUTPUT)
def test_results_parse_back(protocol: str, action: str) -> None:
    shape = json_model().operation_model(action).output_shape
    expected = sample(shape, seed=5)
    codec = sqs_json.CODEC if protocol == "json" else sqs_query.CODEC
    reply = codec.encode_result(Call("sqs", action, None, CTX), typed(shape, expected))
    assert reply.status == 200
    assert parse(protocol, action, reply) == expected


@pytest.mark.parametrize("protocol", ["json", "query"])
@pytest.mark.parametrize("action", ["DeleteMessage", "SendMessage", "ListQueues"])
def test_empty_results(protocol: str, action: str) -> None:
    codec = sqs_json.CODEC if protocol == "json" else sqs_query.CODEC
    reply = codec.encode_result(Call("sqs", action, None, CTX), None)
    assert reply.status == 200
    if protocol == "json":
        assert reply.body == b"{}"
        assert ("Content-Type", "application/x-amz-json-1.0") in reply.headers
    else:
        assert (
            reply.body
            == (
                f'<?xml version="1.0"?><{action}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
                f"<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></{action}Response>"
            ).encode()
        )
        assert ("Content-Type", "text/xml") in reply.headers
    assert ("x-amzn-RequestId", "req-1") in reply.headers


def test_plain_inverts_typed() -> None:
    shape = json_model().operation_model("SendMessageBatch").input_shape
    params = sample(shape)
    assert plain(shape, typed(shape, params)) == params
