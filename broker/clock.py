"""The one clock every time-dependent semantic reads.

Time is integer milliseconds since the Unix epoch.  The server uses
:class:`SystemClock`; tests inject :class:`ManualClock` and advance it instead
of sleeping.  Nothing in ``broker/`` calls ``time.time()`` directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Source of wall-clock time in epoch milliseconds."""

    def now_ms(self) -> int: ...


class SystemClock:
    """The real wall clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms
        self._watchers: list[Callable[[], None]] = []

    def now_ms(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (fractions allowed), then tell the watchers."""
        self._now += int(seconds * 1000)
        for watcher in list(self._watchers):
            watcher()

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` after every :meth:`advance` (timers that sleep on this clock re-check);
        returns the function that stops it."""
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback) if callback in self._watchers else None
