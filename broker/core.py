"""The broker: every service's semantics behind one ``dispatch``.

The HTTP and binary front doors call :meth:`Broker.dispatch` with a typed
request from ``broker.sqs.api`` (later SNS and Kinesis) and get the typed
result, or a :class:`~broker.errors.ShoalError`.  ``start`` opens storage and
rebuilds the in-memory indexes; ``close`` drains the committer and closes LMDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from broker.clock import Clock, SystemClock
from broker.context import DEFAULT_ACCOUNT, DEFAULT_REGION, RequestContext


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """What the broker needs to know from the command line."""

    data_dir: Path
    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    sync: bool = True  # fsync every group commit; False is the documented relaxed mode


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Gauges for one queue, for /metrics."""

    account_id: str
    name: str
    visible: int
    in_flight: int
    delayed: int


CommitObserver = Callable[[int, float], None]
"""Called on the event loop after each commit with (writes in batch, seconds)."""


class Broker:
    """Owns storage, the group committer and the per-service semantics."""

    def __init__(self, config: BrokerConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.commit_observers: list[CommitObserver] = []

    async def start(self) -> None:
        """Open the data dir (locking it), rebuild indexes, start the committer and timers."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop timers, wake long-polls, drain the committer, close LMDB."""
        raise NotImplementedError

    async def dispatch(self, service: str, request: object, ctx: RequestContext) -> object | None:
        """Run one typed request; return its typed result (None for empty results)."""
        raise NotImplementedError

    def queue_stats(self) -> list[QueueStats]:
        """Current gauges of every queue."""
        raise NotImplementedError
