"""Regression tests for index/LMDB consistency bugs found in review: state
persisted by one path and rebuilt by another, and changes straddling a commit."""

from __future__ import annotations

from collections.abc import Callable

from sqs_client import Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker


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
