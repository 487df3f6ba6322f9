"""What every SQS action shares: the queues, the store, the committer, the clock,
the receipt codec, and the timers that make delayed and in-flight messages
visible to long-polling receivers on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from broker.clock import Clock
from broker.errors import InvalidParameterValue
from broker.sqs.queue import Queue
from broker.sqs.receipts import ReceiptCodec
from broker.sqs.registry import QueueRegistry
from storage.committer import GroupCommitter
from storage.store import LmdbStore, Write

log = logging.getLogger(__name__)

MAX_TIMER_SECONDS = 1.0
"""Timers re-check at least this often, so an injected clock that jumps is noticed."""


@dataclass
class SqsRuntime:
    """Shared state of the SQS service."""

    store: LmdbStore
    committer: GroupCommitter
    clock: Clock
    receipts: ReceiptCodec
    registry: QueueRegistry = field(default_factory=QueueRegistry)
    closing: bool = False

    async def commit(self, writes: Sequence[Write]) -> None:
        """Wait until ``writes`` are durable."""
        if writes:
            await self.committer.submit(writes)

    def commit_later(self, writes: Sequence[Write]) -> None:
        """Commit ``writes`` with the next group commit, without waiting (a failure is logged)."""
        self.committer.submit(writes).add_done_callback(_log_failed_commit)

    def commit_then(
        self, writes: Sequence[Write], settle: Callable[[], object], abandon: Callable[[], object]
    ) -> Awaitable[None]:
        """See :meth:`storage.committer.GroupCommitter.commit_then` (await the result)."""
        return self.committer.commit_then(writes, settle, abandon)

    async def barrier(self) -> None:
        """Wait until every write submitted so far is durable."""
        await self.committer.submit(())

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def made_visible(self, queue: Queue, count: int) -> None:
        """``count`` messages just became visible: wake that many waiters."""
        if count and queue.waiters:
            queue.wake(count)

    def arm_timer(self, queue: Queue) -> None:
        """Make sure a timer fires when the queue's next delayed/in-flight message becomes visible."""
        if not queue.waiters or queue.timer is not None:
            return
        deadline = queue.next_deadline()
        if deadline is None:
            return
        delay = min(max(deadline - self.now_ms(), 0) / 1000, MAX_TIMER_SECONDS)
        queue.timer = asyncio.get_running_loop().call_later(delay, self._on_timer, queue)

    def _on_timer(self, queue: Queue) -> None:
        queue.timer = None
        if queue.deleted:
            return
        queue.promote(self.now_ms())  # wakes the waiters itself
        self.arm_timer(queue)


def check_range(name: str, value: int | None, low: int, high: int, reason: str | None = None) -> None:
    """AWS's InvalidParameterValue for an out-of-range integer parameter."""
    if value is not None and not low <= value <= high:
        raise InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. "
            f"Reason: {reason or f'Must be between {low} and {high}, if provided.'}"
        )


def _log_failed_commit(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a background commit failed", exc_info=future.exception())
