"""The Query protocol on the wire: form POSTs, GETs, XML answers and ErrorResponse."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from e2e_support import md5_of_attributes, md5_of_body

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
ACCOUNT = "000000000000"


def q(tag: str) -> str:
    return "/".join(f"{{{NS}}}{part}" for part in tag.split("/"))


def xml(response: Any) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.headers
    return ET.fromstring(response.body)


def check_envelope(response: Any, action: str) -> ET.Element:
    """The success shape: <ActionResponse xmlns=...><ActionResult/>?<ResponseMetadata><RequestId/>."""
    assert response.status == 200, response.body
    root = xml(response)
    assert root.tag == q(f"{action}Response")
    request_id = root.findtext(q("ResponseMetadata/RequestId"))
    assert request_id
    assert response.headers["x-amzn-requestid"] == request_id
    return root


def check_error(response: Any, status: int, code: str, error_type: str = "Sender") -> ET.Element:
    assert response.status == status, response.body
    root = xml(response)
    assert root.tag == q("ErrorResponse")
    error = root.find(q("Error"))
    assert error is not None
    assert error.findtext(q("Type")) == error_type
    assert error.findtext(q("Code")) == code
    assert error.findtext(q("Message"))
    assert root.findtext(q("RequestId"))
    return error


@pytest.fixture
def queue(raw_http: Any, queue_name: Callable[..., str]) -> tuple[str, str]:
    """(name, url) of a new queue, created over Query."""
    name = queue_name()
    root = check_envelope(raw_http.sqs_query("CreateQueue", {"QueueName": name}), "CreateQueue")
    url = root.findtext(q("CreateQueueResult/QueueUrl"))
    assert url == f"{raw_http.server.endpoint}/{ACCOUNT}/{name}"
    return name, url


def test_form_post_to_root_with_queue_url(raw_http: Any, queue: tuple[str, str]) -> None:
    _, url = queue
    root = check_envelope(
        raw_http.sqs_query("SendMessage", {"QueueUrl": url, "MessageBody": "to root"}), "SendMessage"
    )
    assert root.findtext(q("SendMessageResult/MD5OfMessageBody")) == md5_of_body("to root")
    assert root.findtext(q("SendMessageResult/MessageId"))


def test_form_post_to_queue_path_without_queue_url(raw_http: Any, queue: tuple[str, str]) -> None:
    name, _ = queue
    path = f"/{ACCOUNT}/{name}"
    check_envelope(raw_http.sqs_query("SendMessage", {"MessageBody": "to path"}, path=path), "SendMessage")
    root = check_envelope(raw_http.sqs_query("ReceiveMessage", {}, path=path), "ReceiveMessage")
    messages = root.findall(q("ReceiveMessageResult/Message"))
    assert [m.findtext(q("Body")) for m in messages] == ["to path"]
    assert messages[0].findtext(q("MD5OfBody")) == md5_of_body("to path")
    assert messages[0].findtext(q("ReceiptHandle"))


def test_get_with_query_string(raw_http: Any, queue: tuple[str, str]) -> None:
    name, url = queue
    params = urlencode({"Action": "SendMessage", "Version": "2012-11-05", "MessageBody": "by get & co"})
    check_envelope(raw_http.request("GET", f"/{ACCOUNT}/{name}?{params}"), "SendMessage")
    params = urlencode({"Action": "GetQueueUrl", "QueueName": name})
    root = check_envelope(raw_http.request("GET", f"/?{params}"), "GetQueueUrl")
    assert root.findtext(q("GetQueueUrlResult/QueueUrl")) == url
    params = urlencode({"Action": "ReceiveMessage", "QueueUrl": url, "AttributeName.1": "All"})
    root = check_envelope(raw_http.request("GET", f"/?{params}"), "ReceiveMessage")
    [message] = root.findall(q("ReceiveMessageResult/Message"))
    assert message.findtext(q("Body")) == "by get & co"
    names = {a.findtext(q("Name")): a.findtext(q("Value")) for a in message.findall(q("Attribute"))}
    assert names["ApproximateReceiveCount"] == "1"


def test_empty_result_has_no_result_children(raw_http: Any, queue: tuple[str, str]) -> None:
    _, url = queue
    root = check_envelope(raw_http.sqs_query("ReceiveMessage", {"QueueUrl": url}), "ReceiveMessage")
    result = root.find(q("ReceiveMessageResult"))
    assert result is not None
    assert list(result) == []
    root = check_envelope(raw_http.sqs_query("DeleteQueue", {"QueueUrl": url}), "DeleteQueue")
    assert root.find(q("DeleteQueueResult")) is None


def test_flattened_maps_and_lists(raw_http: Any, queue_name: Callable[..., str]) -> None:
    name = queue_name()
    form = {
        "QueueName": name,
        "Attribute.1.Name": "VisibilityTimeout",
        "Attribute.1.Value": "40",
        "Tag.1.Key": "team",
        "Tag.1.Value": "core",
    }
    root = check_envelope(raw_http.sqs_query("CreateQueue", form), "CreateQueue")
    url = root.findtext(q("CreateQueueResult/QueueUrl"))
    root = check_envelope(
        raw_http.sqs_query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "VisibilityTimeout"}),
        "GetQueueAttributes",
    )
    pairs = [(a.findtext(q("Name")), a.findtext(q("Value"))) for a in root.iter(q("Attribute"))]
    assert pairs == [("VisibilityTimeout", "40")]
    root = check_envelope(raw_http.sqs_query("ListQueueTags", {"QueueUrl": url}), "ListQueueTags")
    assert [(t.findtext(q("Key")), t.findtext(q("Value"))) for t in root.iter(q("Tag"))] == [("team", "core")]

    attributes = {
        "color": {"DataType": "String", "StringValue": "blue"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    send = {
        "QueueUrl": url,
        "MessageBody": "with attributes",
        "MessageAttribute.1.Name": "color",
        "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "blue",
        "MessageAttribute.2.Name": "raw",
        "MessageAttribute.2.Value.DataType": "Binary",
        "MessageAttribute.2.Value.BinaryValue": "AAH/",
    }
    root = check_envelope(raw_http.sqs_query("SendMessage", send), "SendMessage")
    assert root.findtext(q("SendMessageResult/MD5OfMessageAttributes")) == md5_of_attributes(attributes)

    batch = {
        "QueueUrl": url,
        "SendMessageBatchRequestEntry.1.Id": "a",
        "SendMessageBatchRequestEntry.1.MessageBody": "one",
        "SendMessageBatchRequestEntry.2.Id": "b",
        "SendMessageBatchRequestEntry.2.MessageBody": "bad\x01",
    }
    root = check_envelope(raw_http.sqs_query("SendMessageBatch", batch), "SendMessageBatch")
    ok = root.findall(q("SendMessageBatchResult/SendMessageBatchResultEntry"))
    assert [e.findtext(q("Id")) for e in ok] == ["a"]
    [failed] = root.findall(q("SendMessageBatchResult/BatchResultErrorEntry"))
    assert failed.findtext(q("Id")) == "b"
    assert failed.findtext(q("SenderFault")) == "true"
    assert failed.findtext(q("Code")) == "InvalidMessageContents"


def test_error_queue_does_not_exist(raw_http: Any) -> None:
    response = raw_http.sqs_query("GetQueueUrl", {"QueueName": "e2e-never-created"})
    check_error(response, 400, "AWS.SimpleQueueService.NonExistentQueue")
    response = raw_http.sqs_query("SendMessage", {"MessageBody": "x"}, path=f"/{ACCOUNT}/e2e-never-created")
    check_error(response, 400, "AWS.SimpleQueueService.NonExistentQueue")


def test_error_invalid_action(raw_http: Any) -> None:
    check_error(raw_http.sqs_query("NoSuchAction", {}), 400, "InvalidAction")


def test_error_missing_parameter(raw_http: Any, queue: tuple[str, str]) -> None:
    _, url = queue
    check_error(raw_http.sqs_query("SendMessage", {"QueueUrl": url}), 400, "MissingParameter")
    check_error(raw_http.sqs_query("CreateQueue", {}), 400, "MissingParameter")
    check_error(raw_http.sqs_query("SendMessage", {"MessageBody": "no queue"}), 400, "MissingParameter")


def test_error_bad_value(raw_http: Any, queue: tuple[str, str]) -> None:
    _, url = queue
    response = raw_http.sqs_query("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "11"})
    check_error(response, 400, "InvalidParameterValue")
    response = raw_http.sqs_query("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "many"})
    assert response.status == 400
    assert xml(response).tag == q("ErrorResponse")


def test_purge_in_progress_is_403(raw_http: Any, queue: tuple[str, str]) -> None:
    _, url = queue
    check_envelope(raw_http.sqs_query("PurgeQueue", {"QueueUrl": url}), "PurgeQueue")
    check_error(
        raw_http.sqs_query("PurgeQueue", {"QueueUrl": url}),
        403,
        "AWS.SimpleQueueService.PurgeQueueInProgress",
    )


def test_xml_escaping_of_bodies(raw_http: Any, queue: tuple[str, str]) -> None:
    _, url = queue
    body = "<tag attr=\"v\">&amp; 'quoted' \r\n\t]]></tag> \U0001f600"
    response = raw_http.request(
        "POST",
        "/",
        "Action=SendMessage&QueueUrl=" + quote(url, safe="") + "&MessageBody=" + quote(body, safe=""),
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    root = check_envelope(response, "SendMessage")
    assert root.findtext(q("SendMessageResult/MD5OfMessageBody")) == md5_of_body(body)
    root = check_envelope(raw_http.sqs_query("ReceiveMessage", {"QueueUrl": url}), "ReceiveMessage")
    assert root.findtext(q("ReceiveMessageResult/Message/Body")) == body
