"""HTTP request parsing: httptools alone, and the server's connection class on a mock transport."""

from __future__ import annotations

import asyncio

import httptools
from pytest_benchmark.fixture import BenchmarkFixture

from bench.sqs import Endpoint, Signer
from broker.connections import ConnectionPool
from broker.errors import ShoalError
from broker.http_connection import HttpConnection, HttpLimits
from protocol.wire import HttpRequest, Reply

SEND = Signer(Endpoint.parse("http://localhost:4566"), "us-east-1", "test").request(
    "SendMessage", {"QueueUrl": "http://localhost:4566/000000000000/q", "MessageBody": "x" * 100}
)
REPLY = Reply(200, [("Content-Type", "application/x-amz-json-1.0")], b'{"MessageId":"m"}')


class _Sink:
    """httptools callbacks that keep what a server keeps (headers, body), nothing more."""

    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.body = b""
        self.complete = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self.body = body

    def on_message_complete(self) -> None:
        self.complete += 1


def test_httptools_parse_send_message(benchmark: BenchmarkFixture) -> None:
    sink = _Sink()
    parser = httptools.HttpRequestParser(sink)
    benchmark(parser.feed_data, SEND)
    assert sink.complete >= 1 and sink.body.startswith(b'{"QueueUrl"')


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.replies = 0
        self.written: asyncio.Future[None] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.replies += 1
        if self.written is not None and not self.written.done():
            self.written.set_result(None)

    def is_closing(self) -> bool:
        return False


class _Handler:
    async def handle(self, request: HttpRequest) -> Reply:
        return REPLY

    def reject(self, request: HttpRequest, error: ShoalError) -> Reply:
        return REPLY


def test_connection_request_to_reply(benchmark: BenchmarkFixture, loop: asyncio.AbstractEventLoop) -> None:
    """Parse a SendMessage, dispatch it as a task, render and write the reply (no codec, no broker)."""
    transport = _Transport()
    conn = HttpConnection(_Handler(), ConnectionPool(), HttpLimits(), loop)
    conn.connection_made(transport)

    async def one() -> None:
        transport.written = loop.create_future()
        conn.data_received(SEND)
        await transport.written

    benchmark(lambda: loop.run_until_complete(one()))
    assert transport.replies >= 1
