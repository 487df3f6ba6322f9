"""SNS at the broker level (real LMDB, manual clock, no HTTP): fan-out in one
commit, FIFO deduplication window, restart, and the errors of the core actions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqs_client import Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker
from broker.errors import InvalidParameter, NotFound
from broker.sns import api


async def sns(broker: Broker, ctx: RequestContext, request: object) -> Any:
    return await broker.dispatch("sns", request, ctx)


async def subscribed_queues(
    broker: Broker, sqs: Sqs, ctx: RequestContext, topic: str, count: int
) -> list[str]:
    urls = []
    for i in range(count):
        urls.append(await sqs.create(f"q{i}"))
        endpoint = f"arn:aws:sqs:us-east-1:{ctx.account_id}:q{i}"
        await sns(broker, ctx, api.Subscribe(topic_arn=topic, protocol="sqs", endpoint=endpoint))
    return urls


async def test_publish_is_one_commit_into_every_queue(broker: Broker, sqs: Sqs, ctx: RequestContext) -> None:
    topic = (await sns(broker, ctx, api.CreateTopic(name="t"))).topic_arn
    urls = await subscribed_queues(broker, sqs, ctx, topic, 5)
    before = broker.committer.writes
    await sns(broker, ctx, api.Publish(topic_arn=topic, message="hello", subject="s"))
    assert broker.committer.writes - before == 1  # one submission holds every queue's message
    for url in urls:
        [message] = await sqs.receive(url)
        envelope = json.loads(message.body)
        assert envelope["Message"] == "hello" and envelope["Subject"] == "s"


async def test_fifo_dedup_window_survives_restart_and_expires(
    broker: Broker, open_broker: Callable[[], Broker], clock: ManualClock, ctx: RequestContext
) -> None:
    topic = (
        await sns(broker, ctx, api.CreateTopic(name="t.fifo", attributes={"FifoTopic": "true"}))
    ).topic_arn
    publish = api.Publish(topic_arn=topic, message="m", message_group_id="g", message_deduplication_id="d")
    first = await sns(broker, ctx, publish)
    await broker.close()
    restarted = open_broker()
    await restarted.start()
    try:
        assert await sns(restarted, ctx, publish) == first
        clock.advance(5 * 60)
        later = await sns(restarted, ctx, publish)
        assert later.message_id != first.message_id
        assert int(later.sequence_number) > int(first.sequence_number)
    finally:
        await restarted.close()


async def test_topics_and_subscriptions_survive_restart(
    broker: Broker, open_broker: Callable[[], Broker], ctx: RequestContext, sqs: Sqs
) -> None:
    topic = (await sns(broker, ctx, api.CreateTopic(name="t", tags=[api.Tag(key="k", value="v")]))).topic_arn
    await subscribed_queues(broker, sqs, ctx, topic, 2)
    await broker.close()
    restarted = open_broker()
    await restarted.start()
    try:
        listed = await sns(restarted, ctx, api.ListSubscriptionsByTopic(topic_arn=topic))
        assert len(listed.subscriptions) == 2
        tags = await sns(restarted, ctx, api.ListTagsForResource(resource_arn=topic))
        assert tags.tags == [api.Tag(key="k", value="v")]
        await sns(restarted, ctx, api.Publish(topic_arn=topic, message="after restart"))
        [message] = await Sqs(restarted, ctx).receive(await Sqs(restarted, ctx).create("q0"))
        assert json.loads(message.body)["Message"] == "after restart"
    finally:
        await restarted.close()


@pytest.mark.parametrize(
    ("request_", "error", "message"),
    [
        (api.CreateTopic(name="bad name"), InvalidParameter, "Invalid parameter: Topic Name"),
        (api.CreateTopic(name="t.fifo"), InvalidParameter, "Invalid parameter: Topic Name"),
        (
            api.GetTopicAttributes(topic_arn="arn:aws:sns:us-east-1:000000000000:none"),
            NotFound,
            "Topic does not exist",
        ),
        (
            api.Publish(topic_arn="arn:aws:sns:us-east-1:000000000000:none", message="x"),
            NotFound,
            "Topic does not exist",
        ),
    ],
)
async def test_errors(
    broker: Broker, ctx: RequestContext, request_: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        await sns(broker, ctx, request_)
    assert str(raised.value) == message


async def test_message_size_limit(broker: Broker, ctx: RequestContext) -> None:
    topic = (await sns(broker, ctx, api.CreateTopic(name="t"))).topic_arn
    await sns(broker, ctx, api.Publish(topic_arn=topic, message="x" * 262_144))
    with pytest.raises(InvalidParameter, match="Message too long"):
        await sns(broker, ctx, api.Publish(topic_arn=topic, message="x" * 262_145))


async def test_topic_quota_per_account_and_kind(
    broker: Broker, ctx: RequestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broker.errors import TopicLimitExceeded
    from broker.sns import management

    monkeypatch.setattr(management, "MAX_FIFO_TOPICS", 2)
    fifo = {"FifoTopic": "true"}
    for name in ("a.fifo", "b.fifo"):
        await sns(broker, ctx, api.CreateTopic(name=name, attributes=fifo))
    with pytest.raises(TopicLimitExceeded):
        await sns(broker, ctx, api.CreateTopic(name="c.fifo", attributes=fifo))
    await sns(broker, ctx, api.CreateTopic(name="a.fifo", attributes=fifo))  # idempotent: still fine
    await sns(broker, ctx, api.CreateTopic(name="standard"))  # the other kind has its own quota
    other = RequestContext(account_id="111111111111", host=ctx.host)
    await sns(broker, other, api.CreateTopic(name="c.fifo", attributes=fifo))  # and each account


async def test_filter_policy_quota_per_topic(
    broker: Broker, sqs: Sqs, ctx: RequestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broker.errors import FilterPolicyLimitExceeded
    from broker.sns import subscribing

    monkeypatch.setattr(subscribing, "MAX_FILTER_POLICIES_PER_TOPIC", 1)
    topic = (await sns(broker, ctx, api.CreateTopic(name="t"))).topic_arn
    policy = {"FilterPolicy": '{"k": ["v"]}'}
    for name in ("q0", "q1"):
        await sqs.create(name)
    endpoint = f"arn:aws:sqs:us-east-1:{ctx.account_id}:"
    await sns(
        broker,
        ctx,
        api.Subscribe(topic_arn=topic, protocol="sqs", endpoint=endpoint + "q0", attributes=policy),
    )
    with pytest.raises(FilterPolicyLimitExceeded):
        await sns(
            broker,
            ctx,
            api.Subscribe(topic_arn=topic, protocol="sqs", endpoint=endpoint + "q1", attributes=policy),
        )
    plain = await sns(
        broker,
        ctx,
        api.Subscribe(
            topic_arn=topic, protocol="sqs", endpoint=endpoint + "q1", return_subscription_arn=True
        ),
    )
    with pytest.raises(FilterPolicyLimitExceeded):
        await sns(
            broker,
            ctx,
            api.SetSubscriptionAttributes(
                subscription_arn=plain.subscription_arn,
                attribute_name="FilterPolicy",
                attribute_value='{"k": ["v"]}',
            ),
        )


async def test_a_topic_raised_above_256_kib_takes_only_sqs_lambda_and_firehose(
    broker: Broker, sqs: Sqs, ctx: RequestContext
) -> None:
    topic = (await sns(broker, ctx, api.CreateTopic(name="big"))).topic_arn
    await sqs.create("q0")
    endpoint = f"arn:aws:sqs:us-east-1:{ctx.account_id}:q0"
    await sns(broker, ctx, api.Subscribe(topic_arn=topic, protocol="sqs", endpoint=endpoint))
    raise_size = api.SetTopicAttributes(
        topic_arn=topic, attribute_name="MaximumMessageSize", attribute_value="1048576"
    )
    await sns(broker, ctx, raise_size)
    with pytest.raises(InvalidParameter, match="only sqs, lambda and firehose"):
        await sns(broker, ctx, api.Subscribe(topic_arn=topic, protocol="email", endpoint="a@example.com"))
    big = "x" * 500_000
    await sns(broker, ctx, api.Publish(topic_arn=topic, message=big))
    [message] = await sqs.receive(await sqs.create("q0"))
    assert json.loads(message.body)["Message"] == big


async def test_a_topic_with_email_subscribers_cannot_be_raised_above_256_kib(
    broker: Broker, ctx: RequestContext
) -> None:
    topic = (await sns(broker, ctx, api.CreateTopic(name="mixed"))).topic_arn
    await sns(broker, ctx, api.Subscribe(topic_arn=topic, protocol="email", endpoint="a@example.com"))
    with pytest.raises(InvalidParameter, match="not email"):
        await sns(
            broker,
            ctx,
            api.SetTopicAttributes(
                topic_arn=topic, attribute_name="MaximumMessageSize", attribute_value="300000"
            ),
        )
    await sns(
        broker,
        ctx,
        api.SetTopicAttributes(
            topic_arn=topic, attribute_name="MaximumMessageSize", attribute_value="200000"
        ),
    )


async def test_a_publish_cancelled_while_its_commit_is_pending_still_reaches_every_queue(
    broker: Broker, sqs: Sqs, ctx: RequestContext
) -> None:
    # A client that disconnects mid-publish cancels its dispatch; the fan-out writes commit anyway,
    # so every queue must show the message (not hold it invisible until a restart).
    import asyncio

    topic = (await sns(broker, ctx, api.CreateTopic(name="t"))).topic_arn
    urls = await subscribed_queues(broker, sqs, ctx, topic, 3)
    publishing = asyncio.create_task(sns(broker, ctx, api.Publish(topic_arn=topic, message="m")))
    await asyncio.sleep(0)  # submitted to the committer, commit pending
    publishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await publishing
    await broker.committer.submit(())
    for url in urls:
        [message] = await sqs.receive(url)
        assert json.loads(message.body)["Message"] == "m"
