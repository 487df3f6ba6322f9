"""Outbound HTTP (server edge): the POST of SNS's HTTP/S deliveries.

A lean HTTP/1.1 client on asyncio streams (uvloop underneath): one
connection per request (``Connection: close``; no pooling: deliveries are
retried minutes apart and go to many hosts), the response's status line and
headers parsed by httptools, the body read and discarded.  ``https://`` uses
``ssl.create_default_context()``: the system's CAs and hostname checking, so
a self-signed endpoint fails as it does on AWS.  The whole exchange
(connect, TLS, request, response) is bounded by ``timeout`` (SNS uses 15 s).

:func:`post` is the :class:`broker.sns.outbox.Poster` the server injects into
the broker.  It never raises for network trouble: connection errors, TLS
failures, timeouts and unparsable responses answer ``PostResult(None, why)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from urllib.parse import urlsplit

import httptools

from broker.sns.outbox import PostResult

READ_CHUNK = 65536
MAX_RESPONSE_BYTES = 1 << 20  # the body is not used; stop reading a huge one here
_TLS: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    global _TLS
    if _TLS is None:
        _TLS = ssl.create_default_context()
    return _TLS


class _Response:
    """httptools callbacks: the status once the headers are complete, and the end of the message."""

    def __init__(self) -> None:
        self.headers_done = False
        self.complete = False

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_message_complete(self) -> None:
        self.complete = True


def request_bytes(url: str, headers: Sequence[tuple[str, str]], body: bytes) -> tuple[str, int, bool, bytes]:
    """Host, port, TLS or not, and the request's bytes (raises ValueError for a URL we cannot post to)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        host += f":{parts.port}"
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return parts.hostname, port, tls, head + body


async def post(url: str, headers: Sequence[tuple[str, str]], body: bytes, timeout: float) -> PostResult:
    """POST ``body`` to ``url``; the response status, or None and the reason nothing usable came back."""
    try:
        host, port, tls, payload = request_bytes(url, headers, body)
    except (ValueError, UnicodeEncodeError) as error:
        return PostResult(None, f"invalid endpoint: {error}")
    try:
        async with asyncio.timeout(timeout):
            return await _exchange(host, port, tls, payload)
    except TimeoutError:
        return PostResult(None, f"no response within {timeout:g} s")
    except ssl.SSLError as error:
        return PostResult(None, f"TLS failure: {error.reason or error}")
    except OSError as error:
        return PostResult(None, f"connection failed: {error.strerror or error}")
    except httptools.HttpParserError as error:
        return PostResult(None, f"invalid HTTP response: {error}")


async def _exchange(host: str, port: int, tls: bool, payload: bytes) -> PostResult:
    reader, writer = await asyncio.open_connection(
        host, port, ssl=_tls() if tls else None, server_hostname=host if tls else None
    )
    try:
        writer.write(payload)
        await writer.drain()
        state = _Response()
        parser = httptools.HttpResponseParser(state)
        received = 0
        while not state.complete:
            chunk = await reader.read(READ_CHUNK)
            if not chunk:
                break
            received += len(chunk)
            parser.feed_data(chunk)
            if state.headers_done and received > MAX_RESPONSE_BYTES:
                break
        if not state.headers_done:
            return PostResult(None, "connection closed before a complete response")
        return PostResult(parser.get_status_code())
    finally:
        writer.close()
        with contextlib.suppress(OSError):  # the answer is known; a failed close does not change it
            await writer.wait_closed()
