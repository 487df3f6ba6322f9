"""Open-loop load: a fixed send schedule, and message bodies that carry it.

Strategy (coordinated-omission-free): message ``i`` has an *intended* send
time ``start + i / rate`` fixed before the run, whatever the server does.  The
pacer wakes up, starts every message that is due (a burst if it fell behind)
as its own task and goes back to sleep; it never waits for a reply.  A send
waits for a free connection of a bounded pool (opening one while under the
bound), so a slow server makes sends queue up in the generator, and that
queueing counts in the latency: latency is always measured from the intended
time, never from when the request could finally be written.

Each body carries ``tag:seq:intended_ns:`` (then padding to the message size),
so a receiver computes the end-to-end latency of every message it gets and the
correctness ledger knows which message it was, with no shared state but the
clock (``time.monotonic_ns``, the same process).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.http11 import Connection
    from bench.run import Run

NS = 1_000_000_000


class Schedule:
    """Intended send times of a fixed-rate stream starting at ``start_ns``."""

    __slots__ = ("rate", "start_ns")

    def __init__(self, rate: float, start_ns: int) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        self.rate = rate
        self.start_ns = start_ns

    def intended(self, i: int) -> int:
        """When message ``i`` (from 0) is meant to be sent."""
        return self.start_ns + round(i * NS / self.rate)

    def due(self, now_ns: int) -> int:
        """How many messages are due at ``now_ns``: the first index not due yet."""
        if now_ns < self.start_ns:
            return 0
        n = int((now_ns - self.start_ns) * self.rate / NS) + 1
        # float rounding may put the boundary one off; intended() is the truth
        while n > 0 and self.intended(n - 1) > now_ns:
            n -= 1
        while self.intended(n) <= now_ns:
            n += 1
        return n


@dataclass(frozen=True, slots=True)
class Stamp:
    tag: str
    seq: int
    intended_ns: int


def stamp(tag: str, seq: int, intended_ns: int, size: int) -> str:
    """A body carrying the stamp, padded to ``size`` bytes (longer if the stamp needs it)."""
    head = f"{tag}:{seq}:{intended_ns}:"
    return head + "x" * (size - len(head))


def read_stamp(body: str) -> Stamp | None:
    """The stamp of a body :func:`stamp` made; None for any other body."""
    parts = body.split(":", 3)
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return Stamp(parts[0], int(parts[1]), int(parts[2]))


class SenderPool:
    """Up to ``size`` connections; :meth:`acquire` waits when all are busy."""

    def __init__(self, run: Run, size: int) -> None:
        self._run = run
        self._size = size
        self._open = 0
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()

    async def acquire(self) -> Connection | None:
        """An idle connection, a new one, or (all busy) the next one freed; None if connecting failed."""
        while True:
            if not self._idle.empty() or self._open >= self._size:
                conn = await self._idle.get()
                if conn.closed:
                    self._open -= 1
                    continue
                return conn
            self._open += 1
            conn_or_none = await self._run.connection(None)
            if conn_or_none is None:
                self._open -= 1
            return conn_or_none

    def release(self, conn: Connection) -> None:
        """Give ``conn`` back (a closed one frees its slot)."""
        self._idle.put_nowait(conn)


async def pace(
    run: Run,
    schedule: Schedule,
    send: Callable[[int, int], Coroutine[Any, Any, None]],
    stop: Callable[[], bool],
) -> int:
    """Start ``send(i, intended_ns)`` for every due message until ``stop()``; wait for them; the count."""
    tasks: set[asyncio.Task[None]] = set()
    i = 0
    while not stop():
        due = schedule.due(time.monotonic_ns())
        while i < due:
            task = asyncio.create_task(send(i, schedule.intended(i)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.sleep(max(0.0, (schedule.intended(i) - time.monotonic_ns()) / NS))
    if tasks:
        await asyncio.wait(tasks, timeout=run.options.timeout + 1.0)
    return i
