"""Hand-off: a send into a standard queue with parked long polls delivers to them in
the send's own commit (one fsync for both), and nothing else can tell."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable

import pytest
from sqs_client import Restart, Sqs

from broker.clock import ManualClock
from broker.core import Broker
from broker.sqs import api
from broker.sqs.queue import Queue
from storage.store import LmdbStore, Write

PROMPT = 2.0


def queue_of(broker: Broker, name: str = "q") -> Queue:
    queue = broker.sqs.rt.registry.find("000000000000", name)
    assert queue is not None
    return queue


async def parked(queue: Queue, count: int = 1) -> None:
    """Return once ``count`` long polls are parked as takers."""
    for _ in range(1000):
        if sum(not waiter.done() for waiter in queue.takers) >= count:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{count} takers never parked")


async def handed_off(queue: Queue) -> None:
    """Return once a send has handed a message to a taker (its commit not settled yet)."""
    while not queue.handing:
        await asyncio.sleep(0)


def send_now(broker: Broker, sqs: Sqs, url: str, queue: Queue, body: str) -> Awaitable[None]:
    """SendMessage's synchronous part (prepare, hand off, submit) run in this very callback."""
    sending = broker.sqs.sending
    defaults = sending._defaults(queue)
    prepared = sending._prepare(queue, api.SendMessage(queue_url=url, message_body=body), sqs.ctx, *defaults)
    return sending._commit(queue, [prepared], defaults[0])


def fail_doomed_writes(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every commit holding a write whose value contains ``doomed`` fail."""
    store: LmdbStore = broker.sqs.rt.store
    real_apply = store.apply

    def failing(writes: list[Write]) -> None:
        if any(b"doomed" in write[3] for write in writes):
            raise OSError("disk gone")
        real_apply(writes)

    monkeypatch.setattr(store, "apply", failing)


def long_poll(
    sqs: Sqs, url: str, max_messages: int = 1, wait_time_seconds: int = 20, **fields: object
) -> asyncio.Task[list[api.Message]]:
    return asyncio.create_task(
        sqs.receive(url, max_messages=max_messages, wait_time_seconds=wait_time_seconds, **fields)
    )


async def test_a_parked_long_poll_gets_the_message_in_the_sends_commit(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    queue = queue_of(broker)
    receiver = long_poll(sqs, url, message_system_attribute_names=["All"])
    await parked(queue)
    commits = broker.sqs.rt.committer.commits
    sent = await sqs.send(url, "straight through")
    [got] = await asyncio.wait_for(receiver, PROMPT)
    assert broker.sqs.rt.committer.commits == commits + 1  # one commit: the send and the receive
    assert (got.message_id, got.body, got.md5_of_body) == (
        sent.message_id,
        "straight through",
        sent.md5_of_message_body,
    )
    attributes = got.attributes or {}
    assert attributes["ApproximateReceiveCount"] == "1"
    assert attributes["ApproximateFirstReceiveTimestamp"] == attributes["SentTimestamp"]
    assert await sqs.attributes(
        url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"
    ) == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "1",
    }
    await sqs.delete(url, got.receipt_handle)
    assert await sqs.attributes(url, "ApproximateNumberOfMessagesNotVisible") == {
        "ApproximateNumberOfMessagesNotVisible": "0"
    }


async def test_a_handed_off_message_honours_the_takers_visibility_timeout(
    broker: Broker, sqs: Sqs, clock: ManualClock
) -> None:
    url = await sqs.create("q")
    receiver = long_poll(sqs, url, visibility_timeout=5)
    await parked(queue_of(broker))
    await sqs.send(url, "x")
    [first] = await asyncio.wait_for(receiver, PROMPT)
    clock.advance(4)
    assert await sqs.receive(url) == []
    clock.advance(1)
    [again] = await sqs.receive(url, message_system_attribute_names=["ApproximateReceiveCount"])
    assert again.message_id == first.message_id
    assert (again.attributes or {})["ApproximateReceiveCount"] == "2"


async def test_a_batch_is_shared_among_takers_up_to_their_limits(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    queue = queue_of(broker)
    receivers = [long_poll(sqs, url, max_messages=3) for _ in range(2)]
    await parked(queue, 2)
    entries = [api.SendMessageBatchRequestEntry(id=str(i), message_body=str(i)) for i in range(10)]
    await sqs.call(api.SendMessageBatch(queue_url=url, entries=entries))
    results = await asyncio.wait_for(asyncio.gather(*receivers), PROMPT)
    assert [len(messages) for messages in results] == [3, 3]
    rest = await sqs.receive(url, max_messages=10)
    bodies = sorted(m.body or "" for m in [*results[0], *results[1], *rest])
    assert bodies == sorted(str(i) for i in range(10))
    assert not queue.takers


async def test_the_hand_off_is_durable_as_a_receive(
    restartable: tuple[Sqs, Restart], clock: ManualClock
) -> None:
    sqs, restart = restartable
    url = await sqs.create("q")
    receiver = long_poll(sqs, url, visibility_timeout=30)
    await parked(queue_of(sqs.broker))
    await sqs.send(url, "x")
    [got] = await asyncio.wait_for(receiver, PROMPT)
    sqs = await restart()
    assert await sqs.receive(url) == []  # still in flight after the restart
    clock.advance(30)
    [again] = await sqs.receive(url, message_system_attribute_names=["ApproximateReceiveCount"])
    assert again.message_id == got.message_id
    assert (again.attributes or {})["ApproximateReceiveCount"] == "2"


async def test_a_taker_gone_before_the_commit_puts_the_message_back_unreceived(
    restartable: tuple[Sqs, Restart],
) -> None:
    sqs, restart = restartable
    url = await sqs.create("q")
    queue = queue_of(sqs.broker)
    receiver = long_poll(sqs, url)
    await parked(queue)
    send = asyncio.create_task(sqs.send(url, "orphan"))
    await handed_off(queue)  # the send has handed the message to the receiver, not yet committed
    receiver.cancel()
    await send
    await sqs.broker.sqs.rt.barrier()  # the put-back's own write
    [got] = await sqs.receive(url, message_system_attribute_names=["ApproximateReceiveCount"])
    assert (got.body, (got.attributes or {})["ApproximateReceiveCount"]) == ("orphan", "1")
    await sqs.change_visibility(url, got.receipt_handle, 0)
    sqs = await restart()
    [after] = await sqs.receive(url, message_system_attribute_names=["ApproximateReceiveCount"])
    assert (after.body, (after.attributes or {})["ApproximateReceiveCount"]) == ("orphan", "2")


async def test_a_failed_send_sends_its_takers_back_to_polling(
    broker: Broker, sqs: Sqs, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await sqs.create("q")
    queue = queue_of(broker)
    receiver = long_poll(sqs, url)
    await parked(queue)
    fail_doomed_writes(broker, monkeypatch)
    with pytest.raises(OSError):
        await sqs.send(url, "doomed")
    await parked(queue)  # polling again
    await sqs.send(url, "fine")
    [got] = await asyncio.wait_for(receiver, PROMPT)
    assert got.body == "fine"


@pytest.mark.parametrize("fields", [{"delay_seconds": 1}, {}])
async def test_fifo_queues_and_delayed_messages_are_not_handed_off(
    broker: Broker, sqs: Sqs, clock: ManualClock, fields: dict[str, object]
) -> None:
    fifo = not fields
    name = "q.fifo" if fifo else "q"
    url = await sqs.create(name, **({"FifoQueue": "true"} if fifo else {}))
    queue = queue_of(broker, name)
    receiver = long_poll(sqs, url)
    for _ in range(100):
        if queue.waiters:
            break
        await asyncio.sleep(0.001)
    assert len(queue.takers) == (0 if fifo else 1)
    extra = {"message_group_id": "g", "message_deduplication_id": "d"} if fifo else fields
    await sqs.send(url, "x", **extra)
    if not fifo:
        assert not receiver.done() and len(queue.takers) == 1  # delayed: still parked
        clock.advance(1)
    [got] = await asyncio.wait_for(receiver, PROMPT)
    assert got.body == "x"


async def test_a_taker_collects_every_send_of_one_loop_pass(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    queue = queue_of(broker)
    receiver = long_poll(sqs, url, max_messages=10)
    await parked(queue)
    commits = broker.sqs.rt.committer.commits
    await asyncio.gather(*(sqs.send(url, str(i)) for i in range(4)))  # four requests, one pass
    got = await asyncio.wait_for(receiver, PROMPT)
    assert sorted(m.body or "" for m in got) == ["0", "1", "2", "3"]
    assert broker.sqs.rt.committer.commits == commits + 1
    assert not queue.takers and not queue.waiters


async def test_a_taker_never_spans_two_commits(
    broker: Broker, sqs: Sqs, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send after its first send's hand-over goes elsewhere: were the taker to wait for a
    second commit, its wait could end between them and lose the first message for a
    visibility timeout."""
    url = await sqs.create("q", VisibilityTimeout="30")
    queue = queue_of(broker)
    receiver = long_poll(sqs, url, max_messages=10, wait_time_seconds=1)
    await parked(queue)
    rt = broker.sqs.rt
    store: LmdbStore = rt.store
    real_apply = store.apply
    first_committing, gate = threading.Event(), threading.Event()

    def slow(writes: list[Write]) -> None:
        if any(b"first" in write[3] for write in writes):
            first_committing.set()
        if any(b"second" in write[3] for write in writes):
            gate.wait(5)
        real_apply(writes)

    monkeypatch.setattr(store, "apply", slow)
    later: list[Awaitable[None]] = []
    loop = asyncio.get_running_loop()
    rt.committer.submit(())  # an earlier request of this pass: its hand-over is scheduled first

    def second() -> None:  # next pass: after the first commit's hand-over
        first_committing.wait(5)
        later.append(send_now(broker, sqs, url, queue, "second"))

    loop.call_soon(second)
    await send_now(broker, sqs, url, queue, "first")
    got = await receiver
    gate.set()
    await later[0]
    await rt.barrier()
    assert [m.body for m in got] == ["first"]
    [left] = await sqs.receive(url)
    assert left.body == "second"


async def test_a_put_back_during_shutdown_is_committed(restartable: tuple[Sqs, Restart]) -> None:
    sqs, restart = restartable
    url = await sqs.create("q", VisibilityTimeout="30")
    queue = queue_of(sqs.broker)
    receiver = long_poll(sqs, url)
    await parked(queue)
    send = asyncio.create_task(sqs.send(url, "orphan"))
    await handed_off(queue)
    receiver.cancel()
    sqs = await restart()  # the send commits during the close; its taker is gone
    assert send.done() and send.exception() is None
    got = await sqs.receive(url, message_system_attribute_names=["ApproximateReceiveCount"])
    assert [(m.body, (m.attributes or {})["ApproximateReceiveCount"]) for m in got] == [("orphan", "1")]


async def test_messages_being_handed_off_count_as_in_flight(
    broker: Broker, sqs: Sqs, monkeypatch: pytest.MonkeyPatch
) -> None:
    import broker.sqs.queue as queue_module

    monkeypatch.setattr(queue_module, "MAX_INFLIGHT", 2)
    url = await sqs.create("q")
    queue = queue_of(broker)
    receivers = [long_poll(sqs, url, max_messages=10, wait_time_seconds=1) for _ in range(3)]
    await parked(queue, 3)
    entries = [api.SendMessageBatchRequestEntry(id=str(i), message_body=str(i)) for i in range(10)]
    await asyncio.gather(*(sqs.call(api.SendMessageBatch(queue_url=url, entries=entries)) for _ in range(3)))
    await asyncio.gather(*receivers)
    assert len(queue.inflight) == 2
    assert queue.handing == 0


async def test_a_handed_off_message_reads_as_a_normal_receive(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    queue = queue_of(broker)
    attributes = {
        "a.b": api.MessageAttributeValue(data_type="String", string_value="1"),
        "c": api.MessageAttributeValue(data_type="Number", string_value="2"),
    }
    fields: dict[str, object] = {
        "message_system_attribute_names": ["All"],
        "message_attribute_names": ["a.*"],
    }
    receiver = long_poll(sqs, url, **fields)
    await parked(queue)
    await sqs.send(url, "x", message_attributes=attributes)
    [handed] = await asyncio.wait_for(receiver, PROMPT)
    await sqs.send(url, "x", message_attributes=attributes)
    [normal] = await sqs.receive(url, **fields)
    assert set(handed.attributes or {}) == set(normal.attributes or {})
    assert handed.message_attributes == normal.message_attributes == {"a.b": attributes["a.b"]}
    assert handed.md5_of_message_attributes == normal.md5_of_message_attributes
    assert handed.md5_of_body == normal.md5_of_body


async def test_a_taker_keeps_what_the_sends_that_committed_gave_it(
    broker: Broker, sqs: Sqs, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await sqs.create("q")
    queue = queue_of(broker)
    receiver = long_poll(sqs, url, max_messages=10)
    await parked(queue)
    fail_doomed_writes(broker, monkeypatch)
    results = await asyncio.gather(
        sqs.send(url, "doomed"), sqs.send(url, "good"), sqs.send(url, "good2"), return_exceptions=True
    )
    assert isinstance(results[0], OSError)
    got = await asyncio.wait_for(receiver, PROMPT)
    assert sorted(m.body or "" for m in got) == ["good", "good2"]
    assert not queue.takers and queue.handing == 0


async def test_a_zero_visibility_taker_leaves_the_message_visible(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    receiver = long_poll(sqs, url, visibility_timeout=0)
    await parked(queue_of(broker))
    await sqs.send(url, "x")
    [got] = await asyncio.wait_for(receiver, PROMPT)
    assert [m.message_id for m in await sqs.receive(url)] == [got.message_id]


@pytest.mark.parametrize("action", [api.PurgeQueue, api.DeleteQueue])
async def test_purge_or_delete_during_a_hand_off_leaves_nothing(
    broker: Broker, sqs: Sqs, action: type
) -> None:
    url = await sqs.create("q")
    queue = queue_of(broker)
    receiver = long_poll(sqs, url, wait_time_seconds=1)
    await parked(queue)
    send = asyncio.create_task(sqs.send(url, "x"))
    await handed_off(queue)
    await sqs.call(action(queue_url=url))
    await send
    assert await asyncio.wait_for(receiver, 3) == []
    if action is api.PurgeQueue:
        assert await sqs.receive(url) == []
