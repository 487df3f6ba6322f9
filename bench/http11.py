"""A minimal HTTP/1.1 keep-alive client for load generation.

Rules: one request in flight per connection (no pipelining), so a connection
is a closed loop and its latency is the server's.  Requests are pre-encoded
bytes (the scenarios build them once and reuse them), so the hot path is one
``transport.write`` and one parse.  :class:`ResponseParser` is sans-IO (bytes
in, complete responses out; partial input just waits for more) and handles
``Content-Length`` and ``chunked`` bodies; a response without either ends the
connection after it, as HTTP says.  :class:`Connection` is an
``asyncio.Protocol``, which costs less per request than streams.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import cast


class ProtocolError(Exception):
    """The server's bytes are not HTTP/1.1 we understand."""


class TransportFailed(Exception):
    """A request failed below HTTP (already counted as an error); the connection must be replaced."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


class ResponseParser:
    """Turns a byte stream into :class:`Response` objects."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._head: tuple[int, dict[str, str], bool] | None = None
        self._body_start = 0

    def feed(self, data: bytes) -> list[Response]:
        self._buf += data
        out: list[Response] = []
        while True:
            response = self._next()
            if response is None:
                return out
            if response.status >= 200:  # 1xx are interim; the real answer follows
                out.append(response)

    def eof(self) -> Response | None:
        """The connection closed: a read-until-close body is complete now."""
        if self._head is not None and "content-length" not in self._head[1]:
            status, headers, _ = self._head
            if headers.get("transfer-encoding", "").lower() != "chunked":
                return Response(status, headers, bytes(self._buf[self._body_start :]), False)
        return None

    def _next(self) -> Response | None:
        if self._head is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            self._head = _parse_head(bytes(self._buf[:end]))
            self._body_start = end + 4
        status, headers, keep_alive = self._head
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parsed = _parse_chunked(self._buf, self._body_start)
            if parsed is None:
                return None
            body, consumed = parsed
        elif "content-length" in headers or status in (204, 304) or status < 200:
            length = int(headers.get("content-length", "0"))
            consumed = self._body_start + length
            if len(self._buf) < consumed:
                return None
            body = bytes(self._buf[self._body_start : consumed])
        else:
            return None  # body runs until the connection closes: see eof()
        del self._buf[:consumed]
        self._head = None
        return Response(status, headers, body, keep_alive)


def _parse_head(head: bytes) -> tuple[int, dict[str, str], bool]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"bad header line {line!r}")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection and (parts[0] == "HTTP/1.1" or "keep-alive" in connection)
    return int(parts[1]), headers, keep_alive


def _parse_chunked(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """``(body, end offset)`` of a complete chunked body in ``buf``, else None."""
    body = bytearray()
    pos = start
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        try:
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
        except ValueError:
            raise ProtocolError("bad chunk size line") from None
        if size == 0:
            trailer_end = buf.find(b"\r\n\r\n", line_end)
            if trailer_end == line_end:
                return bytes(body), line_end + 4
            return (bytes(body), trailer_end + 4) if trailer_end >= 0 else None
        data_start = line_end + 2
        if len(buf) < data_start + size + 2:
            return None
        body += buf[data_start : data_start + size]
        pos = data_start + size + 2


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self._parser = ResponseParser()
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self.busy_since = 0.0  # time.monotonic() of the request in flight, or 0.0
        self.closed = False
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            responses = self._parser.feed(data)
        except ProtocolError as exc:
            self.abort(exc)
            return
        for response in responses:
            self._resolve(response)

    def eof_received(self) -> bool | None:
        response = self._parser.eof()
        if response is not None:
            self._resolve(response)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.lost.done():
            self.lost.set_result(None)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc or ConnectionResetError("connection closed by the server"))

    def _resolve(self, response: Response) -> None:
        waiter, self._waiter = self._waiter, None
        self.busy_since = 0.0
        if waiter is not None and not waiter.done():
            waiter.set_result(response)
        if not response.keep_alive and self._transport is not None:
            self._transport.close()

    def request(self, raw: bytes) -> asyncio.Future[Response]:
        """Write a pre-encoded request; the future resolves with its response."""
        assert self._waiter is None, "one request at a time per connection"
        assert self._transport is not None
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        if self.closed:
            waiter.set_exception(ConnectionResetError("connection closed"))
            return waiter
        self._waiter = waiter
        self.busy_since = time.monotonic()
        self._transport.write(raw)
        return waiter

    def abort(self, exc: Exception) -> None:
        """Fail the request in flight with ``exc`` and drop the connection."""
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


async def connect(host: str, port: int, tls: bool) -> Connection:
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context() if tls else None
    _, conn = await loop.create_connection(Connection, host, port, ssl=context)
    return conn
