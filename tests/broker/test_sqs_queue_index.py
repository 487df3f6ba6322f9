"""The in-memory index of one queue (broker/sqs/queue.py), without storage or sockets."""

from __future__ import annotations

from broker.sqs.queue import COMPACT_AT, Queue
from storage.records import QueueRecord


def standard_queue() -> Queue:
    return Queue(QueueRecord(1, "000000000000", "q", "us-east-1", 0, 0, {}, {}))


def test_deleted_messages_do_not_pile_up_in_the_deadline_heap() -> None:
    queue = standard_queue()
    now, visibility = 1_000_000, 30_000
    for seq in range(20 * COMPACT_AT):
        queue.add(seq, now, now)
        [claimed] = queue.claim(1)
        queue.hold_received(claimed, now, visibility)
        assert queue.remove(claimed)
        now += 1  # every deadline is still in the future
    assert len(queue.pending) <= COMPACT_AT + 1
    assert not queue.inflight


def test_compaction_keeps_every_live_deadline() -> None:
    queue = standard_queue()
    now = 1_000_000
    kept = []
    for seq in range(3 * COMPACT_AT):
        queue.add(seq, now, now)
        [claimed] = queue.claim(1)
        queue.hold_received(claimed, now, 1_000 + seq)
        if seq % 7 == 0:
            kept.append(claimed)  # stays in flight
        else:
            queue.remove(claimed)
    assert len(queue.pending) < 3 * COMPACT_AT
    assert sorted(queue.inflight) == kept
    # Every message still in flight comes back, in deadline order, when its timeout passes.
    assert queue.promote(now + 10 * COMPACT_AT) == len(kept)
    assert queue.claim(len(kept) + 1) == kept
