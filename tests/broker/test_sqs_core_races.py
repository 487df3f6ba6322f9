"""Regression tests for index/LMDB consistency bugs found in review: state
persisted by one path and rebuilt by another, and changes straddling a commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest
from sqs_client import Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker
from storage.store import Write


async def test_fifo_change_visibility_keeps_the_group_across_a_restart(
    open_broker: Callable[[], Broker], ctx: RequestContext, clock: ManualClock
) -> None:
    broker = open_broker()
    await broker.start()
    sqs = Sqs(broker, ctx)
    url = await sqs.create("q.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    await sqs.send(url, "a", message_group_id="g")
    await sqs.send(url, "b", message_group_id="g")
    [first] = await sqs.receive(url, 1)
    await sqs.change_visibility(url, first.receipt_handle, 60)
    await broker.close()
    broker = open_broker()
    await broker.start()  # the persisted state must still name the message's group
    sqs = Sqs(broker, ctx)
    try:
        assert await sqs.receive(url) == []  # the group is still locked by "a" in flight
        clock.advance(61)
        assert [m.body for m in await sqs.receive(url)] == ["a", "b"]
    finally:
        await broker.close()


class _FailingCommits:
    """Makes every LMDB commit of ``broker`` fail while ``on`` (a full disk, an I/O error)."""

    def __init__(self, broker: Broker) -> None:
        self.on = False
        store = broker.store
        real_apply = store.apply

        def apply(writes: Sequence[Write]) -> None:
            if self.on:
                raise OSError("disk full")
            real_apply(writes)

        store.apply = apply  # type: ignore[method-assign]


async def test_a_fifo_send_whose_commit_failed_is_not_a_duplicate_of_its_retry(
    broker: Broker, sqs: Sqs
) -> None:
    url = await sqs.create("q.fifo", FifoQueue="true")
    failing = _FailingCommits(broker)
    failing.on = True
    with pytest.raises(OSError):
        await sqs.send(url, "a", message_group_id="g", message_deduplication_id="d")
    failing.on = False
    retried = await sqs.send(url, "a", message_group_id="g", message_deduplication_id="d")
    [received] = await sqs.receive(url)  # the retry was stored, not answered as a duplicate of nothing
    assert received.message_id == retried.message_id


async def test_sequence_numbers_are_not_reused_after_a_failed_commit_and_a_restart(
    open_broker: Callable[[], Broker], ctx: RequestContext
) -> None:
    broker = open_broker()
    await broker.start()
    sqs = Sqs(broker, ctx)
    url = await sqs.create("q.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    failing = _FailingCommits(broker)
    failing.on = True
    with pytest.raises(OSError):
        await sqs.send(url, "lost", message_group_id="g")  # its commit carried the seq high-water mark
    failing.on = False
    first = await sqs.send(url, "a", message_group_id="g")
    [message] = await sqs.receive(url)
    await sqs.delete(url, message.receipt_handle)
    await broker.close()
    broker = open_broker()
    await broker.start()
    try:
        later = await Sqs(broker, ctx).send(url, "b", message_group_id="g")
        assert int(later.sequence_number or 0) > int(first.sequence_number or 0)
    finally:
        await broker.close()


async def test_a_send_cancelled_while_its_commit_is_pending_still_indexes_the_message(
    broker: Broker, sqs: Sqs
) -> None:
    # A client that disconnects mid-request cancels its dispatch; the submitted writes commit anyway,
    # so the message must not be stored yet invisible until the next restart.
    url = await sqs.create()
    sending = asyncio.create_task(sqs.send(url, "a"))
    await asyncio.sleep(0)  # submitted to the committer, commit pending
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    await broker.committer.submit(())  # the send's commit is durable
    assert [m.body for m in await sqs.receive(url)] == ["a"]


async def test_a_dead_letter_move_whose_receive_was_cancelled_reaches_the_target_index(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    dlq = await sqs.create("dlq")
    arn = (await sqs.attributes(dlq, "QueueArn"))["QueueArn"]
    url = await sqs.create(
        "q", VisibilityTimeout="1", RedrivePolicy=f'{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"1"}}'
    )
    await sqs.send(url, "a")
    assert len(await sqs.receive(url)) == 1
    clock.advance(2)
    receiving = asyncio.create_task(sqs.receive(url))  # moves "a" to the dead-letter queue
    await asyncio.sleep(0)
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving
    await broker.committer.submit(())
    assert [m.body for m in await sqs.receive(dlq)] == ["a"]


async def test_a_dead_letter_move_whose_commit_failed_leaves_the_message_visible_in_its_source(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    dlq = await sqs.create("dlq")
    arn = (await sqs.attributes(dlq, "QueueArn"))["QueueArn"]
    url = await sqs.create(
        "q", VisibilityTimeout="1", RedrivePolicy=f'{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"1"}}'
    )
    await sqs.send(url, "a")
    assert len(await sqs.receive(url)) == 1
    clock.advance(2)
    failing = _FailingCommits(broker)
    failing.on = True
    with pytest.raises(OSError):
        await sqs.receive(url)  # the move to the dead-letter queue cannot commit
    failing.on = False
    assert (await sqs.counts(url))[0] == 1  # still the source's, and visible (not lost until a restart)
    assert await sqs.receive(dlq) == []
    assert await sqs.receive(url) == []  # the next receive moves it, now for real
    assert [m.body for m in await sqs.receive(dlq)] == ["a"]
