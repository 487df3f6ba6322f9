"""Dead-letter queues with real boto3 against the real server, over AWS JSON 1.0
and Query: RedrivePolicy and RedriveAllowPolicy validation, the move at
maxReceiveCount (never in both queues, never in neither), FIFO to FIFO,
ListDeadLetterSourceQueues pagination, and the move across a SIGKILL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from e2e_support import error_code
from shoal_server import ServerProcess

ACCOUNT = "000000000000"


@pytest.fixture(params=["json", "query"])
def client(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("sqs" if request.param == "json" else "sqs_query")


def arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:sqs:us-east-1:{account}:{name}"


def policy(target: str, count: object = 2) -> str:
    return json.dumps({"deadLetterTargetArn": arn(target), "maxReceiveCount": count})


def counts(client: Any, url: str) -> tuple[int, int]:
    values = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(values["ApproximateNumberOfMessages"]), int(values["ApproximateNumberOfMessagesNotVisible"])


def create_code(client: Any, name: str, **attributes: str) -> str:
    with pytest.raises(ClientError) as info:
        client.create_queue(QueueName=name, Attributes=attributes)
    return error_code(info.value)


def test_redrive_policy_validation(client: Any, queue_name: Callable[..., str]) -> None:
    dlq = queue_name()
    fifo_dlq = queue_name(fifo=True)
    client.create_queue(QueueName=dlq)
    client.create_queue(QueueName=fifo_dlq, Attributes={"FifoQueue": "true"})
    bad = [
        policy(queue_name()),  # target does not exist
        policy(fifo_dlq),  # standard source, FIFO target
        policy(dlq, 0),
        policy(dlq, 1001),
        policy(dlq, "many"),
        json.dumps({"deadLetterTargetArn": arn(dlq)}),
        json.dumps({"maxReceiveCount": 3}),
        json.dumps({"deadLetterTargetArn": arn(dlq, "111111111111"), "maxReceiveCount": 3}),
    ]
    for document in bad:
        assert create_code(client, queue_name(), RedrivePolicy=document) == "InvalidParameterValue", document
    assert (
        create_code(client, queue_name(fifo=True), FifoQueue="true", RedrivePolicy=policy(dlq))
        == "InvalidParameterValue"
    )
    for count in ("1000", 1):
        url = client.create_queue(QueueName=queue_name(), Attributes={"RedrivePolicy": policy(dlq, count)})[
            "QueueUrl"
        ]
        stored = client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
        assert json.loads(stored["RedrivePolicy"]) == {
            "deadLetterTargetArn": arn(dlq),
            "maxReceiveCount": int(count),
        }


def test_redrive_allow_policy_enforced(client: Any, queue_name: Callable[..., str]) -> None:
    denied = queue_name()
    client.create_queue(
        QueueName=denied, Attributes={"RedriveAllowPolicy": '{"redrivePermission":"denyAll"}'}
    )
    assert create_code(client, queue_name(), RedrivePolicy=policy(denied)) == "InvalidParameterValue"
    good = queue_name()
    by_queue = queue_name()
    allow = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn(good)]})
    client.create_queue(QueueName=by_queue, Attributes={"RedriveAllowPolicy": allow})
    client.create_queue(QueueName=good, Attributes={"RedrivePolicy": policy(by_queue)})
    assert create_code(client, queue_name(), RedrivePolicy=policy(by_queue)) == "InvalidParameterValue"
    too_many = json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [arn(f"q{i}") for i in range(11)]}
    )
    assert create_code(client, queue_name(), RedriveAllowPolicy=too_many) == "InvalidParameterValue"
    # set later on an existing source: checked then too
    late = client.create_queue(QueueName=queue_name())["QueueUrl"]
    with pytest.raises(ClientError) as info:
        client.set_queue_attributes(QueueUrl=late, Attributes={"RedrivePolicy": policy(denied)})
    assert error_code(info.value) == "InvalidParameterValue"


def test_message_moves_after_max_receive_count(client: Any, queue_name: Callable[..., str]) -> None:
    dlq_name, src_name = queue_name(), queue_name()
    dlq = client.create_queue(QueueName=dlq_name)["QueueUrl"]
    src = client.create_queue(QueueName=src_name, Attributes={"RedrivePolicy": policy(dlq_name, 3)})[
        "QueueUrl"
    ]
    attributes = {"kind": {"DataType": "String", "StringValue": "poison"}}
    sent = client.send_message(QueueUrl=src, MessageBody="bad", MessageAttributes=attributes)
    [original] = client.receive_message(
        QueueUrl=src, VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert counts(client, src) == (1, 0) and counts(client, dlq) == (0, 0)
    for _ in range(2):  # receives 2 and 3
        assert len(client.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"]) == 1
        assert counts(client, src) == (1, 0) and counts(client, dlq) == (0, 0)
    assert "Messages" not in client.receive_message(QueueUrl=src)  # the 4th attempt moves it
    assert counts(client, src) == (0, 0) and counts(client, dlq) == (1, 0)
    [moved] = client.receive_message(
        QueueUrl=dlq, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    assert (moved["MessageId"], moved["Body"]) == (sent["MessageId"], "bad")
    assert moved["MessageAttributes"] == attributes
    assert moved["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert moved["Attributes"]["SentTimestamp"] == original["Attributes"]["SentTimestamp"]
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == arn(src_name)
    assert counts(client, src) == (0, 0) and counts(client, dlq) == (0, 1)


def test_fifo_moves_to_fifo_dlq_keeping_group(client: Any, queue_name: Callable[..., str]) -> None:
    dlq_name, src_name = queue_name(fifo=True), queue_name(fifo=True)
    dlq = client.create_queue(QueueName=dlq_name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    src = client.create_queue(
        QueueName=src_name, Attributes={"FifoQueue": "true", "RedrivePolicy": policy(dlq_name, 1)}
    )["QueueUrl"]
    for i in range(3):
        client.send_message(
            QueueUrl=src, MessageBody=f"m{i}", MessageGroupId="grp", MessageDeduplicationId=str(i)
        )
    first = client.receive_message(QueueUrl=src, MaxNumberOfMessages=2, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in first] == ["m0", "m1"]
    # m0 and m1 move; m2 (received 0 times) is delivered in the same receive
    rest = client.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["m2"]
    moved = client.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])[
        "Messages"
    ]
    assert [m["Body"] for m in moved] == ["m0", "m1"]
    assert {m["Attributes"]["MessageGroupId"] for m in moved} == {"grp"}
    assert all(m["Attributes"]["DeadLetterQueueSourceArn"] == arn(src_name) for m in moved)


def test_list_dead_letter_source_queues_paginates(client: Any, queue_name: Callable[..., str]) -> None:
    dlq_name = queue_name()
    dlq = client.create_queue(QueueName=dlq_name)["QueueUrl"]
    sources = [
        client.create_queue(QueueName=queue_name(), Attributes={"RedrivePolicy": policy(dlq_name)})[
            "QueueUrl"
        ]
        for _ in range(5)
    ]
    client.create_queue(QueueName=queue_name())
    assert sorted(client.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]) == sorted(sources)
    seen: list[str] = []
    kwargs: dict[str, Any] = {"QueueUrl": dlq, "MaxResults": 2}
    while True:
        page = client.list_dead_letter_source_queues(**kwargs)
        assert len(page["queueUrls"]) <= 2
        seen += page["queueUrls"]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert sorted(seen) == sorted(sources)


def test_move_survives_sigkill(sqs: Any, queue_name: Callable[..., str], server: ServerProcess) -> None:
    dlq_name, src_name = queue_name(), queue_name()
    dlq = sqs.create_queue(QueueName=dlq_name)["QueueUrl"]
    src = sqs.create_queue(QueueName=src_name, Attributes={"RedrivePolicy": policy(dlq_name, 1)})["QueueUrl"]
    sent = sqs.send_message(QueueUrl=src, MessageBody="x")
    sqs.send_message(QueueUrl=src, MessageBody="stays")
    sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    messages = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    assert sent["MessageId"] not in [m["MessageId"] for m in messages]
    server.kill()
    server.restart()
    assert counts(sqs, dlq) == (1, 0)
    [moved] = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert moved["MessageId"] == sent["MessageId"]
    left = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10).get("Messages", [])
    assert sent["MessageId"] not in [m["MessageId"] for m in left]
