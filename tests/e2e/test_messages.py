"""Messages through boto3: send (MD5s), receive, delete, visibility, batches.

Core flows run over both protocols; MD5s are recomputed here from AWS's
documented algorithm (tests/e2e/e2e_support.py), not taken from the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from e2e_support import drain, error_code, md5_of_attributes, md5_of_body

MiB = 1024 * 1024

ATTRIBUTES: dict[str, dict[str, Any]] = {
    "city": {"DataType": "String", "StringValue": "Zürich ✓"},
    "count": {"DataType": "Number", "StringValue": "-12.5e3"},
    "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
    "custom": {"DataType": "String.uuid", "StringValue": "0b8f4c1a"},
    "custom_bin": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a"},
    "order.id": {"DataType": "Number.int", "StringValue": "7"},
    "order.note": {"DataType": "String", "StringValue": "rush"},
}


@pytest.fixture(params=["json", "query"])
def client(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("sqs" if request.param == "json" else "sqs_query")


@pytest.fixture
def new_queue(client: Any, queue_name: Callable[..., str]) -> Callable[..., str]:
    def make(**attributes: str) -> str:
        return str(client.create_queue(QueueName=queue_name(), Attributes=attributes)["QueueUrl"])

    return make


def receive_one(client: Any, url: str, **kwargs: Any) -> dict[str, Any]:
    messages = client.receive_message(QueueUrl=url, **kwargs).get("Messages", [])
    assert len(messages) == 1, messages
    return dict(messages[0])


# --- SendMessage / ReceiveMessage -------------------------------------------------


def test_send_receive_delete_with_md5s(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    body = "héllo, wörld \U0001f30a\t\n"
    sent = client.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTES)
    assert sent["MD5OfMessageBody"] == md5_of_body(body)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    assert "MD5OfMessageSystemAttributes" not in sent

    got = receive_one(client, url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
    assert got["MessageId"] == sent["MessageId"]
    assert got["Body"] == body
    assert got["MD5OfBody"] == md5_of_body(body)
    assert got["MessageAttributes"] == ATTRIBUTES
    assert got["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    system = got["Attributes"]
    assert system["ApproximateReceiveCount"] == "1"
    for key in ("SentTimestamp", "ApproximateFirstReceiveTimestamp"):
        assert system[key].isdigit()
    assert "SenderId" in system

    client.delete_message(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"])
    assert "Messages" not in client.receive_message(QueueUrl=url, VisibilityTimeout=0)


def test_send_without_attributes_has_no_attribute_md5(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    sent = client.send_message(QueueUrl=url, MessageBody="plain")
    assert sent["MD5OfMessageBody"] == md5_of_body("plain")
    assert "MD5OfMessageAttributes" not in sent
    got = receive_one(client, url, MessageAttributeNames=["All"])
    assert "MessageAttributes" not in got
    assert "MD5OfMessageAttributes" not in got


def test_aws_trace_header(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    system = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    sent = client.send_message(QueueUrl=url, MessageBody="traced", MessageSystemAttributes=system)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(system)
    got = receive_one(client, url, MessageSystemAttributeNames=["AWSTraceHeader"])
    assert got["Attributes"] == {"AWSTraceHeader": trace}


def test_receive_attribute_name_selection(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    client.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=ATTRIBUTES)

    got = receive_one(client, url, MessageAttributeNames=["order.*"], VisibilityTimeout=0)
    selected = {k: v for k, v in ATTRIBUTES.items() if k.startswith("order.")}
    assert got["MessageAttributes"] == selected
    assert got["MD5OfMessageAttributes"] == md5_of_attributes(selected)

    got = receive_one(client, url, MessageAttributeNames=["city", "count"], VisibilityTimeout=0)
    assert set(got["MessageAttributes"]) == {"city", "count"}

    got = receive_one(client, url, AttributeNames=["SentTimestamp"], VisibilityTimeout=0)
    assert set(got["Attributes"]) == {"SentTimestamp"}
    assert "MessageAttributes" not in got

    got = receive_one(
        client, url, MessageSystemAttributeNames=["ApproximateReceiveCount"], VisibilityTimeout=0
    )
    assert got["Attributes"] == {"ApproximateReceiveCount": "4"}

    got = receive_one(client, url, AttributeNames=["All"], VisibilityTimeout=0)
    assert {
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "SenderId",
    } <= set(got["Attributes"])


@pytest.mark.parametrize("count", [0, 11, -1])
def test_receive_max_number_of_messages_out_of_range(
    client: Any, new_queue: Callable[..., str], count: int
) -> None:
    url = new_queue()
    with pytest.raises(ClientError) as info:
        client.receive_message(QueueUrl=url, MaxNumberOfMessages=count)
    assert error_code(info.value) == "InvalidParameterValue"


def test_receive_wait_time_out_of_range(sqs: Any, queue_name: Callable[..., str]) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    with pytest.raises(ClientError) as info:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert error_code(info.value) == "InvalidParameterValue"


def test_receive_up_to_ten(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    bodies = {f"m{i}" for i in range(15)}
    for body in bodies:
        client.send_message(QueueUrl=url, MessageBody=body)
    got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert 1 <= len(got) <= 10
    rest = drain(client, url)
    assert sorted(m["Body"] for m in got + rest) == sorted(bodies)


def test_visibility_timeout_override(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue(VisibilityTimeout="0")
    client.send_message(QueueUrl=url, MessageBody="v")
    # the queue's 0 makes it visible again at once ...
    receive_one(client, url)
    receive_one(client, url)
    # ... and a receive's own timeout overrides it
    got = receive_one(client, url, VisibilityTimeout=60, AttributeNames=["ApproximateReceiveCount"])
    assert got["Attributes"]["ApproximateReceiveCount"] == "3"
    assert "Messages" not in client.receive_message(QueueUrl=url)


def test_message_delay(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    client.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert "Messages" not in client.receive_message(QueueUrl=url)
    with pytest.raises(ClientError) as info:
        client.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert error_code(info.value) == "InvalidParameterValue"


def test_message_size_limits(sqs: Any, queue_name: Callable[..., str]) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    body = "x" * MiB
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_of_body(body)
    got = receive_one(sqs, url)
    assert got["Body"] == body
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody=body + "x")
    assert error_code(info.value) == "InvalidParameterValue"
    # attributes count towards the size
    with pytest.raises(ClientError) as info:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x" * (MiB - 10),
            MessageAttributes={"a": {"DataType": "String", "StringValue": "y" * 20}},
        )
    assert error_code(info.value) == "InvalidParameterValue"

    small = sqs.create_queue(QueueName=queue_name(), Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sqs.send_message(QueueUrl=small, MessageBody="x" * 1024)
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=small, MessageBody="x" * 1025)
    assert error_code(info.value) == "InvalidParameterValue"


@pytest.mark.parametrize("body", ["nul\x00", "bell\x07", "\ufffe"])
def test_invalid_body_characters(client: Any, new_queue: Callable[..., str], body: str) -> None:
    url = new_queue()
    with pytest.raises(ClientError) as info:
        client.send_message(QueueUrl=url, MessageBody=body)
    assert error_code(info.value) == "InvalidMessageContents"


def test_bad_message_attributes(sqs: Any, queue_name: Callable[..., str]) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    too_many = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    cases = [
        too_many,
        {"n": {"DataType": "Number", "StringValue": "not-a-number"}},
        {"t": {"DataType": "Float", "StringValue": "1"}},
        {"e": {"DataType": "String", "StringValue": ""}},
        {"AWS.reserved": {"DataType": "String", "StringValue": "x"}},
    ]
    for attributes in cases:
        with pytest.raises(ClientError) as info:
            sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=attributes)
        assert error_code(info.value) == "InvalidParameterValue", attributes
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


# --- DeleteMessage / ChangeMessageVisibility -------------------------------------------


def test_delete_with_bad_receipt_handle(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    with pytest.raises(ClientError) as info:
        client.delete_message(QueueUrl=url, ReceiptHandle="not-a-receipt-handle")
    assert error_code(info.value) == "ReceiptHandleIsInvalid"


def test_change_visibility_zero_makes_visible_at_once(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    client.send_message(QueueUrl=url, MessageBody="cv")
    first = receive_one(client, url, VisibilityTimeout=60)
    assert "Messages" not in client.receive_message(QueueUrl=url)
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    second = receive_one(client, url, AttributeNames=["ApproximateReceiveCount"])
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    # a longer timeout hides it again
    client.change_message_visibility(
        QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=120
    )
    assert "Messages" not in client.receive_message(QueueUrl=url)
    with pytest.raises(ClientError) as info:
        client.change_message_visibility(
            QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=43201
        )
    assert error_code(info.value) == "InvalidParameterValue"


def test_change_visibility_of_message_not_in_flight(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    client.send_message(QueueUrl=url, MessageBody="nf")
    got = receive_one(client, url, VisibilityTimeout=0)  # visible again at once
    with pytest.raises(client.exceptions.MessageNotInflight):
        client.change_message_visibility(
            QueueUrl=url, ReceiptHandle=got["ReceiptHandle"], VisibilityTimeout=30
        )


def test_deleted_message_stays_deleted(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    client.send_message(QueueUrl=url, MessageBody="d")
    got = receive_one(client, url, VisibilityTimeout=0)
    client.delete_message(QueueUrl=url, ReceiptHandle=got["ReceiptHandle"])
    assert "Messages" not in client.receive_message(QueueUrl=url, VisibilityTimeout=0)


# --- batches ---------------------------------------------------------------------------


def test_send_message_batch(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    entries = [
        {"Id": "plain", "MessageBody": "one"},
        {"Id": "with-attrs_2", "MessageBody": "two", "MessageAttributes": ATTRIBUTES},
        {"Id": "bad-body", "MessageBody": "bad\x00"},
        {"Id": "delayed", "MessageBody": "three", "DelaySeconds": 60},
    ]
    result = client.send_message_batch(QueueUrl=url, Entries=entries)
    ok = {e["Id"]: e for e in result["Successful"]}
    assert set(ok) == {"plain", "with-attrs_2", "delayed"}
    assert ok["plain"]["MD5OfMessageBody"] == md5_of_body("one")
    assert "MD5OfMessageAttributes" not in ok["plain"]
    assert ok["with-attrs_2"]["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    [failed] = result["Failed"]
    assert failed["Id"] == "bad-body"
    assert failed["SenderFault"] is True
    assert failed["Code"] == "InvalidMessageContents"
    assert failed["Message"]

    got = drain(client, url, MessageAttributeNames=["All"])
    assert sorted(m["Body"] for m in got) == ["one", "two"]
    assert {m["MessageId"] for m in got} == {ok["plain"]["MessageId"], ok["with-attrs_2"]["MessageId"]}


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        (
            [{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}],
            "BatchEntryIdsNotDistinct",
        ),
        ([], "EmptyBatchRequest"),
        ([{"Id": "bad id!", "MessageBody": "x"}], "InvalidBatchEntryId"),
        ([{"Id": "x" * 81, "MessageBody": "x"}], "InvalidBatchEntryId"),
        (
            [{"Id": "a", "MessageBody": "x" * (MiB // 2)}, {"Id": "b", "MessageBody": "y" * (MiB // 2 + 1)}],
            "BatchRequestTooLong",
        ),
    ],
    ids=["too-many", "not-distinct", "empty", "bad-id", "long-id", "too-long"],
)
def test_send_message_batch_request_errors(
    client: Any, new_queue: Callable[..., str], entries: list[dict[str, Any]], code: str
) -> None:
    url = new_queue()
    with pytest.raises(getattr(client.exceptions, code)) as info:
        client.send_message_batch(QueueUrl=url, Entries=entries)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Messages" not in client.receive_message(QueueUrl=url)


def test_delete_message_batch(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    client.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)]
    )
    got = drain_without_delete(client, url)
    assert len(got) == 3
    entries = [{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    entries.append({"Id": "bogus", "ReceiptHandle": "garbage"})
    result = client.delete_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(e["Id"] for e in result["Successful"]) == ["d0", "d1", "d2"]
    [failed] = result["Failed"]
    assert failed["Id"] == "bogus"
    assert failed["Code"] == "ReceiptHandleIsInvalid"
    assert failed["SenderFault"] is True
    attrs = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attrs == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    with pytest.raises(client.exceptions.EmptyBatchRequest):
        client.delete_message_batch(QueueUrl=url, Entries=[])


def test_change_message_visibility_batch(client: Any, new_queue: Callable[..., str]) -> None:
    url = new_queue()
    client.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(2)]
    )
    got = drain_without_delete(client, url)
    assert len(got) == 2
    result = client.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "zero", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "long", "ReceiptHandle": got[1]["ReceiptHandle"], "VisibilityTimeout": 300},
            {"Id": "bogus", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["long", "zero"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [
        ("bogus", "ReceiptHandleIsInvalid", True)
    ]
    again = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["MessageId"] for m in again] == [got[0]["MessageId"]]
    with pytest.raises(client.exceptions.BatchEntryIdsNotDistinct):
        client.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": "x", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 0},
                {"Id": "x", "ReceiptHandle": got[1]["ReceiptHandle"], "VisibilityTimeout": 0},
            ],
        )


def drain_without_delete(client: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(10):
        got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        )
        if not got and messages:
            break
        messages.extend(got)
    return messages
