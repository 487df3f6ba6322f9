"""Hand-off: a fresh message goes straight to a parked long poll, in the send's own commit.

A long poll that found its standard queue empty parks as a :class:`Taker`.  A
send of messages that are visible at once, into a queue with parked takers,
writes each message it hands off already received by its taker (receive count
1, in flight for the taker's visibility timeout) instead of visible.  One commit
then makes both the send and the receive durable, so a message reaches a
waiting consumer after one fsync instead of two (the send's, then the
receive's state).  Nobody can tell it from a receive that ran right after the
send: the same records, the same receipt handle, the same answer.

A taker stays open for every send that joins the same group commit as its
first one, up to its MaxNumberOfMessages, so under load a receive still comes
back with a batch, not one message per send; all of them settle in one
callback, where it answers.  Its poll leaves the queue's waiters at its first
hand-off (no wake-up can answer it empty meanwhile) and the takers once that
commit is handed over.  Messages handed off but not yet settled count as in
flight against the queue's limit.  After the commit (:func:`settle`) each
handed-off message joins the index in flight.  A taker that is gone by then (its wait timed out, its
client went away) gets nothing: its messages are put back, visible at once,
and their state is rewritten as never received.  If a commit fails the taker
answers with what it has (nothing: it polls again).  FIFO queues never hand
off (group order and locks decide who may receive), nor do delayed messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from broker.sqs import api
from broker.sqs.queue import Queue
from storage import keys
from storage.records import MessageBody, pack_state_of, unpack_body
from storage.store import Db, Write, put

Render = Callable[[MessageBody, int, int], api.Message]
"""(stored body record, seq, first-receive ms) -> the message as this taker asked for it."""


@dataclass(slots=True, eq=False)
class Taker:
    """A parked long poll that will take fresh messages from a send."""

    waiter: asyncio.Future[list[api.Message] | None]
    limit: int
    visibility_ms: int
    render: Render
    given: int = 0
    """Messages assigned so far (at most ``limit``)."""
    sends: int = 0
    """Sends it took messages from whose commit has not settled yet."""
    hand_over: int = 0
    """The committer hand-over its sends joined (all of them join the first one's)."""
    messages: list[api.Message] = field(default_factory=list)
    """What it received from the sends settled so far."""


class Handed(Protocol):
    """What a send exposes of one message for a hand-off."""

    seq: int
    visible_at_ms: int
    writes: list[Write]
    """Its body's put, then its state's put (rewritten here as received), then any others."""
    taker: Taker | None


@dataclass(slots=True)
class _Assigned:
    seq: int
    packed_body: bytes
    deadline_ms: int


@dataclass(slots=True)
class HandOffs:
    """The messages one send handed off, by taker, and when (the first receive)."""

    now_ms: int
    by_taker: dict[Taker, list[_Assigned]] = field(default_factory=dict)


def assign(queue: Queue, items: Sequence[Handed], now_ms: int, hand_over: int) -> HandOffs | None:
    """Give the visible-now messages among ``items`` (a send that will join the committer's
    hand-over number ``hand_over``) to ``queue``'s parked takers, oldest first, rewriting
    each one's state write as received; None if none was handed off."""
    handed: HandOffs | None = None
    for item in items:
        if item.visible_at_ms > now_ms or not item.writes:
            continue
        if queue.at_inflight_limit():
            break
        taker = _oldest(queue, hand_over)
        if taker is None:
            break
        deadline = now_ms + taker.visibility_ms
        body_write, state_write = item.writes[0], item.writes[1]
        item.writes[1] = put(Db.STATES, state_write[2], pack_state_of(now_ms, deadline, 1, now_ms, None))
        item.taker = taker
        if handed is None:
            handed = HandOffs(now_ms)
        assigned = handed.by_taker.get(taker)
        if assigned is None:
            assigned = handed.by_taker[taker] = []
            if not taker.sends:  # its first send: answered by this hand-over, not by a wake-up
                taker.hand_over = hand_over
                queue.drop_waiter(taker.waiter, keep_taker=True)
            taker.sends += 1
        assigned.append(_Assigned(item.seq, body_write[3], deadline))
        queue.handing += 1
        taker.given += 1
        if taker.given >= taker.limit:
            queue.drop_waiter(taker.waiter)
    return handed


def _oldest(queue: Queue, hand_over: int) -> Taker | None:
    """The longest-parked taker that may take from a send joining ``hand_over`` (finished
    ones, and ones whose first send's hand-over has gone, are dropped on the way)."""
    takers = queue.takers
    while takers:
        waiter, taker = next(iter(takers.items()))
        if not waiter.done() and (not taker.sends or taker.hand_over == hand_over):
            return taker
        queue.drop_waiter(waiter)
    return None


def settle(queue: Queue, handed: HandOffs) -> tuple[int, list[Write]]:
    """The send committed: index the handed-off messages in flight and answer the takers
    it was the last unsettled send of.

    Returns how many messages were put back visible (their taker was gone) and the
    writes that record them as never received.
    """
    put_back = 0
    writes: list[Write] = []
    now = handed.now_ms
    for taker, assigned in handed.by_taker.items():
        queue.handing -= len(assigned)
        waiting = not taker.waiter.done()
        for item in assigned:
            if waiting:
                if queue.add_received(item.seq, item.deadline_ms, now):  # else purged meanwhile
                    taker.messages.append(taker.render(unpack_body(item.packed_body), item.seq, now))
                continue
            if queue.add(item.seq, now, now):
                put_back += 1
                key = keys.message_key(queue.queue_id, item.seq)
                writes.append(put(Db.STATES, key, pack_state_of(now, now, 0, 0, None)))
        _settled(taker)
    return put_back, writes


def release(queue: Queue, handed: HandOffs) -> None:
    """The send's commit failed: its takers answer with what their other sends gave them
    (if nothing, they poll again)."""
    for taker, assigned in handed.by_taker.items():
        queue.handing -= len(assigned)
        _settled(taker)


def _settled(taker: Taker) -> None:
    taker.sends -= 1
    if not taker.sends and not taker.waiter.done():
        taker.waiter.set_result(taker.messages or None)  # None: nothing came, poll again
