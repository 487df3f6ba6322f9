"""The binary protocol's listener and application edge (``protocol/PROTOCOL.md``).

Strategy: :class:`BinaryApp` is the binary twin of :class:`~broker.http_app.HttpApp`:
a REQUEST frame is bound to its typed request by :mod:`protocol.binary_ops`
(the compiled, shape-driven binder), run by ``broker.dispatch`` exactly as an
HTTP request is, and its result or :class:`~broker.errors.ShoalError` is
packed into a RESULT or ERROR frame; requests are counted in the same
:class:`~broker.metrics.Metrics` per ``(service, action)``.  There is no
per-action code.  :class:`BinaryListener` binds the TCP port and/or the Unix
socket with one :class:`~broker.binary_connection.BinaryConnection` per client.

The binary protocol has no Host header: queue URLs use the server's HTTP
address (``http_host``), so they are the very strings the HTTP API returns to
a client that addresses the server as configured.  The connection's account
comes from its HELLO (12 digits) or the server default; the region is the
server default.

This is the one place of the binary edge where ``except Exception`` is
allowed: an unexpected error is logged and answered as ``InternalFailure``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import stat
import time
from pathlib import Path

from broker.binary_connection import BinaryConnection, BinaryLimits
from broker.connections import ConnectionPool
from broker.context import RequestContext
from broker.errors import InternalFailure, InvalidParameterValue, ShoalError
from broker.http_app import Dispatcher, shoal_version
from broker.metrics import Metrics
from protocol.binary_frames import Hello, Request, pack_error, pack_result
from protocol.binary_ops import bind_request, find_operation, render_result

log = logging.getLogger("shoal.binary")

UNKNOWN = "unknown"
_ACCOUNT = re.compile(r"\d{12}")


class BinaryApp:
    """Turns REQUEST frames into broker calls and their results into frames."""

    def __init__(
        self,
        broker: Dispatcher,
        metrics: Metrics,
        *,
        default_account: str,
        default_region: str,
        http_host: str,
    ) -> None:
        self._broker = broker
        self._metrics = metrics
        self._default_account = default_account
        self._default_region = default_region
        self.http_host = http_host
        self.server_name = f"shoal/{shoal_version()}"
        self._connections = 0

    def context(self, hello: Hello) -> RequestContext:
        account = hello.account_id
        if account is None:
            account = self._default_account
        elif not _ACCOUNT.fullmatch(account):
            raise InvalidParameterValue(f"An account id is 12 digits, not {account!r}.")
        self._connections += 1
        # The broker reads account, region and host; one context serves the whole connection.
        return RequestContext(
            account_id=account,
            region=self._default_region,
            host=self.http_host,
            request_id=f"binary-{self._connections}",
        )

    async def handle(self, request: Request, ctx: RequestContext) -> bytes:
        started = time.perf_counter()
        service = action = UNKNOWN
        error_code: str | None = None
        try:
            op = find_operation(request.service, request.operation)
            service, action = request.service, op.name
            typed = bind_request(op, request.params)
            result = await self._broker.dispatch(service, typed, ctx)
            reply = pack_result(request.id, render_result(op, result))
        except ShoalError as error:
            error_code = error.code
            reply = pack_error(request.id, error)
        except Exception:
            log.exception("unexpected error in binary %s %s", service, action)
            error_code = InternalFailure.code
            reply = pack_error(request.id, InternalFailure())
        self._metrics.observe_request(service, action, time.perf_counter() - started, error_code)
        return reply


def _claim_socket_path(path: Path) -> None:
    """Remove a stale Unix socket at ``path``; refuse if a server answers there or it is no socket."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise OSError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)
        return
    finally:
        probe.close()
    raise OSError(f"another server listens on {path}")


class BinaryListener:
    """The binary protocol's TCP and Unix-socket listeners and their connections."""

    def __init__(
        self,
        app: BinaryApp,
        limits: BinaryLimits,
        *,
        host: str,
        port: int,
        socket_path: Path | None,
        backlog: int,
    ) -> None:
        self.app = app
        self.limits = limits
        self.pool = ConnectionPool[BinaryConnection]()
        self._host = host
        self._requested_port = port
        self._socket_path = socket_path
        self._backlog = backlog
        self._servers: list[asyncio.AbstractServer] = []
        self._unix_bound = False
        self.port: int | None = None

    async def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind (without accepting yet); a busy port fails here."""
        self.pool.now = loop.time()

        def factory() -> BinaryConnection:
            return BinaryConnection(self.app, self.pool, self.limits, loop)

        try:
            if self._requested_port:
                server = await loop.create_server(
                    factory,
                    self._host,
                    self._requested_port,
                    reuse_address=True,
                    backlog=self._backlog,
                    start_serving=False,
                )
                self._servers.append(server)
                self.port = server.sockets[0].getsockname()[1]
            if self._socket_path is not None:
                _claim_socket_path(self._socket_path)
                server = await loop.create_unix_server(
                    factory, str(self._socket_path), backlog=self._backlog, start_serving=False
                )
                self._servers.append(server)
                self._unix_bound = True
        except BaseException:
            self.close()
            raise

    async def start_serving(self) -> None:
        for server in self._servers:
            await server.start_serving()
        where = []
        if self.port:
            where.append(f"{self._host}:{self.port}")
        if self._socket_path is not None:
            where.append(str(self._socket_path))
        log.info("binary protocol listening on %s", ", ".join(where))

    def close(self) -> None:
        """Stop accepting (connections stay; see ``pool``)."""
        for server in self._servers:
            server.close()
        if self._socket_path is not None and self._unix_bound:
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.lstat(self._socket_path).st_mode):
                    os.unlink(self._socket_path)
            self._unix_bound = False

    async def wait_closed(self) -> None:
        for server in self._servers:
            await server.wait_closed()
