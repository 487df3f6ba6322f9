"""SNS delivery to HTTP/S endpoints at the broker level: a fake poster, a manual clock.

The confirmation request and its token, notifications (enveloped and raw)
with AWS's headers, the retry schedule of each backoff function, which
statuses count as delivered (200-4xx), the dead-letter queue after the last
retry, the outbox across a restart, the throttle, DeliveryPolicy validation
and the effective policies.  Expected schedules are written out by hand.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqs_client import Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker, BrokerConfig
from broker.errors import InvalidParameter
from broker.sns import api
from broker.sns.delivery_policy import RetryPolicy
from broker.sns.outbox import PostResult

ENDPOINT = "http://subscriber.test:8080/hook"
BAD = "Invalid parameter: DeliveryPolicy: "
BAD_RETRY = BAD + "healthyRetryPolicy."


@dataclass
class Posted:
    url: str
    headers: dict[str, str]
    body: str
    at_ms: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakePoster:
    """Records every POST and answers from ``script`` (then ``default``); None means no answer."""

    clock: ManualClock
    script: list[int | None] = field(default_factory=list)
    default: int | None = 200
    requests: list[Posted] = field(default_factory=list)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(
        self, url: str, headers: Sequence[tuple[str, str]], body: bytes, timeout: float
    ) -> PostResult:
        assert timeout == 15.0
        self.requests.append(Posted(url, dict(headers), body.decode(), self.clock.now_ms()))
        self.event.set()
        status = self.script.pop(0) if self.script else self.default
        return PostResult(status, "" if status is not None else "connection refused")


@pytest.fixture
def poster(clock: ManualClock) -> FakePoster:
    return FakePoster(clock)


@pytest.fixture
def open_http_broker(tmp_path: Path, clock: ManualClock, poster: FakePoster) -> Callable[[], Broker]:
    def make() -> Broker:
        return Broker(BrokerConfig(data_dir=tmp_path / "data"), clock=clock, poster=poster)

    return make


@pytest.fixture
async def broker(open_http_broker: Callable[[], Broker]) -> AsyncIterator[Broker]:
    instance = open_http_broker()
    await instance.start()
    yield instance
    await instance.close()


async def sns(broker: Broker, ctx: RequestContext, request: object) -> Any:
    return await broker.dispatch("sns", request, ctx)


async def topic(broker: Broker, ctx: RequestContext, **attributes: str) -> str:
    arn: str = (await sns(broker, ctx, api.CreateTopic(name="t", attributes=attributes or None))).topic_arn
    return arn


async def confirmed_subscription(
    broker: Broker, ctx: RequestContext, poster: FakePoster, topic_arn: str, **attributes: str
) -> str:
    """Subscribe ENDPOINT, take the token from the confirmation POST, confirm; the subscription ARN."""
    await sns(
        broker,
        ctx,
        api.Subscribe(topic_arn=topic_arn, protocol="http", endpoint=ENDPOINT, attributes=attributes or None),
    )
    await broker.sns.outbox.run_due()
    confirmation = poster.requests[-1].json()
    assert confirmation["Type"] == "SubscriptionConfirmation"
    result = await sns(broker, ctx, api.ConfirmSubscription(topic_arn=topic_arn, token=confirmation["Token"]))
    poster.requests.clear()
    arn: str = result.subscription_arn
    return arn


def verify_signature(broker: Broker, message: dict[str, Any]) -> None:
    """AWS's documented check, independent of the broker's signer."""
    fields = {
        "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
        "SubscriptionConfirmation": [
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ],
    }.get(message["Type"], ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"])
    text = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message).encode()
    assert broker.sns.rt.signer is not None
    key = x509.load_pem_x509_certificate(broker.sns.rt.signer.certificate_pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    digest = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    key.verify(base64.b64decode(message["Signature"]), text, padding.PKCS1v15(), digest)


def policy(**retry: object) -> str:
    return json.dumps({"healthyRetryPolicy": retry})


async def attempts_at(broker: Broker, clock: ManualClock, poster: FakePoster, delays_s: list[float]) -> None:
    """After the first failed attempt, each retry happens exactly ``delay`` seconds after the previous."""
    for delay in delays_s:
        before = len(poster.requests)
        if delay:
            clock.advance(delay - 0.001)
            await broker.sns.outbox.run_due()
            assert len(poster.requests) == before, f"retry came before {delay} s"
            clock.advance(0.001)
        await broker.sns.outbox.run_due()
        assert len(poster.requests) == before + 1, f"no retry after {delay} s"


# -- the confirmation ------------------------------------------------------------------


async def test_subscribe_posts_a_signed_confirmation_and_the_token_confirms(
    broker: Broker, ctx: RequestContext, poster: FakePoster
) -> None:
    topic_arn = await topic(broker, ctx)
    answer = await sns(broker, ctx, api.Subscribe(topic_arn=topic_arn, protocol="http", endpoint=ENDPOINT))
    assert answer.subscription_arn == "pending confirmation"
    await broker.sns.outbox.run_due()
    [request] = poster.requests
    assert request.url == ENDPOINT
    body = request.json()
    assert list(body) == [
        "Type",
        "MessageId",
        "Token",
        "TopicArn",
        "Message",
        "SubscribeURL",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
    ]
    assert body["Message"] == (
        f"You have chosen to subscribe to the topic {topic_arn}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )
    assert body["SubscribeURL"].startswith("http://localhost:4566/?Action=ConfirmSubscription&TopicArn=")
    assert body["SubscribeURL"].endswith("&Token=" + body["Token"])
    assert body["SigningCertURL"] == "http://localhost:4566/_shoal/sns/cert.pem"
    assert request.headers == {
        "x-amz-sns-message-type": "SubscriptionConfirmation",
        "x-amz-sns-message-id": body["MessageId"],
        "x-amz-sns-topic-arn": topic_arn,
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
    }
    verify_signature(broker, body)
    confirmed = await sns(broker, ctx, api.ConfirmSubscription(topic_arn=topic_arn, token=body["Token"]))
    attributes = (
        await sns(broker, ctx, api.GetSubscriptionAttributes(subscription_arn=confirmed.subscription_arn))
    ).attributes
    assert attributes["PendingConfirmation"] == "false"
    assert broker.sns.outbox.statistics().pending == 0


async def test_confirmation_is_retried_too(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    poster.script = [500]
    topic_arn = await topic(broker, ctx)
    await sns(broker, ctx, api.Subscribe(topic_arn=topic_arn, protocol="http", endpoint=ENDPOINT))
    await broker.sns.outbox.run_due()
    await attempts_at(broker, clock, poster, [20])
    assert poster.requests[0].body == poster.requests[1].body  # same MessageId and Signature


# -- notifications -----------------------------------------------------------------------


async def test_notification_headers_and_signed_envelope(
    broker: Broker, ctx: RequestContext, poster: FakePoster
) -> None:
    topic_arn = await topic(broker, ctx, SignatureVersion="2")
    sub_arn = await confirmed_subscription(broker, ctx, poster, topic_arn)
    published = await sns(
        broker,
        ctx,
        api.Publish(
            topic_arn=topic_arn,
            message="hello",
            subject="greeting",
            message_attributes={"k": api.MessageAttributeValue(data_type="String", string_value="v")},
        ),
    )
    await broker.sns.outbox.run_due()
    [request] = poster.requests
    body = request.json()
    assert request.headers == {
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": published.message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "x-amz-sns-subscription-arn": sub_arn,
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
    }
    assert body["Type"] == "Notification" and body["MessageId"] == published.message_id
    assert body["Message"] == "hello" and body["Subject"] == "greeting"
    assert body["SignatureVersion"] == "2"
    assert body["UnsubscribeURL"].startswith("http://localhost:4566/?Action=Unsubscribe&SubscriptionArn=")
    assert body["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    verify_signature(broker, body)
    assert broker.sns.outbox.statistics().pending == 0


async def test_raw_delivery_posts_the_message_itself(
    broker: Broker, ctx: RequestContext, poster: FakePoster
) -> None:
    topic_arn = await topic(broker, ctx)
    await confirmed_subscription(broker, ctx, poster, topic_arn, RawMessageDelivery="true")
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message='{"a": 1}'))
    await broker.sns.outbox.run_due()
    [request] = poster.requests
    assert request.body == '{"a": 1}'
    assert request.headers["x-amz-sns-rawdelivery"] == "true"
    assert request.headers["x-amz-sns-message-type"] == "Notification"


async def test_request_policy_sets_the_content_type(
    broker: Broker, ctx: RequestContext, poster: FakePoster
) -> None:
    topic_arn = await topic(broker, ctx)
    await confirmed_subscription(
        broker,
        ctx,
        poster,
        topic_arn,
        DeliveryPolicy=json.dumps({"requestPolicy": {"headerContentType": "application/json"}}),
    )
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    await broker.sns.outbox.run_due()
    assert poster.requests[0].headers["Content-Type"] == "application/json"


# -- which answers are deliveries ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (200, False),
        (204, False),
        (301, False),
        (400, False),
        (404, False),
        (429, False),
        (499, False),
        (500, True),
        (503, True),
        (None, True),
    ],
)
async def test_200_to_4xx_is_delivered_5xx_and_no_answer_are_retried(
    broker: Broker,
    ctx: RequestContext,
    poster: FakePoster,
    clock: ManualClock,
    status: int | None,
    retried: bool,
) -> None:
    topic_arn = await topic(broker, ctx)
    await confirmed_subscription(broker, ctx, poster, topic_arn)
    poster.script = [status]
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    await broker.sns.outbox.run_due()
    clock.advance(20)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == (2 if retried else 1)
    assert broker.sns.outbox.statistics().pending == 0


# -- the retry schedule -------------------------------------------------------------------


async def test_default_policy_three_retries_twenty_seconds_apart_then_dropped(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    topic_arn = await topic(broker, ctx)
    await confirmed_subscription(broker, ctx, poster, topic_arn)
    poster.default = 500
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    await broker.sns.outbox.run_due()
    await attempts_at(broker, clock, poster, [20, 20, 20])
    clock.advance(3600)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == 4
    ids = {r.headers["x-amz-sns-message-id"] for r in poster.requests}
    assert len(ids) == 1  # a retry keeps the original MessageId
    stats = broker.sns.outbox.statistics()
    assert (stats.attempted, stats.failed, stats.dropped, stats.pending) == (4 + 1, 4, 1, 0)


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        ("linear", [2, 6, 10]),
        ("arithmetic", [2, 4, 10]),
        ("geometric", [2, 3, 10]),
        ("exponential", [2, 4.472, 10]),
    ],
)
async def test_backoff_functions_run_from_min_to_max(
    broker: Broker,
    ctx: RequestContext,
    poster: FakePoster,
    clock: ManualClock,
    backoff: str,
    delays: list[float],
) -> None:
    topic_arn = await topic(broker, ctx)
    dp = policy(minDelayTarget=2, maxDelayTarget=10, numRetries=3, backoffFunction=backoff)
    await confirmed_subscription(broker, ctx, poster, topic_arn, DeliveryPolicy=dp)
    poster.default = 503
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    await broker.sns.outbox.run_due()
    await attempts_at(broker, clock, poster, delays)
    clock.advance(100)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == 4


async def test_the_four_phases(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    """1 immediate, 1 pre-backoff at min, 3 backoff (linear min..max), 2 post-backoff at max."""
    topic_arn = await topic(broker, ctx)
    dp = policy(
        minDelayTarget=1,
        maxDelayTarget=5,
        numRetries=7,
        numNoDelayRetries=1,
        numMinDelayRetries=1,
        numMaxDelayRetries=2,
    )
    await confirmed_subscription(broker, ctx, poster, topic_arn, DeliveryPolicy=dp)
    poster.default = None
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    first = len(poster.requests)
    await broker.sns.outbox.run_due()  # the first attempt and the immediate retry
    assert len(poster.requests) == first + 2
    await attempts_at(broker, clock, poster, [1, 1, 3, 5, 5, 5])
    clock.advance(60)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == first + 8


def test_retry_policy_schedule_by_hand() -> None:
    exponential = RetryPolicy(min_delay=5, max_delay=260, num_retries=10, backoff="exponential")
    delays = [exponential.delay_ms(r) for r in range(1, 12)]
    assert delays[0] == 5000 and delays[9] == 260_000 and delays[10] is None
    assert delays == [*sorted(d for d in delays if d is not None), None]
    assert RetryPolicy().delay_ms(0) is None
    assert [RetryPolicy().delay_ms(r) for r in (1, 2, 3, 4)] == [20_000, 20_000, 20_000, None]
    single = RetryPolicy(min_delay=3, max_delay=9, num_retries=1)
    assert single.delay_ms(1) == 3000


async def test_retries_stop_at_an_hour_after_the_first_attempt(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    topic_arn = await topic(broker, ctx)
    dp = policy(minDelayTarget=3600, maxDelayTarget=3600, numRetries=5)
    await confirmed_subscription(broker, ctx, poster, topic_arn, DeliveryPolicy=dp)
    poster.default = 500
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    await broker.sns.outbox.run_due()
    await attempts_at(broker, clock, poster, [3600])
    clock.advance(3600)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == 2
    assert broker.sns.outbox.statistics().pending == 0


# -- after the last retry -----------------------------------------------------------------


async def test_exhausted_delivery_goes_to_the_dead_letter_queue(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    sqs = Sqs(broker, ctx)
    dlq = await sqs.create("dlq")
    topic_arn = await topic(broker, ctx)
    await confirmed_subscription(
        broker,
        ctx,
        poster,
        topic_arn,
        DeliveryPolicy=policy(minDelayTarget=1, maxDelayTarget=1, numRetries=1),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ctx.account_id}:dlq"}),
    )
    poster.default = 502
    published = await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="lost"))
    await broker.sns.outbox.run_due()
    assert await sqs.receive(dlq) == []
    clock.advance(1)
    await broker.sns.outbox.run_due()
    [message] = await sqs.receive(dlq, message_attribute_names=["All"])
    body = json.loads(message.body or "")
    assert body["MessageId"] == published.message_id and body["Message"] == "lost"
    assert message.body == poster.requests[-1].body
    attributes = message.message_attributes or {}
    assert set(attributes) == {"ErrorCode", "ErrorMessage", "RequestID"}
    assert "502" in (attributes["ErrorMessage"].string_value or "")
    stats = broker.sns.outbox.statistics()
    assert (stats.dead_lettered, stats.pending) == (1, 0)


async def test_unsubscribed_pending_delivery_is_dropped(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    topic_arn = await topic(broker, ctx)
    sub_arn = await confirmed_subscription(broker, ctx, poster, topic_arn)
    poster.script = [500]
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    await broker.sns.outbox.run_due()
    await sns(broker, ctx, api.Unsubscribe(subscription_arn=sub_arn))
    clock.advance(20)
    await broker.sns.outbox.run_due()
    # the failed notification is not retried; the endpoint only hears that it was unsubscribed
    assert [r.json()["Type"] for r in poster.requests] == ["Notification", "UnsubscribeConfirmation"]
    assert broker.sns.outbox.statistics().pending == 0


async def test_unsubscribe_confirmation_is_signed_and_its_token_restores_the_subscription(
    broker: Broker, ctx: RequestContext, poster: FakePoster
) -> None:
    topic_arn = await topic(broker, ctx)
    sub_arn = await confirmed_subscription(broker, ctx, poster, topic_arn)
    await sns(broker, ctx, api.Unsubscribe(subscription_arn=sub_arn))
    await broker.sns.outbox.run_due()
    [posted] = poster.requests
    message = posted.json()
    assert message["Type"] == "UnsubscribeConfirmation"
    assert dict(posted.headers)["x-amz-sns-message-type"] == "UnsubscribeConfirmation"
    assert "x-amz-sns-subscription-arn" not in dict(posted.headers)
    assert message["Message"].startswith(f"You have chosen to deactivate subscription {sub_arn}.")
    assert "Action=ConfirmSubscription" in message["SubscribeURL"]
    verify_signature(broker, message)
    listed = await sns(broker, ctx, api.ListSubscriptionsByTopic(topic_arn=topic_arn))
    assert listed.subscriptions == []
    restored = await sns(broker, ctx, api.ConfirmSubscription(topic_arn=topic_arn, token=message["Token"]))
    assert restored.subscription_arn == sub_arn
    listed = await sns(broker, ctx, api.ListSubscriptionsByTopic(topic_arn=topic_arn))
    assert [s.subscription_arn for s in listed.subscriptions] == [sub_arn]
    with pytest.raises(InvalidParameter):  # a restore token works once
        await sns(broker, ctx, api.ConfirmSubscription(topic_arn=topic_arn, token=message["Token"]))


# -- durability, throttle, the sender ------------------------------------------------------


async def test_outbox_survives_a_restart_mid_retry(
    broker: Broker,
    open_http_broker: Callable[[], Broker],
    ctx: RequestContext,
    poster: FakePoster,
    clock: ManualClock,
) -> None:
    topic_arn = await topic(broker, ctx)
    await confirmed_subscription(broker, ctx, poster, topic_arn)
    poster.script = [500]
    published = await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="keep me"))
    await broker.sns.outbox.run_due()
    await broker.close()
    restarted = open_http_broker()
    await restarted.start()
    try:
        assert restarted.sns.outbox.statistics().pending == 1
        clock.advance(19)
        await restarted.sns.outbox.run_due()
        assert len(poster.requests) == 1  # the retry time was remembered, not reset
        clock.advance(1)
        await restarted.sns.outbox.run_due()
        assert len(poster.requests) == 2
        assert poster.requests[1].json()["MessageId"] == published.message_id
        assert restarted.sns.outbox.statistics().pending == 0
    finally:
        await restarted.close()
    again = open_http_broker()
    await again.start()
    try:
        assert again.sns.outbox.statistics().pending == 0
    finally:
        await again.close()
        await broker.start()  # the fixture closes it


async def test_throttle_spaces_deliveries_to_one_subscription(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    topic_arn = await topic(broker, ctx)
    dp = json.dumps({"throttlePolicy": {"maxReceivesPerSecond": 2}})
    await confirmed_subscription(broker, ctx, poster, topic_arn, DeliveryPolicy=dp)
    for i in range(5):
        await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message=f"m{i}"))
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == 1
    clock.advance(0.5)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == 2
    clock.advance(1)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == 3  # at most one per half second, no burst after a pause
    clock.advance(1)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == 4
    clock.advance(1)
    await broker.sns.outbox.run_due()
    assert sorted(r.json()["Message"] for r in poster.requests) == [f"m{i}" for i in range(5)]


async def test_background_sender_wakes_when_the_manual_clock_advances(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    topic_arn = await topic(broker, ctx)
    await confirmed_subscription(broker, ctx, poster, topic_arn)
    poster.script = [500]
    poster.event.clear()
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    await asyncio.wait_for(poster.event.wait(), 2)  # sent without run_due
    poster.event.clear()
    clock.advance(20)
    await asyncio.wait_for(poster.event.wait(), 0.4)  # sooner than the 0.5 s real-time re-check
    assert len(poster.requests) == 2


# -- DeliveryPolicy: validation and effective policies ------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("nope", "Invalid parameter: DeliveryPolicy: failed to parse JSON."),
        ('{"bogus": 1}', "Invalid parameter: DeliveryPolicy: Unexpected JSON member: bogus"),
        (
            policy(numRetries=101),
            BAD_RETRY + "numRetries must be less than or equal to 100",
        ),
        (
            policy(minDelayTarget=0),
            BAD_RETRY + "minDelayTarget must be greater than or equal to 1",
        ),
        (
            policy(minDelayTarget=1, maxDelayTarget=3601),
            BAD_RETRY + "maxDelayTarget must be less than or equal to 3600",
        ),
        (
            policy(minDelayTarget=30, maxDelayTarget=20),
            BAD_RETRY + "maxDelayTarget must be greater than or equal to minDelayTarget",
        ),
        (
            policy(numRetries=2, numNoDelayRetries=2, numMaxDelayRetries=1),
            BAD_RETRY + "numRetries must be greater than or equal to "
            "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries",
        ),
        (
            policy(backoffFunction="cubic"),
            BAD_RETRY + "backoffFunction must be one of linear, arithmetic, geometric, exponential",
        ),
        (
            json.dumps({"throttlePolicy": {"maxReceivesPerSecond": 0}}),
            "Invalid parameter: DeliveryPolicy: throttlePolicy.maxReceivesPerSecond must be greater than or "
            "equal to 1",
        ),
    ],
)
async def test_subscription_delivery_policy_validation(
    broker: Broker, ctx: RequestContext, poster: FakePoster, document: str, message: str
) -> None:
    topic_arn = await topic(broker, ctx)
    sub_arn = await confirmed_subscription(broker, ctx, poster, topic_arn)
    with pytest.raises(InvalidParameter) as error:
        await sns(
            broker,
            ctx,
            api.SetSubscriptionAttributes(
                subscription_arn=sub_arn, attribute_name="DeliveryPolicy", attribute_value=document
            ),
        )
    assert error.value.message == message


async def test_topic_delivery_policy_validation_and_subscribe_prefix(
    broker: Broker, ctx: RequestContext
) -> None:
    topic_arn = await topic(broker, ctx)
    with pytest.raises(InvalidParameter) as error:
        await sns(
            broker,
            ctx,
            api.SetTopicAttributes(
                topic_arn=topic_arn,
                attribute_name="DeliveryPolicy",
                attribute_value=json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}),
            ),
        )
    assert error.value.message == (
        BAD + "http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100"
    )
    with pytest.raises(InvalidParameter) as error:
        await sns(
            broker,
            ctx,
            api.SetTopicAttributes(
                topic_arn=topic_arn, attribute_name="DeliveryPolicy", attribute_value='{"throttlePolicy": {}}'
            ),
        )
    assert error.value.message == "Invalid parameter: DeliveryPolicy: Unexpected JSON member: throttlePolicy"
    with pytest.raises(InvalidParameter) as error:
        await sns(
            broker,
            ctx,
            api.Subscribe(
                topic_arn=topic_arn,
                protocol="http",
                endpoint=ENDPOINT,
                attributes={"DeliveryPolicy": policy(numRetries=-1)},
            ),
        )
    assert error.value.message == (
        "Invalid parameter: Attributes Reason: DeliveryPolicy: healthyRetryPolicy.numRetries must be greater "
        "than or equal to 0"
    )


async def test_effective_delivery_policies(
    broker: Broker, ctx: RequestContext, poster: FakePoster, clock: ManualClock
) -> None:
    topic_policy = {
        "http": {
            "defaultHealthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 5, "maxDelayTarget": 5},
            "defaultThrottlePolicy": {"maxReceivesPerSecond": 7},
        }
    }
    topic_arn = await topic(broker, ctx, DeliveryPolicy=json.dumps(topic_policy))
    effective = json.loads(
        (await sns(broker, ctx, api.GetTopicAttributes(topic_arn=topic_arn))).attributes[
            "EffectiveDeliveryPolicy"
        ]
    )
    assert effective == {
        "http": {
            "defaultHealthyRetryPolicy": {
                "minDelayTarget": 5,
                "maxDelayTarget": 5,
                "numRetries": 1,
                "numMaxDelayRetries": 0,
                "numNoDelayRetries": 0,
                "numMinDelayRetries": 0,
                "backoffFunction": "linear",
            },
            "disableSubscriptionOverrides": False,
            "defaultThrottlePolicy": {"maxReceivesPerSecond": 7},
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        }
    }
    sub_arn = await confirmed_subscription(
        broker, ctx, poster, topic_arn, DeliveryPolicy=policy(numRetries=2)
    )
    attributes = (await sns(broker, ctx, api.GetSubscriptionAttributes(subscription_arn=sub_arn))).attributes
    sub_effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert sub_effective["healthyRetryPolicy"]["numRetries"] == 2  # the subscription's own
    assert sub_effective["healthyRetryPolicy"]["minDelayTarget"] == 5  # the topic's default
    assert sub_effective["throttlePolicy"] == {"maxReceivesPerSecond": 7}
    # The topic's policy governs retries: 5 s apart, two retries.
    poster.default = 500
    await sns(broker, ctx, api.Publish(topic_arn=topic_arn, message="m"))
    await broker.sns.outbox.run_due()
    await attempts_at(broker, clock, poster, [5, 5])
    clock.advance(60)
    await broker.sns.outbox.run_due()
    assert len(poster.requests) == 3


async def test_topic_can_disable_subscription_overrides(
    broker: Broker, ctx: RequestContext, poster: FakePoster
) -> None:
    topic_policy = {
        "http": {"defaultHealthyRetryPolicy": {"numRetries": 1}, "disableSubscriptionOverrides": True}
    }
    topic_arn = await topic(broker, ctx, DeliveryPolicy=json.dumps(topic_policy))
    sub_arn = await confirmed_subscription(
        broker, ctx, poster, topic_arn, DeliveryPolicy=policy(numRetries=9)
    )
    attributes = (await sns(broker, ctx, api.GetSubscriptionAttributes(subscription_arn=sub_arn))).attributes
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 1
