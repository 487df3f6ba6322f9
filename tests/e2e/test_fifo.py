"""FIFO queues with real boto3 against the real server, over AWS JSON 1.0 and
Query: creation rules, send rules, deduplication, ordering with concurrent
consumers (threads), ReceiveRequestAttemptId, system attributes, and order,
deduplication, sequence numbers and group locks across a SIGKILL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from e2e_support import error_code
from shoal_server import ServerProcess, client_for

FIFO_ATTRIBUTES = ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")


@pytest.fixture(params=["json", "query"])
def client(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("sqs" if request.param == "json" else "sqs_query")


def fifo(client: Any, name: str, **attributes: str) -> str:
    url: str = client.create_queue(QueueName=name, Attributes={"FifoQueue": "true", **attributes})["QueueUrl"]
    return url


def code_of(call: Callable[[], object]) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return error_code(info.value)


def test_creation_rules(client: Any, queue_name: Callable[..., str]) -> None:
    assert code_of(lambda: fifo(client, queue_name())) == "InvalidParameterValue"
    assert code_of(lambda: client.create_queue(QueueName=queue_name(fifo=True))) == "InvalidParameterValue"
    standard = queue_name()
    assert (
        code_of(
            lambda: client.create_queue(QueueName=standard, Attributes={"ContentBasedDeduplication": "true"})
        )
        == "InvalidAttributeName"
    )
    assert (
        code_of(lambda: fifo(client, queue_name(fifo=True), FifoThroughputLimit="perMessageGroupId"))
        == "InvalidAttributeValue"
    )
    assert code_of(lambda: fifo(client, queue_name(fifo=True), DeduplicationScope="group")) == (
        "InvalidAttributeValue"
    )
    url = fifo(
        client,
        queue_name(fifo=True),
        DeduplicationScope="messageGroup",
        FifoThroughputLimit="perMessageGroupId",
        ContentBasedDeduplication="true",
    )
    values = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {name: values[name] for name in FIFO_ATTRIBUTES} == {
        "FifoQueue": "true",
        "ContentBasedDeduplication": "true",
        "DeduplicationScope": "messageGroup",
        "FifoThroughputLimit": "perMessageGroupId",
    }
    assert code_of(lambda: client.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})) in (
        "InvalidAttributeName",
        "InvalidAttributeValue",
    )


def test_send_rules(client: Any, queue_name: Callable[..., str]) -> None:
    url = fifo(client, queue_name(fifo=True))
    assert code_of(
        lambda: client.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    ) == ("MissingParameter")
    with pytest.raises(ClientError) as info:
        client.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert error_code(info.value) == "InvalidParameterValue"
    assert "ContentBasedDeduplication" in info.value.response["Error"]["Message"]
    delayed = code_of(
        lambda: client.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=3
        )
    )
    assert delayed == "InvalidParameterValue"
    bad_group = code_of(
        lambda: client.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId="a b", MessageDeduplicationId="d"
        )
    )
    assert bad_group == "InvalidParameterValue"
    assert "Messages" not in client.receive_message(QueueUrl=url)


def test_duplicate_answers_original_and_is_delivered_once(
    client: Any, queue_name: Callable[..., str]
) -> None:
    url = fifo(client, queue_name(fifo=True))
    first = client.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d")
    again = client.send_message(
        QueueUrl=url, MessageBody="b", MessageGroupId="g2", MessageDeduplicationId="d"
    )
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    batch = client.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": "c", "MessageGroupId": "g", "MessageDeduplicationId": "e"},
            {"Id": "2", "MessageBody": "c", "MessageGroupId": "g", "MessageDeduplicationId": "e"},
            {"Id": "3", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
        ],
    )
    ids = {entry["Id"]: entry["MessageId"] for entry in batch["Successful"]}
    assert ids["1"] == ids["2"] and ids["3"] == first["MessageId"]
    messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == ["a", "c"]
    numbers = [int(first["SequenceNumber"]), int(batch["Successful"][0]["SequenceNumber"])]
    assert numbers[0] < numbers[1] < 2**128


def test_content_based_deduplication_and_message_group_scope(
    client: Any, queue_name: Callable[..., str]
) -> None:
    url = fifo(
        client, queue_name(fifo=True), ContentBasedDeduplication="true", DeduplicationScope="messageGroup"
    )
    a = client.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="A")
    b = client.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="B")
    a_again = client.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="A")
    assert a["MessageId"] != b["MessageId"]
    assert a_again["MessageId"] == a["MessageId"]
    messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["MessageId"] for m in messages) == sorted([a["MessageId"], b["MessageId"]])


def test_order_group_lock_and_few_groups(client: Any, queue_name: Callable[..., str]) -> None:
    url = fifo(client, queue_name(fifo=True))
    for group in "AB":
        client.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": f"{group}{i}",
                    "MessageGroupId": group,
                    "MessageDeduplicationId": f"{group}{i}",
                }
                for i in range(5)
            ],
        )
    first = client.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
    assert [m["Body"] for m in first] == ["A0", "A1", "A2"]
    second = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in second] == [f"B{i}" for i in range(5)]
    for _ in range(3):  # A is in flight: A3, A4 wait
        assert "Messages" not in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    client.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(first)],
    )
    rest = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["A3", "A4"]


def test_visibility_timeout_returns_the_same_message_first(sqs: Any, queue_name: Callable[..., str]) -> None:
    url = fifo(sqs, queue_name(fifo=True))
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId=str(i))
    [first] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"]
    assert first["Body"] == "m0"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=3)["Messages"]
    assert [m["Body"] for m in again] == ["m0", "m1", "m2"]
    assert again[0]["MessageId"] == first["MessageId"]


def test_many_groups_concurrent_consumers_exactly_once_in_order(
    sqs: Any, queue_name: Callable[..., str], server: ServerProcess
) -> None:
    url = fifo(sqs, queue_name(fifo=True))
    groups, per_group, consumers = 30, 10, 4
    for i in range(per_group):
        for start in range(0, groups, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {
                        "Id": str(g),
                        "MessageBody": f"{g}:{i}",
                        "MessageGroupId": f"g{g}",
                        "MessageDeduplicationId": f"{g}:{i}",
                    }
                    for g in range(start, start + 10)
                ],
            )
    seen: dict[int, list[int]] = {g: [] for g in range(groups)}
    in_flight: set[int] = set()
    overlaps: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def consume() -> None:

        client = client_for(server)
        empty = 0
        try:
            while empty < 3:
                got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not got:
                    empty += 1
                    time.sleep(0.02)
                    continue
                empty = 0
                batch_groups = {int(m["Body"].split(":")[0]) for m in got}
                with lock:  # no other consumer may hold these groups until we delete
                    overlaps.extend(batch_groups & in_flight)
                    in_flight.update(batch_groups)
                    for message in got:
                        group, index = map(int, message["Body"].split(":"))
                        seen[group].append(index)
                time.sleep(0.002)  # hold the groups a moment, as a real consumer would
                with lock:
                    in_flight.difference_update(batch_groups)
                client.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)],
                )
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert seen == {g: list(range(per_group)) for g in range(groups)}
    assert not overlaps
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attrs == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_concurrent_receives_get_disjoint_groups(
    sqs: Any, queue_name: Callable[..., str], server: ServerProcess
) -> None:

    url = fifo(sqs, queue_name(fifo=True))
    for group in "ABCD":
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": f"{group}{i}",
                    "MessageGroupId": group,
                    "MessageDeduplicationId": f"{group}{i}",
                }
                for i in range(3)
            ],
        )
    results: list[list[str]] = []
    clients = [client_for(server) for _ in range(6)]

    def receive(client: Any) -> None:
        got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=3).get("Messages", [])
        results.append([m["Body"] for m in got])

    threads = [threading.Thread(target=receive, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    batches = [r for r in results if r]
    assert len(batches) == 4
    assert sorted(batches) == [[f"{g}{i}" for i in range(3)] for g in "ABCD"]


def test_receive_request_attempt_id(client: Any, queue_name: Callable[..., str]) -> None:
    url = fifo(client, queue_name(fifo=True))
    for i in range(3):
        client.send_message(
            QueueUrl=url, MessageBody=f"m{i}", MessageGroupId=f"g{i}", MessageDeduplicationId=str(i)
        )
    first = client.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")[
        "Messages"
    ]
    retry = client.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")[
        "Messages"
    ]
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in retry] == [
        (m["MessageId"], m["ReceiptHandle"]) for m in first
    ]
    other = client.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-2")[
        "Messages"
    ]
    assert [m["Body"] for m in other] == ["m2"]
    for message in first:
        client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert "Messages" not in client.receive_message(
        QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1"
    )


def test_system_attributes(client: Any, queue_name: Callable[..., str]) -> None:
    url = fifo(client, queue_name(fifo=True))
    sent = client.send_message(
        QueueUrl=url, MessageBody="x", MessageGroupId="grp", MessageDeduplicationId="dd"
    )
    [message] = client.receive_message(
        QueueUrl=url,
        MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId", "SequenceNumber"],
    )["Messages"]
    assert message["Attributes"] == {
        "MessageGroupId": "grp",
        "MessageDeduplicationId": "dd",
        "SequenceNumber": sent["SequenceNumber"],
    }


def test_standard_queue_accepts_message_group_id(client: Any, queue_name: Callable[..., str]) -> None:
    url = client.create_queue(QueueName=queue_name())["QueueUrl"]
    sent = client.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="tenant-7")
    assert "SequenceNumber" not in sent
    [message] = client.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "tenant-7"


def test_sigkill_keeps_order_dedup_sequence_and_group_locks(
    sqs: Any, queue_name: Callable[..., str], server: ServerProcess
) -> None:
    url = fifo(sqs, queue_name(fifo=True))
    sent = [
        sqs.send_message(
            QueueUrl=url, MessageBody=f"{g}{i}", MessageGroupId=g, MessageDeduplicationId=f"{g}{i}"
        )
        for i in range(3)
        for g in "AB"
    ]
    [head] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=2)["Messages"]
    assert head["Body"] == "A0"
    server.kill()
    server.restart()
    duplicate = sqs.send_message(
        QueueUrl=url, MessageBody="A1", MessageGroupId="A", MessageDeduplicationId="A1"
    )
    assert (duplicate["MessageId"], duplicate["SequenceNumber"]) == (
        sent[2]["MessageId"],
        sent[2]["SequenceNumber"],
    )
    fresh = sqs.send_message(QueueUrl=url, MessageBody="B3", MessageGroupId="B", MessageDeduplicationId="B3")
    assert int(fresh["SequenceNumber"]) > max(int(s["SequenceNumber"]) for s in sent)
    # A is still locked by the in-flight A0: only B comes, in order
    b = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in b] == ["B0", "B1", "B2", "B3"]
    a = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in a] == ["A0", "A1", "A2"]
    assert a[0]["MessageId"] == head["MessageId"]
