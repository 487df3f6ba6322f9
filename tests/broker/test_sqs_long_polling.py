"""Long polling: a waiting ReceiveMessage answers as soon as a message becomes
visible (a send, ChangeMessageVisibility to 0, a delay ending), and each waiter
gets distinct messages.  Waits are real time; the tests wait for the event,
never for the poll to time out (except one 1-second check)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqs_client import Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker
from broker.sqs import api

PROMPT = 2.0
"""Seconds within which a woken long-poll must answer (far below its 20 s wait)."""


async def waiting(broker: Broker, name: str, count: int = 1) -> None:
    """Return once ``count`` receivers are parked on queue ``name``."""
    queue = broker.sqs.rt.registry.find("000000000000", name)
    assert queue is not None
    for _ in range(1000):
        if sum(not waiter.done() for waiter in queue.waiters) >= count:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{count} receivers never started waiting")


def long_poll(sqs: Sqs, url: str, max_messages: int = 1) -> asyncio.Task[list[api.Message]]:
    return asyncio.create_task(sqs.receive(url, max_messages=max_messages, wait_time_seconds=20))


async def test_waiting_receive_is_woken_by_a_send(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    receiver = long_poll(sqs, url)
    await waiting(broker, "q")
    started = time.monotonic()
    await sqs.send(url, "wake up")
    messages = await asyncio.wait_for(receiver, PROMPT)
    assert [m.body for m in messages] == ["wake up"]
    assert time.monotonic() - started < PROMPT


async def test_queue_receive_wait_time_is_the_default(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q", ReceiveMessageWaitTimeSeconds="20")
    receiver = asyncio.create_task(sqs.receive(url))
    await waiting(broker, "q")
    await sqs.send(url, "x")
    assert len(await asyncio.wait_for(receiver, PROMPT)) == 1


async def test_wait_time_zero_overrides_queue_default(sqs: Sqs) -> None:
    url = await sqs.create("q", ReceiveMessageWaitTimeSeconds="20")
    assert await asyncio.wait_for(sqs.receive(url, wait_time_seconds=0), PROMPT) == []


async def test_waiting_receive_is_woken_by_change_visibility_zero(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    await sqs.send(url, "x")
    [held] = await sqs.receive(url)
    receiver = long_poll(sqs, url)
    await waiting(broker, "q")
    await sqs.change_visibility(url, held.receipt_handle, 0)
    [again] = await asyncio.wait_for(receiver, PROMPT)
    assert again.message_id == held.message_id


async def test_waiting_receive_gets_a_delayed_message_when_its_delay_ends(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    url = await sqs.create("q")
    await sqs.send(url, "later", delay_seconds=5)
    receiver = long_poll(sqs, url)
    await waiting(broker, "q")
    clock.advance(5)
    assert [m.body for m in await asyncio.wait_for(receiver, PROMPT)] == ["later"]


async def test_concurrent_waiters_each_get_distinct_messages(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    receivers = [long_poll(sqs, url) for _ in range(8)]
    await waiting(broker, "q", 8)
    await sqs.call(
        api.SendMessageBatch(
            queue_url=url,
            entries=[api.SendMessageBatchRequestEntry(id=str(i), message_body=str(i)) for i in range(8)],
        )
    )
    results = await asyncio.wait_for(asyncio.gather(*receivers), PROMPT)
    bodies = [m.body or "" for messages in results for m in messages]
    assert sorted(bodies) == [str(i) for i in range(8)]
    assert all(len(messages) == 1 for messages in results)


async def test_one_send_wakes_one_of_many_waiters(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    receivers = [long_poll(sqs, url) for _ in range(3)]
    await waiting(broker, "q", 3)
    await sqs.send(url, "only one")
    done, pending = await asyncio.wait(receivers, timeout=PROMPT, return_when=asyncio.FIRST_COMPLETED)
    assert [m.body for task in done for m in task.result()] == ["only one"]
    await asyncio.sleep(0.05)
    assert all(not task.done() for task in pending)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def test_waiter_collects_up_to_max_messages_already_there(sqs: Sqs) -> None:
    url = await sqs.create("q")
    for i in range(3):
        await sqs.send(url, str(i))
    messages = await asyncio.wait_for(sqs.receive(url, max_messages=10, wait_time_seconds=20), PROMPT)
    assert len(messages) == 3


async def test_empty_long_poll_returns_nothing_after_wait_time(sqs: Sqs) -> None:
    url = await sqs.create("q")
    started = time.monotonic()
    assert await sqs.receive(url, wait_time_seconds=1) == []
    assert 0.9 <= time.monotonic() - started < PROMPT


async def test_delete_queue_releases_waiting_receivers(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    receiver = long_poll(sqs, url)
    await waiting(broker, "q")
    await sqs.call(api.DeleteQueue(queue_url=url))
    assert await asyncio.wait_for(receiver, PROMPT) == []


async def test_close_releases_waiting_receivers(
    open_broker: Callable[[], Broker], ctx: RequestContext
) -> None:
    broker = open_broker()
    await broker.start()
    sqs = Sqs(broker, ctx)
    url = await sqs.create("q")
    receiver = long_poll(sqs, url)
    await waiting(broker, "q")
    await broker.close()
    assert await asyncio.wait_for(receiver, PROMPT) == []


async def test_waiter_is_woken_whoever_notices_a_delay_ended(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    url = await sqs.create("q")
    await sqs.send(url, "later", delay_seconds=5)
    receiver = long_poll(sqs, url)
    await waiting(broker, "q")
    clock.advance(5)
    await sqs.counts(url)  # GetQueueAttributes sees the delay is over before any timer does
    assert [m.body for m in await asyncio.wait_for(receiver, 0.5)] == ["later"]


async def test_sweep_noticing_a_delay_ended_wakes_waiter(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    url = await sqs.create("q")
    await sqs.send(url, "later", delay_seconds=5)
    receiver = long_poll(sqs, url)
    await waiting(broker, "q")
    clock.advance(5)
    await broker.sqs.sweep()
    assert [m.body for m in await asyncio.wait_for(receiver, 0.5)] == ["later"]


async def test_short_poll_taking_one_of_many_newly_visible_leaves_waiters_woken(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    url = await sqs.create("q")
    for i in range(3):
        await sqs.send(url, str(i), delay_seconds=5)
    receivers = [long_poll(sqs, url) for _ in range(2)]
    await waiting(broker, "q", 2)
    clock.advance(5)
    assert len(await sqs.receive(url, max_messages=1)) == 1
    results = await asyncio.wait_for(asyncio.gather(*receivers), 0.5)
    assert sorted(len(messages) for messages in results) == [1, 1]
