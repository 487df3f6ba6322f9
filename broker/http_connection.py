"""One HTTP/1.1 connection: parse with httptools, dispatch, reply in order.

Strategy: an :class:`asyncio.Protocol` per connection (callbacks, no streams)
feeds bytes to an ``httptools.HttpRequestParser``.  Each request gets a
:class:`_Slot` in ``_pipeline`` when its headers are complete; when its body
is complete it is handed to the :class:`RequestHandler` as a task at once, so
a long-polling ReceiveMessage never stops the parser.  Replies are rendered to
bytes when their task finishes and written strictly in request order: only
the head of the pipeline may be written, and a finished head flushes every
finished slot behind it in one ``write``.

Rules and invariants:

- ``Expect: 100-continue`` is answered when its request reaches the head of
  the pipeline (an interim response must not overtake earlier replies), and
  not at all when the body already arrived or is over the size limit.
- A request that cannot go on (malformed HTTP, headers or body over a limit)
  gets a *final* slot: the parser stops, earlier replies are still written,
  then the error reply, then the transport closes.
- Reading pauses while the transport's write buffer is over its high-water
  mark or ``max_pending`` requests wait on this connection; it resumes when
  both clear.  Bytes already received are still parsed (bounded by one read).
- Timeouts are checked by the server's tick through :meth:`check_timeouts`
  (no timer per request): a connection idle for ``keep_alive_timeout`` or a
  request whose headers and body take longer than ``request_timeout`` is
  closed.
- ``connection_lost`` cancels every pending dispatch; the handler's tasks see
  ``CancelledError`` and nothing is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol, cast

import httptools

from broker.connections import ConnectionPool
from broker.errors import RequestEntityTooLarge, ShoalError
from protocol.wire import HttpRequest, Reply

log = logging.getLogger("shoal.http")

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus}
_CLOSE = b"Connection: close\r\n\r\n"
_KEEP_ALIVE_1_0 = b"Connection: keep-alive\r\n\r\n"
_END = b"\r\n"


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """What one connection may ask of the server."""

    max_body_bytes: int = 16 * 1024 * 1024
    max_header_bytes: int = 64 * 1024  # request line + all header lines
    max_headers: int = 100
    max_pending: int = 64  # requests parsed but not yet answered, per connection
    keep_alive_timeout: float = 75.0
    request_timeout: float = 60.0  # from the first byte of a request to its last


class RequestHandler(Protocol):
    """What a connection calls: the server's application edge."""

    async def handle(self, request: HttpRequest) -> Reply:
        """Answer one request; never raises (except ``CancelledError``)."""
        ...

    def reject(self, request: HttpRequest, error: ShoalError) -> Reply:
        """Render ``error`` for a request refused before its body was read."""
        ...


class _Slot:
    """One request's place in the reply order."""

    __slots__ = ("data", "final", "head_only", "keep_alive", "needs_continue", "task")

    def __init__(self, keep_alive: bool, head_only: bool) -> None:
        self.keep_alive = keep_alive
        self.head_only = head_only
        self.needs_continue = False
        self.final = False  # the connection closes after this reply
        self.data: bytes | None = None  # the rendered reply, once ready
        self.task: asyncio.Task[Reply] | None = None


class _StopParsing(Exception):
    """Raised from a parser callback after the connection queued its final reply."""


def render(reply: Reply, *, close: bool, http10_keep_alive: bool = False, head_only: bool = False) -> bytes:
    """Serialize a reply: status line, the reply's headers, Content-Length, Connection."""
    status_line = _STATUS_LINES.get(reply.status) or f"HTTP/1.1 {reply.status} Unknown\r\n".encode()
    body = reply.body
    head = "".join([f"{name}: {value}\r\n" for name, value in reply.headers])
    if close:
        tail = _CLOSE
    elif http10_keep_alive:
        tail = _KEEP_ALIVE_1_0
    else:
        tail = _END
    return b"".join(
        (
            status_line,
            head.encode("latin-1"),
            b"Content-Length: %d\r\n" % len(body),
            tail,
            b"" if head_only else body,
        )
    )


def plain_reply(status: int, text: str = "") -> Reply:
    """A protocol-less reply, for failures below any codec (bad HTTP, header limits)."""
    body = (text or HTTPStatus(status).phrase).encode() + b"\n"
    return Reply(status, [("Content-Type", "text/plain; charset=utf-8")], body)


class HttpConnection(asyncio.Protocol):
    """The lifetime of one client connection."""

    def __init__(
        self,
        handler: RequestHandler,
        pool: ConnectionPool[HttpConnection],
        limits: HttpLimits,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._handler = handler
        self._pool = pool
        self._limits = limits
        self._max_header_bytes = limits.max_header_bytes
        self._max_headers = limits.max_headers
        self._loop = loop
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._pipeline: deque[_Slot] = deque()
        self._write_paused = False
        self._read_paused = False
        self._stopped = False  # no more requests are parsed on this connection
        self._shutting_down = False
        self._closed = False
        self._idle_since: float | None = None
        self._request_started: float | None = None
        # The request being parsed.
        self._url = b""
        self._method = ""
        self._headers: dict[str, str] = {}
        self._header_count = 0
        self._header_bytes = 0
        self._body: list[bytes] = []
        self._body_bytes = 0
        self._slot: _Slot | None = None
        self._http10 = False

    # -- asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._idle_since = self._pool.now
        self._pool.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._cancel_pending()
        self._pool.discard(self)

    def data_received(self, data: bytes) -> None:
        if self._stopped:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # An Upgrade/CONNECT request: we speak only HTTP/1.1; answer what was parsed, then close.
            self._stop()
        except httptools.HttpParserError as error:
            if not self._stopped:
                if isinstance(error, httptools.HttpParserCallbackError):
                    log.error("HTTP parser callback failed", exc_info=error.__context__)
                else:
                    log.debug("malformed HTTP request (%s); closing", error)
                self._finish_with(plain_reply(400))
        # Replies come from tasks, so after parsing only a final error or a 100 Continue can be due.
        pipeline = self._pipeline
        if self._stopped or (pipeline and (pipeline[0].data is not None or pipeline[0].needs_continue)):
            self._flush()

    def eof_received(self) -> bool | None:
        # SDK clients close (FIN) only when they give up on a request (a read
        # timeout): treat it as gone, so an abandoned long poll cannot take
        # messages nobody will receive.  Returning False closes the transport,
        # and connection_lost cancels whatever is still pending.
        self._stop()
        self._drop_partial()
        return False

    def pause_writing(self) -> None:
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._update_reading()

    # -- httptools callbacks ----------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._header_count = 0
        self._header_bytes = 0
        self._body = []
        self._body_bytes = 0
        self._idle_since = None
        self._request_started = self._pool.now

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._header_bytes += len(url)
        if self._header_bytes > self._max_header_bytes:
            self._finish_with(plain_reply(431))
            raise _StopParsing

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self._max_header_bytes or self._header_count > self._max_headers:
            self._finish_with(plain_reply(431))
            raise _StopParsing
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers = self._headers
        previous = headers.get(key)
        headers[key] = text if previous is None else f"{previous}, {text}"

    def on_headers_complete(self) -> None:
        parser = self._parser
        method = self._method = parser.get_method().decode("ascii")
        self._http10 = parser.get_http_version() == "1.0"
        slot = self._slot = _Slot(parser.should_keep_alive(), method == "HEAD")
        self._pipeline.append(slot)
        headers = self._headers
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._limits.max_body_bytes:
            self._refuse_body(slot, headers)
            raise _StopParsing
        if not self._http10 and headers.get("expect", "").lower() == "100-continue":
            slot.needs_continue = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._body_bytes += len(body)
        if self._body_bytes > self._limits.max_body_bytes:
            assert self._slot is not None
            self._refuse_body(self._slot, self._headers)
            raise _StopParsing

    def on_message_complete(self) -> None:
        slot = self._slot
        assert slot is not None
        self._slot = None
        self._request_started = None
        slot.needs_continue = False
        body = self._body
        request = self._request(self._headers, body[0] if len(body) == 1 else b"".join(body))
        self._body = []
        if not slot.keep_alive:
            slot.final = True
            self._stop()
        task = self._loop.create_task(self._handler.handle(request))
        slot.task = task
        task.add_done_callback(lambda t: self._on_reply(slot, t))
        self._update_reading()

    # -- shutdown and timeouts --------------------------------------------

    def shutdown(self) -> None:
        """Graceful close: parse nothing more, answer what is pending, then close."""
        self._shutting_down = True
        self._stop()
        self._drop_partial()
        if self._pipeline and self._pipeline[-1].data is None:
            self._pipeline[-1].final = True
        self._flush()

    def abort(self) -> None:
        """Close now; pending dispatches are cancelled by ``connection_lost``."""
        if self._transport is not None and not self._closed:
            self._closed = True
            self._cancel_pending()
            self._transport.abort()

    def check_timeouts(self, now: float) -> None:
        if self._closed or self._transport is None:
            return
        started = self._request_started
        if started is not None and now - started > self._limits.request_timeout:
            log.debug("request not complete after %.0f s; closing", self._limits.request_timeout)
            self._close()
        elif self._idle_since is not None and now - self._idle_since > self._limits.keep_alive_timeout:
            self._close()

    # -- internals ----------------------------------------------------------

    def _request(self, headers: dict[str, str], body: bytes) -> HttpRequest:
        url = self._url
        if not url.startswith(b"/"):
            # absolute-form ("http://host/path?q"), as proxies send it
            parsed = httptools.parse_url(url)
            path = (parsed.path or b"/").decode("latin-1")
            query = (parsed.query or b"").decode("latin-1")
        else:
            raw_path, _, raw_query = url.partition(b"?")
            path = raw_path.decode("latin-1")
            query = raw_query.decode("latin-1")
        return HttpRequest(method=self._method, path=path, query=query, headers=headers, body=body)

    def _refuse_body(self, slot: _Slot, headers: dict[str, str]) -> None:
        """Answer 413 in the request's own protocol, then close."""
        slot.needs_continue = False
        request = self._request(headers, b"")
        reply = self._handler.reject(request, RequestEntityTooLarge())
        slot.final = True
        slot.data = render(reply, close=True, head_only=slot.head_only)
        self._slot = None
        self._request_started = None
        self._stop()

    def _finish_with(self, reply: Reply) -> None:
        """Queue a final reply for the request being parsed (or a new slot), then close."""
        slot = self._slot
        if slot is None or slot.task is not None:
            slot = _Slot(keep_alive=False, head_only=False)
            self._pipeline.append(slot)
        slot.needs_continue = False
        slot.final = True
        slot.data = render(reply, close=True)
        self._slot = None
        self._request_started = None
        self._stop()

    def _drop_partial(self) -> None:
        """Forget a request still arriving: it will not be answered."""
        if self._slot is not None and self._slot.task is None:
            self._pipeline.remove(self._slot)
        self._slot = None
        self._request_started = None

    def _stop(self) -> None:
        self._stopped = True
        if self._transport is not None and not self._read_paused and not self._closed:
            self._read_paused = True
            self._transport.pause_reading()

    def _on_reply(self, slot: _Slot, task: asyncio.Task[Reply]) -> None:
        if self._closed or task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("request handler failed", exc_info=error)
            reply = plain_reply(500)
        else:
            reply = task.result()
        close = slot.final or not slot.keep_alive
        slot.final = close
        slot.data = render(
            reply,
            close=close,
            http10_keep_alive=self._http10 and not close,
            head_only=slot.head_only,
        )
        if self._pipeline and self._pipeline[0] is slot:
            self._flush()

    def _flush(self) -> None:
        transport = self._transport
        if transport is None or self._closed:
            return
        pipeline = self._pipeline
        out: list[bytes] = []
        close = False
        while pipeline:
            slot = pipeline[0]
            if slot.data is None:
                if slot.needs_continue:
                    slot.needs_continue = False
                    out.append(CONTINUE)
                break
            pipeline.popleft()
            out.append(slot.data)
            if slot.final:
                close = True
                break
        if out:
            transport.write(out[0] if len(out) == 1 else b"".join(out))
        if close or (self._stopped and not pipeline and self._slot is None):
            self._close()
            return
        if not pipeline and self._slot is None:
            self._idle_since = self._pool.now
        self._update_reading()

    def _close(self) -> None:
        """Close after the buffered writes; nothing is written or dispatched after this."""
        assert self._transport is not None
        self._closed = self._stopped = True
        self._cancel_pending()
        self._transport.close()

    def _cancel_pending(self) -> None:
        for slot in self._pipeline:
            if slot.task is not None:
                slot.task.cancel()
        self._pipeline.clear()
        self._slot = None

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or self._closed or self._stopped:
            return
        pause = self._write_paused or len(self._pipeline) >= self._limits.max_pending
        if pause != self._read_paused:
            self._read_paused = pause
            if pause:
                transport.pause_reading()
            else:
                transport.resume_reading()
