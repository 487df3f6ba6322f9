"""Queue management through boto3, over AWS JSON 1.0 and Query alike.

CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, Get/SetQueueAttributes,
PurgeQueue, tags, permissions, ListDeadLetterSourceQueues, and the actions
that answer UnsupportedOperation for now.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from e2e_support import error_code, http_status

ACCOUNT = "000000000000"


@pytest.fixture(params=["json", "query"])
def client(request: pytest.FixtureRequest) -> Any:
    """Each core flow runs over both protocols."""
    return request.getfixturevalue("sqs" if request.param == "json" else "sqs_query")


def arn_of(name: str, account: str = ACCOUNT, region: str = "us-east-1") -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


# --- CreateQueue / GetQueueUrl ------------------------------------------------


def test_create_queue_url_and_idempotence(client: Any, server: Any, queue_name: Callable[..., str]) -> None:
    name = queue_name()
    url = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    assert url == f"{server.endpoint}/{ACCOUNT}/{name}"
    # the same name with the same attributes is the same queue
    again = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    assert again == url
    assert client.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=ACCOUNT)["QueueUrl"] == url


def test_create_queue_other_attributes_is_queue_name_exists(
    client: Any, queue_name: Callable[..., str]
) -> None:
    name = queue_name()
    client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})
    with pytest.raises(client.exceptions.QueueNameExists) as info:
        client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    assert http_status(info.value) == 400


@pytest.mark.parametrize("bad", ["has space", "a" * 81, "dot.name", "", "slash/name"])
def test_create_queue_bad_name(sqs: Any, bad: str) -> None:
    with pytest.raises(ClientError) as info:
        sqs.create_queue(QueueName=bad)
    assert error_code(info.value) == "InvalidParameterValue"


def test_create_queue_bad_name_query(sqs_query: Any) -> None:
    with pytest.raises(ClientError) as info:
        sqs_query.create_queue(QueueName="bad name!")
    assert error_code(info.value) == "InvalidParameterValue"


def test_create_queue_name_of_80_characters(sqs: Any) -> None:
    name = "e2e-" + "x" * 76
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url.endswith("/" + name)
    sqs.delete_queue(QueueUrl=url)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("VisibilityTimeout", "43201"),
        ("VisibilityTimeout", "-1"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("DelaySeconds", "901"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("VisibilityTimeout", "abc"),
    ],
)
def test_create_queue_out_of_range_attribute(
    client: Any, queue_name: Callable[..., str], attribute: str, value: str
) -> None:
    name = queue_name()
    with pytest.raises(ClientError) as info:
        client.create_queue(QueueName=name, Attributes={attribute: value})
    assert error_code(info.value) == "InvalidAttributeValue"
    # nothing was created
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.get_queue_url(QueueName=name)


def test_create_queue_unknown_attribute(sqs: Any, queue_name: Callable[..., str]) -> None:
    with pytest.raises(ClientError) as info:
        sqs.create_queue(QueueName=queue_name(), Attributes={"NoSuchAttribute": "1"})
    assert error_code(info.value) == "InvalidAttributeName"


def test_create_queue_upper_bounds_accepted(sqs: Any, queue_name: Callable[..., str]) -> None:
    attributes = {
        "VisibilityTimeout": "43200",
        "MessageRetentionPeriod": "1209600",
        "MaximumMessageSize": "1048576",
        "DelaySeconds": "900",
        "ReceiveMessageWaitTimeSeconds": "20",
    }
    url = sqs.create_queue(QueueName=queue_name(), Attributes=attributes)["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(attributes))["Attributes"]
    assert got == attributes


def test_get_queue_url_missing_queue(client: Any, raw_http: Any) -> None:
    with pytest.raises(client.exceptions.QueueDoesNotExist) as info:
        client.get_queue_url(QueueName="e2e-never-created")
    assert http_status(info.value) == 400


def test_fifo_queue_basics(client: Any, queue_name: Callable[..., str]) -> None:
    name = queue_name(fifo=True)
    url = client.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    first = client.send_message(
        QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    assert first["SequenceNumber"].isdigit()
    again = client.send_message(
        QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1"
    )
    assert again["MessageId"] == first["MessageId"]  # deduplicated
    client.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g", MessageDeduplicationId="d2")
    got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["a", "b"]
    assert got[0]["Attributes"]["MessageGroupId"] == "g"
    with pytest.raises(ClientError) as info:  # no group id on a FIFO queue
        client.send_message(QueueUrl=url, MessageBody="c", MessageDeduplicationId="d3")
    assert error_code(info.value) == "MissingParameter"
    with pytest.raises(ClientError) as info:  # a FIFO queue's name ends in .fifo
        client.create_queue(QueueName=queue_name(), Attributes={"FifoQueue": "true"})
    assert error_code(info.value) == "InvalidParameterValue"


def test_message_move_task_redrives_to_the_source(client: Any, queue_name: Callable[..., str]) -> None:
    dlq_name = queue_name()
    client.create_queue(QueueName=dlq_name)
    policy = json.dumps({"deadLetterTargetArn": arn_of(dlq_name), "maxReceiveCount": 1})
    source = client.create_queue(QueueName=queue_name(), Attributes={"RedrivePolicy": policy})["QueueUrl"]
    client.send_message(QueueUrl=source, MessageBody="again")
    client.receive_message(QueueUrl=source, VisibilityTimeout=0)
    assert "Messages" not in client.receive_message(QueueUrl=source)  # moved to the DLQ

    handle = client.start_message_move_task(SourceArn=arn_of(dlq_name))["TaskHandle"]
    assert handle
    deadline = time.monotonic() + 5
    while True:
        [task] = client.list_message_move_tasks(SourceArn=arn_of(dlq_name))["Results"]
        if task["Status"] == "COMPLETED" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    got = client.receive_message(QueueUrl=source)["Messages"]
    assert [m["Body"] for m in got] == ["again"]
    # only a DLQ can be a move task's source
    with pytest.raises(ClientError) as info:
        client.start_message_move_task(SourceArn=arn_of(dlq_name.replace("e2e-", "e2e-none-")))
    assert error_code(info.value) == "ResourceNotFoundException"


# --- ListQueues / DeleteQueue ----------------------------------------------------


def test_list_queues_prefix_and_pagination(client: Any, queue_name: Callable[..., str]) -> None:
    prefix = queue_name()
    urls = sorted(client.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5))
    client.create_queue(QueueName=queue_name())  # not under the prefix

    assert sorted(client.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == urls

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"QueueNamePrefix": prefix, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = client.list_queues(**kwargs)
        pages += 1
        assert len(page.get("QueueUrls", [])) <= 2
        seen.extend(page.get("QueueUrls", []))
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == urls
    assert len(seen) == len(set(seen))

    assert "QueueUrls" not in client.list_queues(QueueNamePrefix=prefix + "-nothing")


def test_list_queues_max_results_out_of_range(sqs: Any) -> None:
    with pytest.raises(ClientError) as info:
        sqs.list_queues(MaxResults=1001)
    assert error_code(info.value) == "InvalidParameterValue"


def test_delete_queue_then_name_reusable(client: Any, queue_name: Callable[..., str]) -> None:
    name = queue_name()
    url = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="old")
    client.delete_queue(QueueUrl=url)
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.get_queue_url(QueueName=name)
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.send_message(QueueUrl=url, MessageBody="x")
    assert url not in client.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    # reusable at once, empty, with default attributes
    assert client.create_queue(QueueName=name)["QueueUrl"] == url
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert "Messages" not in client.receive_message(QueueUrl=url)


def test_delete_missing_queue(client: Any, server: Any) -> None:
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.delete_queue(QueueUrl=f"{server.endpoint}/{ACCOUNT}/e2e-never-created")


# --- attributes --------------------------------------------------------------------


def test_get_queue_attributes_all(client: Any, queue_name: Callable[..., str]) -> None:
    name = queue_name()
    url = client.create_queue(QueueName=name)["QueueUrl"]
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["QueueArn"] == arn_of(name)
    expected = {
        "VisibilityTimeout": "30",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "SqsManagedSseEnabled": "true",
    }
    for key, value in expected.items():
        assert attrs[key] == value, key
    for key in ("CreatedTimestamp", "LastModifiedTimestamp"):
        assert attrs[key].isdigit()
    # only what was asked for
    one = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert one == {"QueueArn": arn_of(name)}


def test_get_queue_attributes_unknown_name(sqs: Any, queue_name: Callable[..., str]) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    with pytest.raises(ClientError) as info:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    assert error_code(info.value) == "InvalidAttributeName"


def test_set_queue_attributes(client: Any, queue_name: Callable[..., str]) -> None:
    url = client.create_queue(QueueName=queue_name())["QueueUrl"]
    client.set_queue_attributes(
        QueueUrl=url,
        Attributes={"VisibilityTimeout": "60", "DelaySeconds": "3", "MaximumMessageSize": "2048"},
    )
    got = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["VisibilityTimeout", "DelaySeconds", "MaximumMessageSize"]
    )["Attributes"]
    assert got == {"VisibilityTimeout": "60", "DelaySeconds": "3", "MaximumMessageSize": "2048"}
    with pytest.raises(ClientError) as info:
        client.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "43201"})
    assert error_code(info.value) == "InvalidAttributeValue"
    # the rejected change changed nothing
    got = client.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert got == {"VisibilityTimeout": "60"}


def test_set_queue_attributes_read_only_is_rejected(sqs: Any, queue_name: Callable[..., str]) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"QueueArn": "arn:aws:sqs:us-east-1:1:x"})
    assert error_code(info.value) == "InvalidAttributeName"


def test_message_counts(client: Any, queue_name: Callable[..., str]) -> None:
    url = client.create_queue(QueueName=queue_name())["QueueUrl"]
    for i in range(3):
        client.send_message(QueueUrl=url, MessageBody=f"m{i}")
    client.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    client.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    attrs = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    assert attrs == {
        "ApproximateNumberOfMessages": "2",
        "ApproximateNumberOfMessagesNotVisible": "1",
        "ApproximateNumberOfMessagesDelayed": "1",
    }


# --- PurgeQueue ----------------------------------------------------------------------


def test_purge_queue_and_in_progress(client: Any, queue_name: Callable[..., str]) -> None:
    url = client.create_queue(QueueName=queue_name())["QueueUrl"]
    for i in range(4):
        client.send_message(QueueUrl=url, MessageBody=f"m{i}")
    client.purge_queue(QueueUrl=url)
    assert "Messages" not in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"
    with pytest.raises(client.exceptions.PurgeQueueInProgress) as info:
        client.purge_queue(QueueUrl=url)
    assert http_status(info.value) == 403
    # messages sent after the purge are kept
    client.send_message(QueueUrl=url, MessageBody="after")
    got = client.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in got] == ["after"]


# --- tags --------------------------------------------------------------------------------


def test_tags(client: Any, queue_name: Callable[..., str]) -> None:
    url = client.create_queue(QueueName=queue_name(), tags={"team": "core", "env": "dev"})["QueueUrl"]
    assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "dev"}
    client.tag_queue(QueueUrl=url, Tags={"env": "prod", "cost": "42"})
    assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "prod", "cost": "42"}
    client.untag_queue(QueueUrl=url, TagKeys=["team", "absent"])
    assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "prod", "cost": "42"}
    client.untag_queue(QueueUrl=url, TagKeys=["env", "cost"])
    assert "Tags" not in client.list_queue_tags(QueueUrl=url)


# --- permissions --------------------------------------------------------------------------


def test_add_and_remove_permission_policy(client: Any, queue_name: Callable[..., str]) -> None:
    name = queue_name()
    url = client.create_queue(QueueName=name)["QueueUrl"]
    arn = arn_of(name)
    client.add_permission(QueueUrl=url, Label="one", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    client.add_permission(
        QueueUrl=url,
        Label="two",
        AWSAccountIds=["111122223333", "444455556666"],
        Actions=["ReceiveMessage", "DeleteMessage"],
    )
    raw = client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    assert json.loads(raw) == {
        "Version": "2012-10-17",
        "Id": f"{arn}/SQSDefaultPolicy",
        "Statement": [
            {
                "Sid": "one",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "SQS:SendMessage",
                "Resource": arn,
            },
            {
                "Sid": "two",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]},
                "Action": ["SQS:ReceiveMessage", "SQS:DeleteMessage"],
                "Resource": arn,
            },
        ],
    }
    with pytest.raises(ClientError) as info:  # the label is taken
        client.add_permission(
            QueueUrl=url, Label="one", AWSAccountIds=["111122223333"], Actions=["SendMessage"]
        )
    assert error_code(info.value) == "InvalidParameterValue"

    client.remove_permission(QueueUrl=url, Label="one")
    policy = json.loads(
        client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert [s["Sid"] for s in policy["Statement"]] == ["two"]
    with pytest.raises(ClientError) as info:
        client.remove_permission(QueueUrl=url, Label="one")
    assert error_code(info.value) == "InvalidParameterValue"
    client.remove_permission(QueueUrl=url, Label="two")
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    assert "Policy" not in attrs


def test_add_permission_bad_action(sqs: Any, queue_name: Callable[..., str]) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    with pytest.raises(ClientError) as info:
        sqs.add_permission(QueueUrl=url, Label="x", AWSAccountIds=["111122223333"], Actions=["CreateQueue"])
    assert error_code(info.value) == "InvalidParameterValue"


# --- ListDeadLetterSourceQueues ----------------------------------------------------------


def test_list_dead_letter_source_queues(client: Any, queue_name: Callable[..., str]) -> None:
    dlq_name = queue_name()
    dlq = client.create_queue(QueueName=dlq_name)["QueueUrl"]
    # JSON always has the (required) member; Query has no element for an empty list
    assert client.list_dead_letter_source_queues(QueueUrl=dlq).get("queueUrls", []) == []
    policy = json.dumps({"deadLetterTargetArn": arn_of(dlq_name), "maxReceiveCount": 1})
    sources = sorted(
        client.create_queue(QueueName=queue_name(), Attributes={"RedrivePolicy": policy})["QueueUrl"]
        for _ in range(3)
    )
    assert sorted(client.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]) == sources
    page = client.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    assert len(page["queueUrls"]) == 2
    rest = client.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2, NextToken=page["NextToken"])
    assert sorted(page["queueUrls"] + rest["queueUrls"]) == sources
    assert "NextToken" not in rest

    # maxReceiveCount 1: the second receive moves the message to the DLQ
    client.send_message(QueueUrl=sources[0], MessageBody="poison")
    client.receive_message(QueueUrl=sources[0], VisibilityTimeout=0)
    assert "Messages" not in client.receive_message(QueueUrl=sources[0])
    got = client.receive_message(QueueUrl=dlq)["Messages"]
    assert [m["Body"] for m in got] == ["poison"]


def test_list_dead_letter_source_queues_missing_queue(sqs: Any, server: Any) -> None:
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.list_dead_letter_source_queues(QueueUrl=f"{server.endpoint}/{ACCOUNT}/e2e-never-created")
