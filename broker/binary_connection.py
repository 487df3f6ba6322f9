"""One binary-protocol connection: frames in, dispatch concurrently, answers out of order.

Strategy: an :class:`asyncio.Protocol` per connection feeds bytes to the
sans-IO :class:`~protocol.binary_frames.FrameDecoder`.  The first frame must be
a HELLO (it fixes the account of every request on the connection); after the
WELCOME, each REQUEST becomes a task at once (``handler.handle``), keyed by its
id, so a long-polling receive never holds up the frames behind it.  A finished
task queues its answer frame; answers queued within one loop iteration go out
in one ``write`` (the committer resolves a whole group commit's futures in one
iteration, so a pipelining client gets its batch of answers in one segment).

Rules and invariants:

- Back-pressure, never unbounded memory: frames are taken from the decoder
  only while fewer than ``max_in_flight`` requests are unanswered and the
  transport's write buffer is under its high-water mark (a client that does
  not read its answers); otherwise reading pauses, and resumes (and the
  frames already buffered are processed) when both clear.
- A malformed frame (sound length, bad body) is answered with an ERROR frame
  and the connection goes on; a length over ``max_frame``, a bad handshake or
  a reused in-flight id is answered with a connection-level ERROR and closes.
- Timeouts are checked by the server's tick (no timer per request): no
  HELLO within ``handshake_timeout``, or nothing in flight and no frame for
  ``idle_timeout``, closes the connection.
- ``connection_lost`` and end of stream cancel every pending dispatch (an
  abandoned long poll must not take messages nobody will read).
- Shutdown: stop reading, answer what is in flight, then close.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import Protocol, cast

from broker.connections import ConnectionPool
from broker.context import RequestContext
from broker.errors import (
    InvalidParameterValue,
    RequestEntityTooLarge,
    SerializationException,
    ServiceUnavailable,
    ShoalError,
)
from protocol.binary_frames import (
    DEFAULT_MAX_FRAME,
    VERSION,
    FrameDecoder,
    FrameTooLarge,
    Hello,
    Malformed,
    NeedData,
    Ping,
    Request,
    pack_error,
    pack_pong,
    pack_welcome,
)

log = logging.getLogger("shoal.binary")


@dataclass(frozen=True, slots=True)
class BinaryLimits:
    """What one binary connection (and the listener) may ask of the server."""

    max_frame: int = DEFAULT_MAX_FRAME
    max_in_flight: int = 1024  # unanswered requests per connection
    max_connections: int = 4096
    idle_timeout: float = 300.0
    handshake_timeout: float = 10.0


class FrameHandler(Protocol):
    """The server's application edge for the binary protocol."""

    server_name: str

    def context(self, hello: Hello) -> RequestContext:
        """The context of a connection's requests; raises a ShoalError to refuse the HELLO."""
        ...

    async def handle(self, request: Request, ctx: RequestContext) -> bytes:
        """The answer frame (RESULT or ERROR) of one request; never raises (except cancel)."""
        ...


class BinaryConnection(asyncio.Protocol):
    """The lifetime of one binary client connection."""

    def __init__(
        self,
        handler: FrameHandler,
        pool: ConnectionPool[BinaryConnection],
        limits: BinaryLimits,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._handler = handler
        self._pool = pool
        self._limits = limits
        self._loop = loop
        self._decoder = FrameDecoder(limits.max_frame)
        self._transport: asyncio.Transport | None = None
        self._ctx: RequestContext | None = None  # set by the HELLO
        self._tasks: dict[int, asyncio.Task[bytes]] = {}
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._write_paused = False
        self._read_paused = False
        self._stopped = False  # no more frames are processed
        self._closed = False
        self._opened_at = pool.now
        self._last_frame = pool.now

    # -- asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._opened_at = self._last_frame = self._pool.now
        if len(self._pool.live) >= self._limits.max_connections:
            log.warning("binary connection refused: %d connections open", len(self._pool.live))
            self._fatal(ServiceUnavailable("Too many connections."))
            return
        self._pool.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = self._stopped = True
        self._cancel_pending()
        self._pool.discard(self)

    def data_received(self, data: bytes) -> None:
        if self._stopped:
            return
        self._decoder.receive_data(data)
        self._last_frame = self._pool.now
        self._process()

    def eof_received(self) -> bool | None:
        self._stopped = True
        return False  # close; connection_lost cancels what is pending

    def pause_writing(self) -> None:
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._update_reading()
        self._process()

    # -- frames -------------------------------------------------------------

    def _process(self) -> None:
        decoder = self._decoder
        tasks = self._tasks
        cap = self._limits.max_in_flight
        while not self._stopped and len(tasks) < cap and not self._write_paused:
            try:
                event = decoder.next_event()
            except FrameTooLarge as error:
                self._fatal(RequestEntityTooLarge(str(error)))
                return
            if type(event) is Request:
                ctx = self._ctx
                if ctx is None:
                    self._fatal(InvalidParameterValue("The first frame must be HELLO."))
                    return
                if event.id in tasks:
                    self._fatal(InvalidParameterValue(f"Request id {event.id} is already in flight."))
                    return
                task = self._loop.create_task(self._handler.handle(event, ctx))
                tasks[event.id] = task
                task.add_done_callback(functools.partial(self._on_done, event.id))
            elif type(event) is NeedData:
                break
            elif type(event) is Hello:
                self._hello(event)
            elif self._ctx is None:
                self._fatal(InvalidParameterValue("The first frame must be HELLO."))
                return
            elif type(event) is Ping:
                self._queue(pack_pong(event.id))
            elif type(event) is Malformed:
                self._queue(pack_error(event.id, SerializationException(event.reason)))
            else:
                self._queue(
                    pack_error(None, InvalidParameterValue(f"Unexpected {type(event).__name__} frame."))
                )
        self._update_reading()

    def _hello(self, hello: Hello) -> None:
        if self._ctx is not None:
            self._fatal(InvalidParameterValue("HELLO was already received on this connection."))
            return
        if hello.version != VERSION:
            self._fatal(
                InvalidParameterValue(f"Protocol version {hello.version} is not supported; use {VERSION}.")
            )
            return
        try:
            self._ctx = self._handler.context(hello)
        except ShoalError as error:
            self._fatal(error)
            return
        self._queue(
            pack_welcome(self._handler.server_name, self._limits.max_frame, self._limits.max_in_flight)
        )

    def _on_done(self, id: int, task: asyncio.Task[bytes]) -> None:
        if self._closed or task.cancelled():
            return
        del self._tasks[id]
        self._queue(task.result())
        if self._stopped:
            return
        if self._read_paused or self._decoder.buffered:
            self._update_reading()
            if self._decoder.buffered:
                self._process()

    # -- output -------------------------------------------------------------

    def _queue(self, frame: bytes) -> None:
        self._out.append(frame)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        out, self._out = self._out, []
        transport = self._transport
        if transport is None or self._closed or not out:
            return
        transport.write(out[0] if len(out) == 1 else b"".join(out))
        if self._stopped and not self._tasks:
            self._close()

    def _fatal(self, error: ShoalError) -> None:
        """A connection-level ERROR, then close (after what is queued; pending requests are dropped)."""
        log.debug("binary connection closed: %s %s", error.code, error.message)
        self._stopped = True
        self._cancel_pending()
        self._out.append(pack_error(None, error))
        self._flush()
        self._close()

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or self._closed:
            return
        pause = self._stopped or self._write_paused or len(self._tasks) >= self._limits.max_in_flight
        if pause != self._read_paused:
            self._read_paused = pause
            if pause:
                transport.pause_reading()
            else:
                transport.resume_reading()

    # -- shutdown and timeouts ----------------------------------------------

    def shutdown(self) -> None:
        """Graceful close: read nothing more, answer what is in flight, then close."""
        self._stopped = True
        self._update_reading()
        if not self._tasks and not self._flush_scheduled:
            self._close()

    def abort(self) -> None:
        if self._transport is not None and not self._closed:
            self._closed = self._stopped = True
            self._cancel_pending()
            self._transport.abort()

    def check_timeouts(self, now: float) -> None:
        if self._closed or self._transport is None:
            return
        no_hello = self._ctx is None and now - self._opened_at > self._limits.handshake_timeout
        idle = not self._tasks and now - self._last_frame > self._limits.idle_timeout
        if no_hello or idle:
            self._close()

    def _close(self) -> None:
        if self._transport is None or self._closed:
            return
        self._closed = self._stopped = True
        self._cancel_pending()
        self._transport.close()

    def _cancel_pending(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
