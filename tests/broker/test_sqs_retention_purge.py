"""Retention (messages older than MessageRetentionPeriod disappear) and PurgeQueue
(everything goes; a second purge within 60 s is PurgeQueueInProgress)."""

from __future__ import annotations

import pytest
from sqs_client import Sqs

from broker.clock import ManualClock
from broker.core import Broker
from broker.errors import PurgeQueueInProgress, QueueDoesNotExist
from broker.sqs import api


async def test_expired_messages_are_not_received(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create(MessageRetentionPeriod="60")
    await sqs.send(url, "old")
    clock.advance(60)
    assert await sqs.receive(url) == []


async def test_message_just_inside_retention_is_received(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create(MessageRetentionPeriod="60")
    await sqs.send(url, "young")
    clock.advance(59.999)
    assert [m.body for m in await sqs.receive(url)] == ["young"]


async def test_expired_messages_do_not_hide_fresh_ones(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create(MessageRetentionPeriod="60")
    for i in range(3):
        await sqs.send(url, f"old{i}")
    clock.advance(50)
    await sqs.send(url, "fresh")
    clock.advance(20)
    assert [m.body for m in await sqs.receive(url, max_messages=1)] == ["fresh"]


async def test_sweep_removes_expired_messages_and_they_are_not_counted(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    url = await sqs.create(MessageRetentionPeriod="60")
    for i in range(5):
        await sqs.send(url, str(i))
    clock.advance(30)
    await sqs.send(url, "fresh")
    clock.advance(30)
    assert await broker.sqs.sweep() == 5
    assert await sqs.counts(url) == (1, 0, 0)
    assert [m.body for m in await sqs.receive(url)] == ["fresh"]


async def test_expired_in_flight_message_is_never_received_again(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    url = await sqs.create(MessageRetentionPeriod="60", VisibilityTimeout="50")
    await sqs.send(url, "x")
    assert await sqs.receive(url)
    clock.advance(60)
    await broker.sqs.sweep()
    assert await sqs.receive(url) == []
    assert await sqs.counts(url) == (0, 0, 0)


async def test_shorter_retention_applies_to_messages_already_there(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    clock.advance(120)
    await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={"MessageRetentionPeriod": "60"}))
    assert await sqs.receive(url) == []


async def test_purge_deletes_every_message(sqs: Sqs) -> None:
    url = await sqs.create()
    for i in range(3):
        await sqs.send(url, str(i))
    await sqs.send(url, "delayed", delay_seconds=60)
    [held] = await sqs.receive(url, max_messages=1)
    await sqs.call(api.PurgeQueue(queue_url=url))
    assert await sqs.counts(url) == (0, 0, 0)
    assert await sqs.receive(url) == []
    await sqs.delete(url, held.receipt_handle)  # still a valid handle: deleting succeeds


async def test_messages_sent_after_purge_are_kept(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.send(url, "before")
    await sqs.call(api.PurgeQueue(queue_url=url))
    await sqs.send(url, "after")
    assert [m.body for m in await sqs.receive(url)] == ["after"]


async def test_second_purge_within_60_seconds_is_in_progress(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    await sqs.call(api.PurgeQueue(queue_url=url))
    clock.advance(59.999)
    with pytest.raises(PurgeQueueInProgress) as caught:
        await sqs.call(api.PurgeQueue(queue_url=url))
    assert caught.value.status == 403
    clock.advance(0.001)
    await sqs.call(api.PurgeQueue(queue_url=url))


async def test_purge_interval_is_per_queue(sqs: Sqs) -> None:
    first = await sqs.create("a")
    second = await sqs.create("b")
    await sqs.call(api.PurgeQueue(queue_url=first))
    await sqs.call(api.PurgeQueue(queue_url=second))


async def test_purge_of_missing_queue(sqs: Sqs) -> None:
    with pytest.raises(QueueDoesNotExist):
        await sqs.call(api.PurgeQueue(queue_url="http://localhost:4566/000000000000/missing"))


async def test_sweep_finds_expired_messages_wherever_they_are_in_the_index(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    # The oldest message comes back from flight behind newer ones, one more stays in flight,
    # one is delayed past the end of its retention: the sweep goes by send order, not ready order.
    url = await sqs.create(MessageRetentionPeriod="60", VisibilityTimeout="10")
    await sqs.send(url, "returned")
    await sqs.send(url, "in-flight")
    await sqs.send(url, "delayed", delay_seconds=900)
    [returned] = await sqs.receive(url, max_messages=1)
    clock.advance(20)  # "returned" is visible again, now at the back of the ready order
    await sqs.send(url, "fresh")
    [in_flight] = await sqs.receive(url, max_messages=1, visibility_timeout=600)
    assert in_flight.body == "in-flight"
    clock.advance(45)  # the first three are past 60 s; "fresh" is not
    assert await broker.sqs.sweep() == 3
    assert await sqs.counts(url) == (1, 0, 0)
    assert [m.body for m in await sqs.receive(url)] == ["fresh"]
    await sqs.delete(url, in_flight.receipt_handle)  # deleting an expired message still succeeds
    await sqs.delete(url, returned.receipt_handle)
