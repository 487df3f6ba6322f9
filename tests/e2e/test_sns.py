"""SNS end to end: boto3 ``sns`` and ``sqs`` clients against the real server.

Every topic and subscription action, fan-out to several queues with raw and
enveloped delivery, filter policies, FIFO topic to FIFO queue, the envelope's
signature checked with the served certificate, and a publish to 100 queues
that every queue has by the time Publish returns.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from shoal_server import NO_RETRIES, ServerProcess, http_request


@pytest.fixture(scope="module")
def sns(server: ServerProcess) -> Any:
    return boto3.client(
        "sns",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=NO_RETRIES,
    )


@pytest.fixture
def name() -> Callable[..., str]:
    def make(fifo: bool = False) -> str:
        stem = f"sns-{uuid.uuid4().hex[:12]}"
        return stem + ".fifo" if fifo else stem

    return make


def queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive_all(sqs: Any, url: str, wait: int = 0) -> list[dict[str, Any]]:
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return list(messages)


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_topic_lifecycle(sns: Any, name: Callable[..., str]) -> None:
    topic_name = name()
    arn = sns.create_topic(
        Name=topic_name, Attributes={"DisplayName": "d"}, Tags=[{"Key": "k", "Value": "v"}]
    )["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:{topic_name}"
    assert sns.create_topic(Name=topic_name, Attributes={"DisplayName": "d"})["TopicArn"] == arn
    with pytest.raises(ClientError) as error:
        sns.create_topic(Name=topic_name, Attributes={"DisplayName": "other"})
    assert code(error) == "InvalidParameter"
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "d"
    assert attributes["Owner"] == "000000000000"
    assert attributes["SubscriptionsConfirmed"] == "0"
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    assert "http" in json.loads(attributes["EffectiveDeliveryPolicy"])
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="e")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "e"
    with pytest.raises(ClientError) as error:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Nope", AttributeValue="x")
    assert code(error) == "InvalidParameter"
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["k"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k2", "Value": "v2"}]
    sns.add_permission(TopicArn=arn, Label="p", AWSAccountId=["111111111111"], ActionName=["Publish"])
    statement = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"][-1]
    assert statement == {
        "Sid": "p",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "SNS:Publish",
        "Resource": arn,
    }
    sns.remove_permission(TopicArn=arn, Label="p")
    assert len(json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]) == 1
    sns.delete_topic(TopicArn=arn)
    with pytest.raises(ClientError) as error:
        sns.get_topic_attributes(TopicArn=arn)
    assert code(error) == "NotFound"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=arn, Message="x")


def test_list_topics_pages_by_100(sns: Any, name: Callable[..., str]) -> None:
    created = {sns.create_topic(Name=name())["TopicArn"] for _ in range(105)}
    seen: list[str] = []
    token = None
    while True:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        assert len(page["Topics"]) <= 100
        seen += [t["TopicArn"] for t in page["Topics"]]
        token = page.get("NextToken")
        if not token:
            break
    assert created <= set(seen)
    assert len(seen) == len(set(seen))


def test_fan_out_enveloped_and_raw(
    sns: Any, sqs: Any, name: Callable[..., str], server: ServerProcess
) -> None:
    arn = sns.create_topic(Name=name())["TopicArn"]
    (url_a, arn_a), (url_b, arn_b), (url_raw, arn_raw) = (queue(sqs, name()) for _ in range(3))
    subs = [
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q)["SubscriptionArn"] for q in (arn_a, arn_b)
    ]
    raw_sub = sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=arn_raw, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    assert all(s.startswith(arn + ":") for s in [*subs, raw_sub])
    attributes = sns.get_subscription_attributes(SubscriptionArn=raw_sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert attributes["PendingConfirmation"] == "false"
    assert len(sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]) == 3
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] == "3"

    message_id = sns.publish(
        TopicArn=arn,
        Message="hello",
        Subject="greeting",
        MessageAttributes={
            "colour": {"DataType": "String", "StringValue": "blue"},
            "sizes": {"DataType": "String.Array", "StringValue": '["s", "m"]'},
            "n": {"DataType": "Number", "StringValue": "42"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )["MessageId"]
    for url in (url_a, url_b):
        [message] = receive_all(sqs, url)
        body = json.loads(message["Body"])
        assert body["Type"] == "Notification"
        assert body["MessageId"] == message_id
        assert body["TopicArn"] == arn
        assert body["Subject"] == "greeting"
        assert body["Message"] == "hello"
        assert body["Timestamp"].endswith("Z") and len(body["Timestamp"]) == 24
        assert body["SignatureVersion"] == "1"
        assert body["MessageAttributes"] == {
            "colour": {"Type": "String", "Value": "blue"},
            "sizes": {"Type": "String.Array", "Value": '["s", "m"]'},
            "n": {"Type": "Number", "Value": "42"},
            "b": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
        }
        assert body["UnsubscribeURL"].startswith(server.endpoint + "/?Action=Unsubscribe")
    [raw] = receive_all(sqs, url_raw)
    assert raw["Body"] == "hello"
    assert raw["MessageAttributes"]["colour"] == {"StringValue": "blue", "DataType": "String"}
    assert raw["MessageAttributes"]["b"] == {"BinaryValue": b"\x00\x01", "DataType": "Binary"}

    sns.unsubscribe(SubscriptionArn=subs[0])
    sns.publish(TopicArn=arn, Message="second")
    assert receive_all(sqs, url_a) == []
    assert json.loads(receive_all(sqs, url_b)[0]["Body"])["Message"] == "second"
    with pytest.raises(ClientError) as error:
        sns.get_subscription_attributes(SubscriptionArn=subs[0])
    assert code(error) == "NotFound"


def test_signature_verifies_with_served_certificate(
    sns: Any, sqs: Any, name: Callable[..., str], server: ServerProcess
) -> None:
    arn = sns.create_topic(Name=name())["TopicArn"]
    url, queue_arn = queue(sqs, name())
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    for version, digest in (("1", hashes.SHA1()), ("2", hashes.SHA256())):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue=version)
        sns.publish(TopicArn=arn, Message=f"signed {version}", Subject="s")
        [message] = receive_all(sqs, url)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        body = json.loads(message["Body"])
        assert body["SignatureVersion"] == version
        cert_path = body["SigningCertURL"].removeprefix(server.endpoint)
        pem = http_request(server.port, "GET", cert_path).body
        key = x509.load_pem_x509_certificate(pem).public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        signed = "".join(
            f"{field}\n{body[field]}\n"
            for field in ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        ).encode()
        key.verify(base64.b64decode(body["Signature"]), signed, padding.PKCS1v15(), digest)


def test_filter_policies_and_message_structure(sns: Any, sqs: Any, name: Callable[..., str]) -> None:
    arn = sns.create_topic(Name=name())["TopicArn"]
    url_red, arn_red = queue(sqs, name())
    url_body, arn_body = queue(sqs, name())
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=arn_red,
        Attributes={"FilterPolicy": json.dumps({"colour": ["red"]}), "RawMessageDelivery": "true"},
    )
    sub_body = sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=arn_body,
        Attributes={
            "FilterPolicy": json.dumps({"kind": [{"prefix": "ord"}]}),
            "FilterPolicyScope": "MessageBody",
            "RawMessageDelivery": "true",
        },
    )["SubscriptionArn"]
    sns.publish(
        TopicArn=arn,
        Message='{"kind": "other"}',
        MessageAttributes={"colour": {"DataType": "String", "StringValue": "blue"}},
    )
    sns.publish(
        TopicArn=arn,
        Message='{"kind": "order"}',
        MessageAttributes={"colour": {"DataType": "String", "StringValue": "red"}},
    )
    assert [m["Body"] for m in receive_all(sqs, url_red)] == ['{"kind": "order"}']
    assert [m["Body"] for m in receive_all(sqs, url_body)] == ['{"kind": "order"}']
    with pytest.raises(ClientError) as error:
        sns.set_subscription_attributes(
            SubscriptionArn=sub_body, AttributeName="FilterPolicy", AttributeValue="{"
        )
    assert code(error) == "InvalidParameter"
    sns.set_subscription_attributes(SubscriptionArn=sub_body, AttributeName="FilterPolicy", AttributeValue="")

    sns.publish(
        TopicArn=arn,
        MessageStructure="json",
        Message=json.dumps({"default": "plain", "sqs": "for queues"}),
        MessageAttributes={"colour": {"DataType": "String", "StringValue": "red"}},
    )
    assert [m["Body"] for m in receive_all(sqs, url_red)] == ["for queues"]
    with pytest.raises(ClientError) as error:
        sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"sqs": "x"}))
    assert code(error) == "InvalidParameter"


def test_fifo_topic_to_fifo_queue(sns: Any, sqs: Any, name: Callable[..., str]) -> None:
    arn = sns.create_topic(Name=name(fifo=True), Attributes={"FifoTopic": "true"})["TopicArn"]
    url, queue_arn = queue(sqs, name(fifo=True), FifoQueue="true")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    with pytest.raises(ClientError) as error:
        sns.publish(TopicArn=arn, Message="m", MessageDeduplicationId="d")
    assert code(error) == "InvalidParameter"
    with pytest.raises(ClientError) as error:
        sns.publish(TopicArn=arn, Message="m", MessageGroupId="g")
    assert code(error) == "InvalidParameter"
    first = sns.publish(TopicArn=arn, Message="m0", MessageGroupId="g", MessageDeduplicationId="d0")
    again = sns.publish(TopicArn=arn, Message="m0", MessageGroupId="g", MessageDeduplicationId="d0")
    assert again == {**again, "MessageId": first["MessageId"], "SequenceNumber": first["SequenceNumber"]}
    results = [
        sns.publish(TopicArn=arn, Message=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}")
        for i in range(1, 5)
    ]
    numbers = [first["SequenceNumber"]] + [r["SequenceNumber"] for r in results]
    assert numbers == sorted(numbers, key=int) and len(set(numbers)) == 5
    bodies: list[str] = []
    while len(bodies) < 5:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
        for message in batch:
            assert message["Attributes"]["MessageGroupId"] == "g"
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert bodies == [f"m{i}" for i in range(5)]
    standard = sns.create_topic(Name=name())["TopicArn"]
    with pytest.raises(ClientError) as error:
        sns.subscribe(TopicArn=standard, Protocol="sqs", Endpoint=queue_arn)
    assert code(error) == "InvalidParameter"


def test_publish_batch(sns: Any, sqs: Any, name: Callable[..., str]) -> None:
    arn = sns.create_topic(Name=name())["TopicArn"]
    url, queue_arn = queue(sqs, name())
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    result = sns.publish_batch(
        TopicArn=arn,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "one"},
            {"Id": "b", "Message": ""},
            {"Id": "c", "Message": "two"},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["a", "c"]
    assert result["Failed"] == [
        {
            "Id": "b",
            "Code": "InvalidParameter",
            "Message": "Invalid parameter: Empty message",
            "SenderFault": True,
        }
    ]
    assert sorted(m["Body"] for m in receive_all(sqs, url)) == ["one", "two"]
    with pytest.raises(sns.exceptions.TooManyEntriesInBatchRequestException):
        sns.publish_batch(
            TopicArn=arn, PublishBatchRequestEntries=[{"Id": str(i), "Message": "x"} for i in range(11)]
        )
    with pytest.raises(sns.exceptions.BatchEntryIdsNotDistinctException):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}] * 2)


def test_pending_subscriptions_and_recorded_deliveries(
    sns: Any, name: Callable[..., str], server: ServerProcess
) -> None:
    arn = sns.create_topic(Name=name())["TopicArn"]
    assert (
        sns.subscribe(TopicArn=arn, Protocol="https", Endpoint="https://example.invalid/hook")[
            "SubscriptionArn"
        ]
        == "pending confirmation"
    )
    email = sns.subscribe(
        TopicArn=arn, Protocol="email", Endpoint="someone@example.com", ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    assert email.startswith(arn + ":")
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert {s["SubscriptionArn"] for s in listed} == {"PendingConfirmation"}
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsPending"] == "2"
    deliveries = json.loads(http_request(server.port, "GET", "/_shoal/sns/deliveries").body)["deliveries"]
    [confirmation] = [d for d in deliveries if d["subscriptionArn"] == email]
    token = json.loads(confirmation["message"])["Token"]
    with pytest.raises(ClientError) as error:
        sns.confirm_subscription(TopicArn=arn, Token="bogus")
    assert code(error) == "InvalidParameter"
    assert sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"] == email
    sns.publish(TopicArn=arn, Message="to the inbox")
    deliveries = json.loads(http_request(server.port, "GET", "/_shoal/sns/deliveries").body)["deliveries"]
    assert deliveries[-1]["message"] == "to the inbox" and deliveries[-1]["protocol"] == "email"
    with pytest.raises(ClientError) as error:
        sns.subscribe(TopicArn=arn, Protocol="carrier-pigeon", Endpoint="x")
    assert code(error) == "InvalidParameter"


def test_unsupported_families_answer_errors(sns: Any) -> None:
    with pytest.raises(ClientError) as error:
        sns.get_sms_attributes()
    assert code(error) == "AuthorizationError"
    with pytest.raises(ClientError) as error:
        sns.create_platform_application(Name="a", Platform="GCM", Attributes={"PlatformCredential": "x"})
    assert code(error) == "InvalidParameter"
    assert sns.list_platform_applications()["PlatformApplications"] == []


def test_publish_to_100_queues_is_in_every_queue_on_return(
    sns: Any, sqs: Any, name: Callable[..., str]
) -> None:
    arn = sns.create_topic(Name=name())["TopicArn"]
    urls = []
    for _ in range(100):
        url, queue_arn = queue(sqs, name())
        sns.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
        urls.append(url)
    sns.publish(TopicArn=arn, Message="everyone")
    for url in urls:
        assert [m["Body"] for m in receive_all(sqs, url)] == ["everyone"]


def test_cross_account_queue(sns: Any, server: ServerProcess, name: Callable[..., str]) -> None:
    other = boto3.client(
        "sqs",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="111111111111",
        aws_secret_access_key="x",
        config=NO_RETRIES,
    )
    url, queue_arn = queue(other, name())
    arn = sns.create_topic(Name=name())["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "true"
    [message] = receive_all(other, url)
    other.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    confirmation = json.loads(message["Body"])
    assert confirmation["Type"] == "SubscriptionConfirmation"
    # The queue's owner follows the SubscribeURL (an unsigned GET), as with AWS.
    subscribe_url = confirmation["SubscribeURL"].removeprefix(server.endpoint)
    assert http_request(server.port, "GET", subscribe_url).status == 200
    assert (
        sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    )
    sns.publish(TopicArn=arn, Message="across accounts")
    assert json.loads(receive_all(other, url)[0]["Body"])["Message"] == "across accounts"
