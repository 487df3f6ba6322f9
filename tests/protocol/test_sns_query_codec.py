"""The SNS Query codec against botocore's own Query serializer and parser on SNS's model.

botocore is the reference: requests it serializes (wrapped lists
``Tags.member.1.Key``, maps ``Attributes.entry.1.key`` and
``MessageAttributes.entry.1.Name``) must decode to the typed request, and
results we encode must parse back to the same values.  Every SNS error class
has a code botocore's SNS model declares (or AWS's common ValidationError).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import botocore.loaders
import pytest
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from broker import errors
from broker.context import RequestContext
from broker.sns import api
from protocol import router, sns_query
from protocol.wire import Call, HttpRequest

CTX = RequestContext(request_id="req-1", host="localhost:4566")
MODEL = ServiceModel(botocore.loaders.Loader().load_service_model("sns", "service-2"), "sns")
FORM = {"content-type": "application/x-www-form-urlencoded"}


def serialize(action: str, params: dict[str, Any]) -> HttpRequest:
    request = create_serializer("query").serialize_to_request(params, MODEL.operation_model(action))
    body = request["body"]
    raw = urlencode(body).encode() if isinstance(body, dict) else body
    return HttpRequest("POST", "/", "", FORM, raw)


REQUESTS = [
    (
        "CreateTopic",
        {"Name": "t", "Attributes": {"DisplayName": "d"}, "Tags": [{"Key": "k", "Value": "v"}]},
        api.CreateTopic(name="t", attributes={"DisplayName": "d"}, tags=[api.Tag(key="k", value="v")]),
    ),
    (
        "Publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
            "Message": "m",
            "MessageAttributes": {
                "a": {"DataType": "String", "StringValue": "v"},
                "b": {"DataType": "Binary", "BinaryValue": b"\x00"},
            },
        },
        api.Publish(
            topic_arn="arn:aws:sns:us-east-1:000000000000:t",
            message="m",
            message_attributes={
                "a": api.MessageAttributeValue(data_type="String", string_value="v"),
                "b": api.MessageAttributeValue(data_type="Binary", binary_value=b"\x00"),
            },
        ),
    ),
    (
        "PublishBatch",
        {
            "TopicArn": "arn",
            "PublishBatchRequestEntries": [{"Id": "1", "Message": "a"}, {"Id": "2", "Message": "b"}],
        },
        api.PublishBatch(
            topic_arn="arn",
            publish_batch_request_entries=[
                api.PublishBatchRequestEntry(id="1", message="a"),
                api.PublishBatchRequestEntry(id="2", message="b"),
            ],
        ),
    ),
    (
        "AddPermission",
        {"TopicArn": "arn", "Label": "l", "AWSAccountId": ["111111111111"], "ActionName": ["Publish"]},
        api.AddPermission(
            topic_arn="arn", label="l", aws_account_id=["111111111111"], action_name=["Publish"]
        ),
    ),
    (
        "Subscribe",
        {"TopicArn": "arn", "Protocol": "sqs", "Endpoint": "e", "ReturnSubscriptionArn": True},
        api.Subscribe(topic_arn="arn", protocol="sqs", endpoint="e", return_subscription_arn=True),
    ),
]


@pytest.mark.parametrize(("action", "params", "expected"), REQUESTS)
def test_botocore_requests_decode(action: str, params: dict[str, Any], expected: object) -> None:
    http = serialize(action, params)
    assert router.codec_for(http) is sns_query.CODEC
    call = sns_query.CODEC.decode(http, CTX)
    assert (call.service, call.action, call.request) == ("sns", action, expected)


RESULTS = [
    (
        "GetTopicAttributes",
        api.GetTopicAttributesResponse(attributes={"A": "1", "B": "<&>"}),
        {"Attributes": {"A": "1", "B": "<&>"}},
    ),
    (
        "ListTopics",
        api.ListTopicsResponse(topics=[api.Topic(topic_arn="a"), api.Topic(topic_arn="b")], next_token="n"),
        {"Topics": [{"TopicArn": "a"}, {"TopicArn": "b"}], "NextToken": "n"},
    ),
    ("ListTopics", api.ListTopicsResponse(topics=[]), {"Topics": []}),
    (
        "PublishBatch",
        api.PublishBatchResponse(
            successful=[api.PublishBatchResultEntry(id="1", message_id="m")],
            failed=[
                api.BatchResultErrorEntry(id="2", code="InvalidParameter", message="x", sender_fault=True)
            ],
        ),
        {
            "Successful": [{"Id": "1", "MessageId": "m"}],
            "Failed": [{"Id": "2", "Code": "InvalidParameter", "Message": "x", "SenderFault": True}],
        },
    ),
    ("TagResource", api.TagResourceResponse(), {}),
]


@pytest.mark.parametrize(("action", "result", "expected"), RESULTS)
def test_results_parse_with_botocore(action: str, result: object, expected: dict[str, Any]) -> None:
    reply = sns_query.CODEC.encode_result(Call("sns", action, None, CTX), result)
    response = {"status_code": reply.status, "headers": dict(reply.headers), "body": reply.body}
    parsed = create_parser("query").parse(response, MODEL.operation_model(action).output_shape)
    parsed.pop("ResponseMetadata")
    assert parsed == expected


def test_errors_render_as_sns_error_response() -> None:
    reply = sns_query.CODEC.encode_error(errors.NotFound("Topic does not exist"), CTX)
    assert reply.status == 404
    assert b'xmlns="http://sns.amazonaws.com/doc/2010-03-31/"' in reply.body
    response = {"status_code": reply.status, "headers": dict(reply.headers), "body": reply.body}
    parsed = create_parser("query").parse(response, None)
    assert parsed["Error"]["Code"] == "NotFound" and parsed["Error"]["Message"] == "Topic does not exist"


def test_missing_member_is_validation_error() -> None:
    http = HttpRequest("POST", "/", "", FORM, b"Action=Publish&TopicArn=arn")
    with pytest.raises(errors.SnsValidationError) as raised:
        sns_query.CODEC.decode(http, CTX)
    assert raised.value.message == (
        "1 validation error detected: Value null at 'message' failed to satisfy constraint: "
        "Member must not be null"
    )


SNS_ERRORS = [
    cls
    for cls in errors.all_errors()
    if cls.__name__.startswith("Sns")
    or cls
    in (
        errors.NotFound,
        errors.AuthorizationError,
        errors.InvalidParameter,
        errors.TopicLimitExceeded,
        errors.SubscriptionLimitExceeded,
        errors.FilterPolicyLimitExceeded,
        errors.TagLimitExceeded,
        errors.TagPolicy,
        errors.InvalidState,
    )
]


@pytest.mark.parametrize("error", SNS_ERRORS, ids=lambda cls: cls.__name__)
def test_sns_error_codes_are_botocores(error: type[errors.ShoalError]) -> None:
    declared = {
        shape.error_code: shape.metadata.get("error", {}).get("httpStatusCode")
        for shape in (MODEL.shape_for(name) for name in MODEL.shape_names)
        if shape.metadata.get("exception")
    }
    if error.query_code == "ValidationError":
        return  # AWS's common error, not in the service model
    assert error.query_code in declared
    assert error.status == declared[error.query_code]
