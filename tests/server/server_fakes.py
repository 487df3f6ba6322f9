"""Fakes for driving the server's connection class without sockets or sleeps.

``Wire`` wraps one :class:`~broker.http_connection.HttpConnection` on a mock
transport and a private event loop: ``send`` feeds bytes, ``settle`` runs the
loop until every ready callback has run (no timers, no sleeping), and
``responses`` parses what the connection wrote.  ``FakeBroker`` echoes the
request body unless the body names a gate (it then waits on a future the test
resolves) or asks for an error; ``FakeRouter``/``FakeCodec`` stand in for the
protocol layer with a trivial text format.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httptools

from broker.connections import ConnectionPool
from broker.context import RequestContext
from broker.core import CommitObserver, QueueStats
from broker.errors import InvalidParameterValue, QueueDoesNotExist, ShoalError
from broker.http_app import HttpApp
from broker.http_connection import HttpConnection, HttpLimits
from broker.metrics import Metrics
from protocol.wire import Call, HttpRequest, Reply


class MockTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.aborted = False
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.written += data

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = self.aborted = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        assert self.reading
        self.reading = False

    def resume_reading(self) -> None:
        assert not self.reading
        self.reading = True


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class _ResponseCollector:
    def __init__(self) -> None:
        self.done: list[Response] = []
        self._headers: dict[str, str] = {}
        self._body = b""

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode().lower()] = value.decode()

    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        self.done.append(Response(0, self._headers, self._body))
        self._headers, self._body = {}, b""


def parse_responses(raw: bytes) -> list[Response]:
    """Split a byte stream of HTTP/1.1 responses (no interim ones) into responses."""
    responses: list[Response] = []
    while raw:
        collector = _ResponseCollector()
        parser = httptools.HttpResponseParser(collector)
        head, sep, _ = raw.partition(b"\r\n\r\n")
        assert sep, raw
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        size = len(head) + 4 + length
        parser.feed_data(raw[:size])
        (response,) = collector.done
        response.status = parser.get_status_code()
        responses.append(response)
        raw = raw[size:]
    return responses


@dataclass
class FakeBroker:
    """Echoes the request (the body) back; ``gate:<name>`` waits for ``gates[name]``."""

    loop: asyncio.AbstractEventLoop
    gates: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    calls: list[bytes] = field(default_factory=list)
    cancelled: list[bytes] = field(default_factory=list)
    commit_observers: list[CommitObserver] = field(default_factory=list)

    def gate(self, name: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self.loop.create_future()
        self.gates[name] = future
        return future

    async def dispatch(self, service: str, request: object, ctx: RequestContext) -> object | None:
        assert isinstance(request, bytes)
        self.calls.append(request)
        if request.startswith(b"gate:"):
            try:
                await self.gates[request[5:].decode()]
            except asyncio.CancelledError:
                self.cancelled.append(request)
                raise
        if request == b"boom":
            raise RuntimeError("boom")
        if request == b"missing":
            raise QueueDoesNotExist()
        return request

    def queue_stats(self) -> list[QueueStats]:
        return [QueueStats("000000000000", "orders", visible=3, in_flight=2, delayed=1)]


class FakeCodec:
    """A text wire format: the body is the request, the action is the ``x-action`` header."""

    name = "fake"

    def decode(self, http: HttpRequest, ctx: RequestContext) -> Call:
        if http.headers.get("x-action") == "Invalid":
            raise InvalidParameterValue("bad input")
        return Call("sqs", http.headers.get("x-action", "Echo"), http.body, ctx)

    def encode_result(self, call: Call, result: object | None) -> Reply:
        assert isinstance(result, bytes)
        return Reply(200, [("Content-Type", "text/plain"), ("x-request-id", call.ctx.request_id)], result)

    def encode_error(self, error: ShoalError, ctx: RequestContext) -> Reply:
        return Reply(error.status, [("x-error", error.code)], error.message.encode())


class FakeRouter:
    codec = FakeCodec()

    def codec_for(self, http: HttpRequest) -> FakeCodec:
        return self.codec

    def context_for(
        self, http: HttpRequest, *, default_account: str, default_region: str, request_id: str
    ) -> RequestContext:
        return RequestContext(account_id=default_account, region=default_region, request_id=request_id)


class Wire:
    """One connection on a mock transport, driven synchronously."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limits: HttpLimits | None = None) -> None:
        self.loop = loop
        self.now = 1000.0
        self.broker = FakeBroker(loop)
        self.metrics = Metrics()
        self.metrics.watch_queues(self.broker.queue_stats)
        self.app = HttpApp(
            self.broker,
            FakeRouter(),
            self.metrics,
            default_account="000000000000",
            default_region="us-east-1",
        )
        self.pool = ConnectionPool(now=self.now)
        self.limits = limits or HttpLimits()
        self.transport = MockTransport()
        self.conn = HttpConnection(self.app, self.pool, self.limits, loop)
        self.conn.connection_made(self.transport)
        self._read = 0

    def send(self, data: bytes) -> None:
        self.conn.data_received(data)
        self.settle()

    def settle(self) -> None:
        """Run every ready callback (tasks stepping, done callbacks) until none is left."""

        async def spin() -> None:
            for _ in range(20):
                await asyncio.sleep(0)

        self.loop.run_until_complete(spin())

    def release(self, gate: str) -> None:
        self.broker.gates[gate].set_result(None)
        self.settle()

    def new_bytes(self) -> bytes:
        data = bytes(self.transport.written[self._read :])
        self._read = len(self.transport.written)
        return data

    def responses(self) -> list[Response]:
        return parse_responses(self.new_bytes())


def post(body: bytes, *, path: str = "/", headers: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: localhost:4566\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
    return head.encode() + body
