"""The process: event loop, listeners, timers and shutdown.

This is the one place where sockets, codecs and the broker meet.  A
:class:`Server` starts the broker, binds the HTTP listener (one
:class:`~broker.http_connection.HttpConnection` per client) and the binary
listener (:mod:`broker.binary_server`: TCP port and/or Unix socket), runs a one-second
tick that enforces the connections' timeouts, and stops in a fixed order:

1. stop accepting; idle keep-alive connections close, busy ones stop reading
   and will close after their pending replies;
2. ``broker.close()`` starts at once: it wakes long-polls (their replies go
   out empty) and drains the group committer, so acknowledged writes are
   answered;
3. connections get ``shutdown_grace`` seconds to write their replies, then
   the rest are aborted (their dispatches cancelled);
4. ``broker.close()`` is awaited (LMDB closed).

Programmatic use (tests, the bench)::

    async with Server(ServerConfig(port=0, data_dir=tmp)) as server:
        ...  # server.url is http://127.0.0.1:<bound port>

or ``await serve(config)``, which also stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import gc
import logging
import signal
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import uvloop

from broker import http_outbound
from broker.binary_connection import BinaryLimits
from broker.binary_server import BinaryApp, BinaryListener
from broker.connections import ConnectionPool
from broker.context import DEFAULT_ACCOUNT, DEFAULT_REGION, RequestContext
from broker.core import Broker, BrokerConfig, CommitObserver, QueueStats
from broker.http_app import HttpApp, Router
from broker.http_connection import HttpConnection, HttpLimits
from broker.http_sns import sns_routes
from broker.metrics import Metrics

log = logging.getLogger("shoal.server")

TICK_SECONDS = 1.0


class Durability(enum.Enum):
    """When a commit is acknowledged: after fsync, or after the write (periodic sync)."""

    FSYNC = "fsync"
    RELAXED = "relaxed"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything ``shoal serve`` configures."""

    host: str = "127.0.0.1"
    port: int = 4566  # 0 binds an ephemeral port (tests); see Server.port
    binary_port: int = 4567  # 0 disables the binary listener's TCP port
    binary_socket: Path | None = None  # a Unix socket for the binary protocol too
    binary_limits: BinaryLimits = field(default_factory=BinaryLimits)
    data_dir: Path = Path("./shoal-data")
    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    durability: Durability = Durability.FSYNC
    limits: HttpLimits = field(default_factory=HttpLimits)
    shutdown_grace: float = 5.0  # seconds busy connections get to finish on shutdown
    backlog: int = 1024

    def broker_config(self) -> BrokerConfig:
        return BrokerConfig(
            data_dir=self.data_dir,
            account_id=self.account_id,
            region=self.region,
            sync=self.durability is Durability.FSYNC,
        )


class BrokerService(Protocol):
    """What the server needs of :class:`broker.core.Broker` (tests pass a fake)."""

    commit_observers: list[CommitObserver]

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def dispatch(self, service: str, request: object, ctx: RequestContext) -> Awaitable[object | None]: ...

    def queue_stats(self) -> list[QueueStats]: ...


class Server:
    """One Shoal server: a broker and its listeners."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        broker: BrokerService | None = None,
        router: Router | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.broker: BrokerService = (
            broker if broker is not None else Broker(config.broker_config(), poster=http_outbound.post)
        )
        self.metrics = metrics if metrics is not None else Metrics()
        self._router = router
        self._pool: ConnectionPool[HttpConnection] = ConnectionPool()
        self._listener: asyncio.AbstractServer | None = None
        self._binary: BinaryListener | None = None
        self._tick: asyncio.TimerHandle | None = None
        self._stopping = False
        self.port = config.port
        self.binary_port: int | None = None  # the bound binary TCP port, once started

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def http_host(self) -> str:
        """``host:port`` of the HTTP listener, as queue URLs name it (a wildcard address is localhost)."""
        host = self.config.host
        if host in ("0.0.0.0", "::", ""):
            host = "localhost"
        elif ":" in host:
            host = f"[{host}]"
        return f"{host}:{self.port}"

    def _binary_listener(self) -> BinaryListener:
        config = self.config
        app = BinaryApp(
            self.broker,
            self.metrics,
            default_account=config.account_id,
            default_region=config.region,
            http_host=self.http_host,
        )
        return BinaryListener(
            app,
            config.binary_limits,
            host=config.host,
            port=config.binary_port,
            socket_path=config.binary_socket,
            backlog=config.backlog,
        )

    async def start(self) -> None:
        """Start the broker, then accept requests; the health route answers from now on."""
        loop = asyncio.get_running_loop()
        self._pool.now = loop.time()
        config = self.config
        router = self._router
        if router is None:
            from protocol import router as default_router

            router = default_router
        app = HttpApp(
            self.broker,
            router,
            self.metrics,
            default_account=config.account_id,
            default_region=config.region,
            services=("sqs", "sns"),
            own_routes=sns_routes(self.broker),
        )
        # Bind first (a busy port fails before the data dir is touched), accept only once the broker runs.
        self._listener = await loop.create_server(
            lambda: HttpConnection(app, self._pool, config.limits, loop),
            config.host,
            config.port,
            reuse_address=True,
            backlog=config.backlog,
            start_serving=False,
        )
        sockets = self._listener.sockets
        if sockets:
            self.port = sockets[0].getsockname()[1]
        try:
            if config.binary_port or config.binary_socket is not None:
                self._binary = self._binary_listener()
                await self._binary.bind(loop)
            await self.broker.start()
        except BaseException:
            self._listener.close()
            self._listener = None
            if self._binary is not None:
                self._binary.close()
                self._binary = None
            raise
        self.metrics.watch_queues(self.broker.queue_stats)
        sns = getattr(self.broker, "sns", None)
        if sns is not None:
            self.metrics.watch_deliveries(sns.outbox.statistics)
        self.broker.commit_observers.append(self.metrics.observe_commit)
        # Everything loaded so far (service models, the rebuilt indexes) lives for the
        # whole run: move it out of the collector's sight, so a full collection
        # later does not walk it and stall the loop for milliseconds.
        gc.collect()
        gc.freeze()
        await self._listener.start_serving()
        if self._binary is not None:
            await self._binary.start_serving()
            self.binary_port = self._binary.port
        self._tick = loop.call_later(TICK_SECONDS, self._on_tick)
        log.info(
            "Shoal listening on %s (data dir %s, durability %s)",
            self.url,
            config.data_dir,
            config.durability.value,
        )

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests (bounded), close the broker."""
        if self._stopping or self._listener is None:
            return
        self._stopping = True
        log.info("shutting down")
        self._listener.close()
        self._pool.shutdown()
        binary = self._binary
        if binary is not None:
            binary.close()
            binary.pool.shutdown()
        await asyncio.sleep(0)  # let just-parsed requests reach the broker before it closes
        closing = asyncio.get_running_loop().create_task(self.broker.close())
        pools: list[ConnectionPool[Any]] = [self._pool]
        if binary is not None:
            pools.append(binary.pool)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(pool.wait_empty() for pool in pools)), self.config.shutdown_grace
            )
        except TimeoutError:
            log.warning(
                "%d connection(s) still busy after %.1f s; closing them",
                sum(len(pool.live) for pool in pools),
                self.config.shutdown_grace,
            )
            for pool in pools:
                pool.abort()
            # connection_lost follows an abort within a loop iteration or two; the cancelled
            # dispatches unwind meanwhile.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(pool.wait_empty() for pool in pools)), 1.0)
        try:
            await closing
        finally:
            if self._tick is not None:
                self._tick.cancel()
            await self._listener.wait_closed()
            if binary is not None:
                await binary.wait_closed()
        log.info("stopped")

    def abort_connections(self) -> None:
        """Drop every connection now (a second SIGINT)."""
        self._pool.abort()
        if self._binary is not None:
            self._binary.pool.abort()

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _on_tick(self) -> None:
        loop = asyncio.get_running_loop()
        self._pool.check_timeouts(loop.time())
        if self._binary is not None:
            self._binary.pool.check_timeouts(loop.time())
        if not self._stopping:
            self._tick = loop.call_later(TICK_SECONDS, self._on_tick)


async def serve(config: ServerConfig) -> None:
    """Run a server until SIGTERM or SIGINT, then shut it down gracefully."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    server = Server(config)

    def on_signal(signum: int) -> None:
        if stop.is_set():
            log.warning("second %s: dropping connections", signal.Signals(signum).name)
            server.abort_connections()
            return
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await server.start()
        await stop.wait()
        await server.stop()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def run(config: ServerConfig) -> int:
    """Run :func:`serve` on a uvloop event loop; the process exit status."""
    uvloop.run(serve(config))
    return 0
