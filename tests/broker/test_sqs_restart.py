"""Restart: close the broker and reopen the same data dir; every acknowledged
change is there and the in-memory index is rebuilt from LMDB."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqs_client import Restart, Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker
from broker.errors import QueueDoesNotExist, ReceiptHandleIsInvalid, ServiceUnavailable
from broker.sqs import api
from storage.errors import DataDirLocked


async def test_queues_attributes_and_tags_survive(
    restartable: tuple[Sqs, Restart], clock: ManualClock
) -> None:
    sqs, restart = restartable
    url = await sqs.create("q", VisibilityTimeout="45", DelaySeconds="2")
    await sqs.call(api.TagQueue(queue_url=url, tags={"team": "core"}))
    await sqs.create("other")
    before = await sqs.attributes(url)
    sqs = await restart()
    assert await sqs.attributes(url) == before
    assert (await sqs.call(api.ListQueueTags(queue_url=url))).tags == {"team": "core"}
    assert len((await sqs.call(api.ListQueues())).queue_urls) == 2


async def test_messages_survive_in_send_order(restartable: tuple[Sqs, Restart]) -> None:
    sqs, restart = restartable
    url = await sqs.create()
    attributes = {"a": api.MessageAttributeValue(data_type="Number", string_value="7")}
    sent = [await sqs.send(url, f"m{i}", message_attributes=attributes) for i in range(5)]
    sqs = await restart()
    received = await sqs.receive(url, message_attribute_names=["All"])
    assert [m.body for m in received] == [f"m{i}" for i in range(5)]
    assert [m.message_id for m in received] == [s.message_id for s in sent]
    assert all(m.message_attributes == attributes for m in received)
    assert all(m.md5_of_message_attributes == sent[0].md5_of_message_attributes for m in received)


async def test_in_flight_stays_in_flight_until_its_deadline(
    restartable: tuple[Sqs, Restart], clock: ManualClock
) -> None:
    sqs, restart = restartable
    url = await sqs.create(VisibilityTimeout="30")
    await sqs.send(url, "x")
    [first] = await sqs.receive(url, attribute_names=["All"])
    clock.advance(10)
    sqs = await restart()
    assert await sqs.counts(url) == (0, 1, 0)
    assert await sqs.receive(url) == []
    clock.advance(20)
    [again] = await sqs.receive(url, attribute_names=["All"])
    assert again.message_id == first.message_id
    assert first.attributes is not None and again.attributes is not None
    assert again.attributes["ApproximateReceiveCount"] == "2"
    assert (
        again.attributes["ApproximateFirstReceiveTimestamp"]
        == first.attributes["ApproximateFirstReceiveTimestamp"]
    )


async def test_delayed_message_stays_delayed(restartable: tuple[Sqs, Restart], clock: ManualClock) -> None:
    sqs, restart = restartable
    url = await sqs.create()
    await sqs.send(url, "later", delay_seconds=60)
    sqs = await restart()
    assert await sqs.counts(url) == (0, 0, 1)
    clock.advance(60)
    assert [m.body for m in await sqs.receive(url)] == ["later"]


async def test_changed_visibility_survives(restartable: tuple[Sqs, Restart], clock: ManualClock) -> None:
    sqs, restart = restartable
    url = await sqs.create()
    await sqs.send(url, "x")
    [held] = await sqs.receive(url)
    await sqs.change_visibility(url, held.receipt_handle, 300)
    sqs = await restart()
    clock.advance(299)
    assert await sqs.receive(url) == []
    clock.advance(1)
    assert len(await sqs.receive(url)) == 1


async def test_visibility_zero_survives_as_visible(restartable: tuple[Sqs, Restart]) -> None:
    sqs, restart = restartable
    url = await sqs.create()
    await sqs.send(url, "x")
    [held] = await sqs.receive(url)
    await sqs.change_visibility(url, held.receipt_handle, 0)
    sqs = await restart()
    assert await sqs.counts(url) == (1, 0, 0)


async def test_deletes_stay_deleted(restartable: tuple[Sqs, Restart], clock: ManualClock) -> None:
    sqs, restart = restartable
    url = await sqs.create()
    for body in ("keep", "drop"):
        await sqs.send(url, body)
    messages = await sqs.receive(url)
    await sqs.delete(url, next(m.receipt_handle for m in messages if m.body == "drop"))
    sqs = await restart()
    clock.advance(30)
    assert [m.body for m in await sqs.receive(url)] == ["keep"]


async def test_deleted_queue_stays_deleted_and_purge_stays_purged(restartable: tuple[Sqs, Restart]) -> None:
    sqs, restart = restartable
    gone = await sqs.create("gone")
    await sqs.send(gone, "x")
    await sqs.call(api.DeleteQueue(queue_url=gone))
    purged = await sqs.create("purged")
    await sqs.send(purged, "x")
    await sqs.call(api.PurgeQueue(queue_url=purged))
    sqs = await restart()
    with pytest.raises(QueueDoesNotExist):
        await sqs.counts(gone)
    assert await sqs.counts(purged) == (0, 0, 0)


async def test_new_messages_after_restart_get_fresh_ids_and_handles(
    restartable: tuple[Sqs, Restart], clock: ManualClock
) -> None:
    sqs, restart = restartable
    url = await sqs.create()
    await sqs.send(url, "before")
    [old] = await sqs.receive(url)
    await sqs.delete(url, old.receipt_handle)
    sqs = await restart()
    await sqs.send(url, "after")
    [new] = await sqs.receive(url)
    assert new.body == "after"
    await sqs.delete(url, old.receipt_handle)  # names the deleted message, not the new one
    assert await sqs.counts(url) == (0, 1, 0)


async def test_recreated_queue_after_restart_rejects_old_handles(restartable: tuple[Sqs, Restart]) -> None:
    sqs, restart = restartable
    url = await sqs.create("q")
    await sqs.send(url, "x")
    [old] = await sqs.receive(url)
    await sqs.call(api.DeleteQueue(queue_url=url))
    sqs = await restart()
    await sqs.create("q")
    await sqs.send(url, "y")
    with pytest.raises(ReceiptHandleIsInvalid):
        await sqs.delete(url, old.receipt_handle)


async def test_a_second_broker_cannot_open_the_same_dir(
    broker: Broker, open_broker: Callable[[], Broker]
) -> None:
    with pytest.raises(DataDirLocked):
        await open_broker().start()


async def test_closed_broker_refuses_requests(open_broker: Callable[[], Broker], ctx: RequestContext) -> None:
    broker = open_broker()
    await broker.start()
    await broker.close()
    with pytest.raises(ServiceUnavailable):
        await broker.dispatch("sqs", api.ListQueues(), ctx)
