"""SNS to HTTP endpoints end to end: a real subscriber (http.server in a thread) and the real server.

The subscriber does what AWS tells HTTP subscribers to do: it takes the
SubscriptionConfirmation POST, verifies its signature with the certificate
fetched from SigningCertURL (AWS's algorithm, SHA1 or SHA256 by
SignatureVersion), visits SubscribeURL, then verifies every Notification.  It
can fail the next N POSTs with 500 to exercise retries (subscription
DeliveryPolicy with 1 s delays keeps the tests fast), and it can be stopped
while the server keeps retrying, killed and restarted.
"""

from __future__ import annotations

import base64
import itertools
import json
import queue
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from shoal_server import NO_RETRIES, ServerProcess, free_port

SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED["UnsubscribeConfirmation"] = SIGNED["SubscriptionConfirmation"]
FAST_RETRIES = {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 3}}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str
    status: int
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class Subscriber:
    """An HTTP endpoint on 127.0.0.1:port that records POSTs and answers 200 (or 500 while failing)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: queue.Queue[Received] = queue.Queue()
        self.fail_next = 0
        self.status_override: int | None = None
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sns/hook"

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                if owner.fail_next > 0:
                    owner.fail_next -= 1
                    status = 500
                else:
                    status = owner.status_override or 200
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.received.put(Received(self.path, headers, body, status, time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def next(self, timeout: float = 5.0) -> Received:
        return self.received.get(timeout=timeout)

    def nothing_within(self, seconds: float) -> bool:
        try:
            self.received.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


def verify(message: dict[str, Any]) -> None:
    """AWS's signature check, with the certificate fetched from SigningCertURL."""
    with urllib.request.urlopen(message["SigningCertURL"], timeout=5) as response:
        pem = response.read()
    key = x509.load_pem_x509_certificate(pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    text = "".join(f"{name}\n{message[name]}\n" for name in SIGNED[message["Type"]] if name in message)
    digest = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    key.verify(base64.b64decode(message["Signature"]), text.encode(), padding.PKCS1v15(), digest)


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
def subscriber() -> Iterator[Subscriber]:
    endpoint = Subscriber()
    endpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def name() -> Callable[[], str]:
    return lambda: f"http-{uuid.uuid4().hex[:12]}"


def subscribe_and_confirm(
    sns: Any, subscriber: Subscriber, topic_arn: str, **attributes: str
) -> tuple[str, Received]:
    """Subscribe the endpoint, verify the confirmation POST, visit SubscribeURL; the subscription ARN."""
    answer = sns.subscribe(
        TopicArn=topic_arn, Protocol="http", Endpoint=subscriber.url, Attributes=attributes
    )
    assert answer["SubscriptionArn"] == "pending confirmation"
    confirmation = subscriber.next()
    body = confirmation.json()
    assert confirmation.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert confirmation.headers["x-amz-sns-message-id"] == body["MessageId"]
    assert confirmation.headers["x-amz-sns-topic-arn"] == topic_arn
    assert confirmation.headers["content-type"] == "text/plain; charset=UTF-8"
    assert confirmation.headers["user-agent"] == "Amazon Simple Notification Service Agent"
    verify(body)
    with urllib.request.urlopen(body["SubscribeURL"], timeout=5) as response:
        assert response.status == 200
        document = response.read().decode()
    assert "<ConfirmSubscriptionResult>" in document
    arn = document.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    return arn, confirmation


@pytest.mark.parametrize("signature_version", ["1", "2"])
def test_confirm_then_notifications_with_retries(
    sns: Any, subscriber: Subscriber, name: Callable[[], str], signature_version: str
) -> None:
    topic_arn = sns.create_topic(Name=name(), Attributes={"SignatureVersion": signature_version})["TopicArn"]
    sub_arn, confirmation = subscribe_and_confirm(
        sns, subscriber, topic_arn, DeliveryPolicy=json.dumps(FAST_RETRIES)
    )
    assert confirmation.path == "/sns/hook"
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["minDelayTarget"] == 1

    subscriber.fail_next = 2
    message_id = sns.publish(TopicArn=topic_arn, Message="hello over http", Subject="s")["MessageId"]
    attempts = [subscriber.next() for _ in range(3)]
    assert [a.status for a in attempts] == [500, 500, 200]
    for attempt in attempts:
        assert attempt.headers["x-amz-sns-message-type"] == "Notification"
        assert attempt.headers["x-amz-sns-message-id"] == message_id
        assert attempt.headers["x-amz-sns-topic-arn"] == topic_arn
        assert attempt.headers["x-amz-sns-subscription-arn"] == sub_arn
        assert attempt.body == attempts[0].body  # a retry resends the same signed message
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    assert all(0.8 <= gap < 3.0 for gap in gaps), gaps
    body = attempts[-1].json()
    assert (body["Message"], body["Subject"], body["SignatureVersion"]) == (
        "hello over http",
        "s",
        signature_version,
    )
    verify(body)
    assert subscriber.nothing_within(1.2)  # delivered: no more attempts


def test_unsubscribe_confirmation_is_signed_and_its_subscribe_url_restores(
    sns: Any, subscriber: Subscriber, name: Callable[[], str]
) -> None:
    topic_arn = sns.create_topic(Name=name())["TopicArn"]
    sub_arn, _ = subscribe_and_confirm(sns, subscriber, topic_arn)
    sns.unsubscribe(SubscriptionArn=sub_arn)
    notice = subscriber.next()
    body = notice.json()
    assert notice.headers["x-amz-sns-message-type"] == body["Type"] == "UnsubscribeConfirmation"
    assert body["Message"].startswith(f"You have chosen to deactivate subscription {sub_arn}.")
    verify(body)
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []
    with urllib.request.urlopen(body["SubscribeURL"], timeout=5) as response:
        assert response.status == 200
    listed = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [entry["SubscriptionArn"] for entry in listed] == [sub_arn]
    sns.publish(TopicArn=topic_arn, Message="back")
    assert subscriber.next().json()["Message"] == "back"


def test_raw_delivery_and_4xx_is_not_retried(
    sns: Any, subscriber: Subscriber, name: Callable[[], str]
) -> None:
    topic_arn = sns.create_topic(Name=name())["TopicArn"]
    subscribe_and_confirm(
        sns, subscriber, topic_arn, RawMessageDelivery="true", DeliveryPolicy=json.dumps(FAST_RETRIES)
    )
    subscriber.status_override = 404
    sns.publish(TopicArn=topic_arn, Message="raw body")
    received = subscriber.next()
    assert received.body == "raw body"
    assert received.headers["x-amz-sns-rawdelivery"] == "true"
    assert subscriber.nothing_within(1.2)  # 404 counts as delivered, as on AWS


def test_exhausted_delivery_lands_in_the_dead_letter_queue(
    server: ServerProcess, sns: Any, sqs: Any, subscriber: Subscriber, name: Callable[[], str]
) -> None:
    dlq_url = sqs.create_queue(QueueName=name())["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic_arn = sns.create_topic(Name=name())["TopicArn"]
    policy = {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 1}}
    subscribe_and_confirm(
        sns,
        subscriber,
        topic_arn,
        DeliveryPolicy=json.dumps(policy),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}),
    )
    subscriber.fail_next = 100
    message_id = sns.publish(TopicArn=topic_arn, Message="undeliverable")["MessageId"]
    messages = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=10, MessageAttributeNames=["All"])[
        "Messages"
    ]
    [message] = messages
    assert json.loads(message["Body"])["MessageId"] == message_id
    assert set(message["MessageAttributes"]) == {"ErrorCode", "ErrorMessage", "RequestID"}
    assert [subscriber.next().status for _ in range(2)] == [500, 500]
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=5) as response:
        metrics = response.read().decode()
    counts = {
        line.split('"')[1]: float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("shoal_sns_deliveries_total{")
    }
    assert counts["dead_lettered"] >= 1 and counts["failed"] >= 2 and counts["attempted"] >= 3


def test_pending_delivery_survives_sigkill(
    server: ServerProcess, sns: Any, subscriber: Subscriber, name: Callable[[], str]
) -> None:
    topic_arn = sns.create_topic(Name=name())["TopicArn"]
    policy = {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 100}}
    subscribe_and_confirm(sns, subscriber, topic_arn, DeliveryPolicy=json.dumps(policy))
    subscriber.stop()  # the endpoint is down: connection refused, retried every second
    message_id = sns.publish(TopicArn=topic_arn, Message="survive a crash")["MessageId"]
    time.sleep(1.2)
    server.kill()
    server.restart()
    revived = Subscriber(subscriber.port)
    revived.start()
    try:
        received = revived.next(timeout=8)
        assert received.headers["x-amz-sns-message-id"] == message_id
        assert received.json()["Message"] == "survive a crash"
        verify(received.json())
        assert revived.nothing_within(1.2)
    finally:
        revived.stop()
