"""The broker: every service's semantics behind one ``dispatch``.

The HTTP and binary front doors call :meth:`Broker.dispatch` with a typed
request from ``broker.sqs.api`` or ``broker.sns.api`` (later Kinesis) and get the typed
result, or a :class:`~broker.errors.ShoalError`.  ``start`` opens storage and
rebuilds the in-memory indexes; ``close`` drains the committer and closes LMDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from broker.clock import Clock, SystemClock
from broker.context import DEFAULT_ACCOUNT, DEFAULT_REGION, RequestContext
from broker.errors import ServiceUnavailable, UnknownOperationException
from broker.sns.outbox import Poster
from broker.sns.service import SnsService
from broker.sqs.service import SqsService
from storage.committer import GroupCommitter
from storage.store import LmdbStore

RELAXED_FLUSH_SECONDS = 1.0


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

    def __init__(
        self, config: BrokerConfig, clock: Clock | None = None, poster: Poster | None = None
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.poster = poster
        """Sends SNS's HTTP/S deliveries (the server injects ``broker.http_outbound.post``)."""
        self.commit_observers: list[CommitObserver] = []
        self._open = False

    async def start(self) -> None:
        """Open the data dir (locking it), rebuild indexes, start the committer and timers."""
        self.store = LmdbStore(self.config.data_dir, sync=self.config.sync)
        self.committer = GroupCommitter(
            self.store,
            asyncio.get_running_loop(),
            observer=self._observe_commit,
            flush_interval=None if self.config.sync else RELAXED_FLUSH_SECONDS,
        )
        self.committer.start()
        self.sqs = SqsService(self.store, self.committer, self.clock)
        await self.sqs.start()
        self.sns = SnsService(self.store, self.committer, self.clock, self.sqs, self.poster)
        await self.sns.start()
        self._services: dict[str, SqsService | SnsService] = {"sqs": self.sqs, "sns": self.sns}
        self._open = True

    async def close(self) -> None:
        """Stop timers, wake long-polls, drain the committer, close LMDB."""
        if not self._open:
            return
        self._open = False
        await self.sns.close()
        await self.sqs.close()
        await self.committer.close()
        self.store.close()

    def dispatch(self, service: str, request: object, ctx: RequestContext) -> Awaitable[object | None]:
        """Run one typed request: await the result to get its typed result (None for
        empty results).  A plain function returning the handler's coroutine (one frame
        less per request); errors found before the handler runs are raised at once."""
        if not self._open:
            raise ServiceUnavailable()
        target = self._services.get(service)
        if target is None:
            raise UnknownOperationException(f"The service {service} is not supported.")
        return target.dispatch(request, ctx)

    def queue_stats(self) -> list[QueueStats]:
        """Current gauges of every queue."""
        now = self.clock.now_ms()
        stats = []
        for queue in self.sqs.rt.registry.all():
            queue.promote(now)
            stats.append(
                QueueStats(
                    queue.record.account_id,
                    queue.record.name,
                    queue.visible_count(),
                    len(queue.inflight),
                    len(queue.delayed),
                )
            )
        return stats

    def _observe_commit(self, batch_size: int, seconds: float) -> None:
        for observer in self.commit_observers:
            observer(batch_size, seconds)
