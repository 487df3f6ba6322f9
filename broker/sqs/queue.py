"""One queue's in-memory index over its messages in LMDB.

The index holds sequence numbers and deadlines, never bodies:

* ``ready``: the visible messages (:mod:`broker.sqs.ready`): one deque for a
  standard queue, one per message group for a FIFO queue, whose groups are
  locked while any of their messages is in flight.
* ``pending``: a heap of ``(visible_at_ms, seq)`` for delayed and in-flight
  messages.  Entries go stale when a message is deleted or its visibility
  changes; an entry is live only if ``delayed``/``inflight`` still maps its seq
  to the same deadline.  Once stale entries outnumber live ones the heap is
  rebuilt from the live ones (so memory follows what is in flight, not the
  delete rate).
* ``receives``: receive count and first-receive time of every message received
  at least once (so a redelivery counts right even before its last state write
  is committed).
* ``group_of``: the FIFO group of every delayed, claimed or in-flight message
  (visible ones are filed under their group in ``ready``).

Every method is synchronous and never awaits: state changes never straddle an
``await``.  The index is rebuilt from LMDB at start-up (:meth:`load`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections import deque
from typing import TYPE_CHECKING, Any

from broker.dedup import DedupWindow
from broker.errors import MessageNotInflight
from broker.sqs import fifo
from broker.sqs.attributes import int_attribute
from broker.sqs.fifo import AttemptCache
from broker.sqs.ready import FifoReady, Ready, StandardReady
from broker.sqs.redrive import RedrivePolicy, parse_redrive_policy
from storage.keys import u64
from storage.records import MessageState, QueueRecord

if TYPE_CHECKING:
    from broker.sqs.handoff import Taker

MAX_INFLIGHT = 120_000
"""Messages a queue may have in flight (AWS's quota for a standard queue)."""

COMPACT_AT = 4096
"""``pending`` is compacted (stale entries dropped) only when it is longer than this."""

SEQ_RESERVATION = 1 << 16
"""Sequence numbers are reserved in blocks: the high-water mark is persisted, so a
seq is never reused after a restart even when every message was deleted."""


class Queue:
    """A queue's identity, configuration and message index."""

    def __init__(self, record: QueueRecord, next_seq: int = 0) -> None:
        self.record = record
        self.fifo = record.attributes.get("FifoQueue") == "true"
        self.ready: Ready = FifoReady() if self.fifo else StandardReady()
        self.dedup = DedupWindow(fifo.DEDUP_PREFIX + u64(record.queue_id))
        self.attempts = AttemptCache()
        self._numbers_of: dict[str, str] | None = None
        self._numbers: dict[str, int] = {}
        self._redrive_text: str | None = None
        self._redrive: RedrivePolicy | None = None
        self.group_of: dict[int, str] = {}
        self.pending: list[tuple[int, int]] = []
        self.delayed: dict[int, int] = {}
        self.inflight: dict[int, int] = {}
        self.receives: dict[int, tuple[int, int]] = {}
        self.waiters: deque[asyncio.Future[Any]] = deque()
        self.takers: dict[asyncio.Future[Any], Taker] = {}
        """The long polls a send may hand messages to, oldest first (:mod:`broker.sqs.handoff`)."""
        self.handing = 0
        """Messages handed to long polls whose send has not settled yet (in flight, nearly)."""
        self.next_seq = next_seq
        self.seq_reserved = next_seq
        self.purge_floor = 0
        self.last_purge_ms: int | None = None
        self.deleted = False
        self.timer: asyncio.TimerHandle | None = None

    @property
    def queue_id(self) -> int:
        return self.record.queue_id

    @property
    def attributes(self) -> dict[str, str]:
        return self.record.attributes

    def number(self, name: str) -> int:
        """An integer attribute (VisibilityTimeout, ...), parsed once per change of the attributes."""
        attrs = self.record.attributes
        if attrs is not self._numbers_of:
            self._numbers_of, self._numbers = attrs, {}
        value = self._numbers.get(name)
        if value is None:
            value = self._numbers[name] = int_attribute(attrs, name)
        return value

    @property
    def redrive(self) -> RedrivePolicy | None:
        """The queue's RedrivePolicy, parsed once per change."""
        text = self.record.attributes.get("RedrivePolicy")
        if text != self._redrive_text:
            self._redrive_text = text
            self._redrive = parse_redrive_policy(text) if text else None
        return self._redrive

    # -- building ----------------------------------------------------------

    def load(self, seq: int, state: MessageState, now_ms: int) -> None:
        """Index a stored message at start-up; in-flight ones keep their deadline."""
        group = state.group_id if self.fifo else None
        if state.receive_count:
            self.receives[seq] = (state.receive_count, state.first_receive_ms)
        if state.visible_at_ms <= now_ms:
            self.ready.push(seq, group)
            return
        if group is not None:
            self.group_of[seq] = group
        if state.receive_count:
            self.ready.lock(group)
            self._hold(self.inflight, seq, state.visible_at_ms)
        else:
            self._hold(self.delayed, seq, state.visible_at_ms)

    def allocate_seq(self) -> tuple[int, int | None]:
        """A fresh seq, and the new high-water mark to persist when a block is used up."""
        seq = self.next_seq
        self.next_seq += 1
        if self.next_seq > self.seq_reserved:
            self.seq_reserved = seq + SEQ_RESERVATION
            return seq, self.seq_reserved
        return seq, None

    def seq_mark_lost(self) -> None:
        """A commit that may have carried the persisted high-water mark failed: the next
        allocation persists a new one, so no seq is reused after a restart."""
        self.seq_reserved = 0

    # -- transitions -------------------------------------------------------

    def add(
        self,
        seq: int,
        visible_at_ms: int,
        now_ms: int,
        group: str | None = None,
        receives: tuple[int, int] = (0, 0),
    ) -> bool:
        """A committed message (sent, or dead-lettered with its receive history) joins the index;
        False if it does not (its queue was purged or deleted since)."""
        if seq < self.purge_floor or self.deleted:
            return False
        if receives[0]:
            self.receives[seq] = receives
        group = group if self.fifo else None
        if visible_at_ms <= now_ms:
            self.ready.push(seq, group)
            return True
        if group is not None:
            self.group_of[seq] = group
        self._hold(self.delayed, seq, visible_at_ms)
        return True

    def at_inflight_limit(self) -> bool:
        """True if no more messages may go in flight (those being handed off count)."""
        return len(self.inflight) + self.handing >= MAX_INFLIGHT

    def add_received(self, seq: int, deadline_ms: int, now_ms: int) -> bool:
        """A committed message received in its send's own commit (a hand-off) joins the
        index in flight; False if it does not (purged or deleted since)."""
        if seq < self.purge_floor or self.deleted:
            return False
        self.receives[seq] = (1, now_ms)
        self._hold(self.inflight, seq, deadline_ms)
        return True

    def promote(self, now_ms: int) -> int:
        """Move every delayed or in-flight message whose deadline passed into ``ready``.

        Wakes one long-polling receiver per message moved: whoever promotes (the
        timer, a receive, GetQueueAttributes, the sweeper), waiters hear of it.
        """
        moved = 0
        pending = self.pending
        while pending and pending[0][0] <= now_ms:
            visible_at, seq = heapq.heappop(pending)
            if self.delayed.get(seq) == visible_at:
                del self.delayed[seq]
                self.ready.push(seq, self.group_of.pop(seq, None))
            elif self.inflight.get(seq) == visible_at:
                del self.inflight[seq]
                self._back_from_flight(seq)
            else:
                continue
            moved += 1
        if moved:
            self.wake(moved)
        return moved

    def claim(self, limit: int) -> list[int]:
        """Take up to ``limit`` visible messages.

        A claimed message locks its FIFO group at once; it then either goes in
        flight (:meth:`hold_received`) or is dropped (:meth:`forget`).
        """
        taken = self.ready.take(limit)
        if not self.fifo:
            return [seq for seq, _ in taken]
        for seq, group in taken:
            if group is not None:
                self.group_of[seq] = group
                self.ready.lock(group)
        return [seq for seq, _ in taken]

    def receive_count(self, seq: int) -> int:
        """How many times ``seq`` has been received so far."""
        return self.receives.get(seq, (0, 0))[0]

    def hold_received(self, seq: int, now_ms: int, visibility_ms: int) -> tuple[int, int]:
        """Record one receive of a claimed message; return (receive count, first receive ms)."""
        count, first = self.receives.get(seq, (0, now_ms))
        count += 1
        self.receives[seq] = (count, first)
        self._hold(self.inflight, seq, now_ms + visibility_ms)
        return count, first

    def forget(self, seq: int) -> None:
        """Drop a claimed message for good (deleted, expired or moved to a dead-letter queue)."""
        self.receives.pop(seq, None)
        group = self.group_of.pop(seq, None)
        if group is not None:
            self.ready.unlock(group)

    def release(self, seq: int) -> None:
        """Return a claimed message to the visible ones (it was not taken after all)."""
        self._back_from_flight(seq)

    def dead_letters_into(self, target: Queue) -> bool:
        """Whether this queue's RedrivePolicy names ``target``."""
        policy = self.redrive
        return policy is not None and (policy.target_account, policy.target_name) == (
            target.record.account_id,
            target.record.name,
        )

    def expire(self, seq: int) -> None:
        """A message past its retention period leaves the index, wherever it is in it."""
        if not self.remove(seq):
            self.ready.discard(seq)  # visible and never received

    def remove(self, seq: int) -> bool:
        """Delete a message known by receipt handle; False if it is already gone."""
        if self.inflight.pop(seq, None) is not None:
            self.forget(seq)
            return True
        if self.delayed.pop(seq, None) is not None:
            self.group_of.pop(seq, None)
            self.receives.pop(seq, None)
            return True
        if self.receives.pop(seq, None) is not None:
            self.ready.discard(seq)  # it is visible: skip it there
            return True
        return False

    def change_visibility(self, seq: int, now_ms: int, timeout_ms: int) -> int:
        """Move an in-flight message's deadline; return the new deadline."""
        deadline = self.inflight.get(seq)
        if deadline is None or deadline <= now_ms:
            raise MessageNotInflight(
                "Message does not exist or is not available for visibility timeout change."
            )
        visible_at = now_ms + timeout_ms
        if timeout_ms == 0:
            del self.inflight[seq]
            self._back_from_flight(seq)
        else:
            self._hold(self.inflight, seq, visible_at)
        return visible_at

    def clear(self) -> None:
        """Forget every message (PurgeQueue): sends not yet committed are dropped too."""
        self.ready.clear()
        self.group_of.clear()
        self.pending.clear()
        self.delayed.clear()
        self.inflight.clear()
        self.receives.clear()
        self.purge_floor = self.next_seq

    def state_of(self, seq: int, sent_ms: int, group: str | None = None) -> MessageState:
        """The state record to persist for a message after a change."""
        count, first = self.receives.get(seq, (0, 0))
        visible_at = self.inflight.get(seq) or self.delayed.get(seq) or 0
        return MessageState(sent_ms, visible_at, count, first, group)

    # -- waiting -----------------------------------------------------------

    def wake(self, count: int) -> None:
        """Wake up to ``count`` long-polling receivers."""
        waiters = self.waiters
        while count > 0 and waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                count -= 1

    def drop_waiter(self, waiter: asyncio.Future[Any], *, keep_taker: bool = False) -> None:
        """Forget a waiter that timed out, was cancelled or took a hand-off (a woken one is
        already gone); ``keep_taker``: only no wake-up may reach it any more."""
        if not keep_taker:
            self.takers.pop(waiter, None)
        with contextlib.suppress(ValueError):
            self.waiters.remove(waiter)

    def wake_all(self) -> None:
        """Wake every long-polling receiver (queue deleted, shutdown)."""
        self.wake(len(self.waiters))

    # -- introspection -----------------------------------------------------

    def visible_count(self) -> int:
        return len(self.ready)

    def next_deadline(self) -> int | None:
        """The earliest live deadline in ``pending`` (dropping stale entries on the way)."""
        pending = self.pending
        while pending:
            visible_at, seq = pending[0]
            if self.delayed.get(seq) == visible_at or self.inflight.get(seq) == visible_at:
                return visible_at
            heapq.heappop(pending)
        return None

    def _back_from_flight(self, seq: int) -> None:
        group = self.group_of.pop(seq, None)
        self.ready.push(seq, group)
        self.ready.unlock(group)

    def _hold(self, table: dict[int, int], seq: int, visible_at_ms: int) -> None:
        table[seq] = visible_at_ms
        pending = self.pending
        heapq.heappush(pending, (visible_at_ms, seq))
        if len(pending) > COMPACT_AT and len(pending) > 2 * (len(self.delayed) + len(self.inflight)):
            self._compact()

    def _compact(self) -> None:
        """Rebuild ``pending`` from the live deadlines alone.

        Deletes and visibility changes leave stale entries behind, which would
        otherwise stay until their old deadline passes: at 25,000 receive+deletes
        a second with a 30 s visibility timeout, 750,000 of them (about 90 MB).
        A rebuild happens only once stale entries outnumber live ones, so it
        costs O(1) per entry pushed.
        """
        live = [(deadline, seq) for seq, deadline in self.delayed.items()]
        live += [(deadline, seq) for seq, deadline in self.inflight.items()]
        heapq.heapify(live)
        self.pending = live
