"""The live connections of one listener (HTTP or binary): for the connection
cap, the once-a-second timeout tick, and graceful shutdown.

``now`` is a coarse clock (the loop's time at the last tick): connections
stamp idleness and request starts with it, so the hot path reads an attribute
instead of calling a clock.
"""

from __future__ import annotations

import asyncio
from typing import Generic, Protocol, TypeVar


class PooledConnection(Protocol):
    """What a pool needs of a connection."""

    def check_timeouts(self, now: float) -> None: ...

    def shutdown(self) -> None: ...

    def abort(self) -> None: ...


C = TypeVar("C", bound=PooledConnection)


class ConnectionPool(Generic[C]):
    """The live connections of one listener."""

    def __init__(self, now: float = 0.0) -> None:
        self.live: set[C] = set()
        self.now = now
        self._empty: asyncio.Future[None] | None = None

    def add(self, conn: C) -> None:
        self.live.add(conn)

    def discard(self, conn: C) -> None:
        self.live.discard(conn)
        if not self.live and self._empty is not None and not self._empty.done():
            self._empty.set_result(None)

    def check_timeouts(self, now: float) -> None:
        self.now = now
        for conn in list(self.live):
            conn.check_timeouts(now)

    def shutdown(self) -> None:
        """Close idle connections; let busy ones finish their pending replies, then close."""
        for conn in list(self.live):
            conn.shutdown()

    def abort(self) -> None:
        """Close every connection now, cancelling what it still waits for."""
        for conn in list(self.live):
            conn.abort()

    async def wait_empty(self) -> None:
        """Return once every connection has gone."""
        if not self.live:
            return
        if self._empty is None or self._empty.done():
            self._empty = asyncio.get_running_loop().create_future()
        await self._empty
