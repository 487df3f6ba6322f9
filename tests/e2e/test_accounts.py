"""Accounts and regions: a 12-digit access key id is the account; ARNs use the client's region."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from shoal_server import NO_RETRIES

DEFAULT_ACCOUNT = "000000000000"


def make_client(server: Any, access_key: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=NO_RETRIES,
    )


def test_numeric_access_key_is_its_own_account(sqs: Any, server: Any, queue_name: Callable[..., str]) -> None:
    other = make_client(server, "111122223333")
    name = queue_name()
    other_url = other.create_queue(QueueName=name)["QueueUrl"]
    assert other_url == f"{server.endpoint}/111122223333/{name}"
    arn = other.get_queue_attributes(QueueUrl=other_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    assert arn == f"arn:aws:sqs:us-east-1:111122223333:{name}"
    other.send_message(QueueUrl=other_url, MessageBody="secret")

    # the default account does not see it, by name, by URL or in lists
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.receive_message(QueueUrl=other_url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=other_url, MessageBody="x")
    assert other_url not in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])

    # the same name in the default account is a different queue
    own_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert own_url == f"{server.endpoint}/{DEFAULT_ACCOUNT}/{name}"
    assert "Messages" not in sqs.receive_message(QueueUrl=own_url)
    sqs.send_message(QueueUrl=own_url, MessageBody="mine")

    # and vice versa
    assert other.list_queues(QueueNamePrefix=name)["QueueUrls"] == [other_url]
    with pytest.raises(other.exceptions.QueueDoesNotExist):
        other.receive_message(QueueUrl=own_url)
    got = other.receive_message(QueueUrl=other_url)["Messages"]
    assert [m["Body"] for m in got] == ["secret"]
    got = sqs.receive_message(QueueUrl=own_url)["Messages"]
    assert [m["Body"] for m in got] == ["mine"]

    other.delete_queue(QueueUrl=other_url)
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == own_url


def test_non_numeric_access_key_is_the_default_account(server: Any, queue_name: Callable[..., str]) -> None:
    client = make_client(server, "AKIAIOSFODNN7EXAMPLE")
    url = client.create_queue(QueueName=queue_name())["QueueUrl"]
    assert f"/{DEFAULT_ACCOUNT}/" in url


def test_queue_arn_uses_the_client_region(server: Any, queue_name: Callable[..., str]) -> None:
    client = make_client(server, "222233334444", region="eu-west-3")
    name = queue_name()
    url = client.create_queue(QueueName=name)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn == f"arn:aws:sqs:eu-west-3:222233334444:{name}"
    client.add_permission(QueueUrl=url, Label="p", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    policy = json.loads(
        client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert policy["Id"] == f"{arn}/SQSDefaultPolicy"
    assert policy["Statement"][0]["Resource"] == arn


def test_queue_url_minted_elsewhere_routes_by_path(sqs: Any, queue_name: Callable[..., str]) -> None:
    name = queue_name()
    sqs.create_queue(QueueName=name)
    aws_url = f"https://sqs.us-east-1.amazonaws.com/{DEFAULT_ACCOUNT}/{name}"
    sqs.send_message(QueueUrl=aws_url, MessageBody="routed")
    got = sqs.receive_message(QueueUrl=aws_url)["Messages"]
    assert [m["Body"] for m in got] == ["routed"]
