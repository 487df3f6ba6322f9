"""BinaryConnection and BinaryApp driven through a mock transport: no sockets, no sleeps."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest
from server_fakes import MockTransport

from broker.binary_connection import BinaryConnection, BinaryLimits
from broker.binary_server import BinaryApp
from broker.connections import ConnectionPool
from broker.context import RequestContext
from broker.errors import QueueDoesNotExist
from broker.metrics import Metrics
from broker.sqs import api
from protocol.binary_frames import (
    NEED_DATA,
    Error,
    FrameDecoder,
    Pong,
    Result,
    Welcome,
    pack_hello,
    pack_ping,
    pack_request,
)


class FakeBroker:
    """Answers GetQueueUrl with the queue name in a URL; a name ``gate:x`` waits for ``release``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.gates: dict[str, asyncio.Future[None]] = {}
        self.calls: list[tuple[object, RequestContext]] = []

    async def dispatch(self, service: str, request: object, ctx: RequestContext) -> object | None:
        self.calls.append((request, ctx))
        assert isinstance(request, api.GetQueueUrl)
        name = request.queue_name
        if name.startswith("gate:"):
            gate = self.gates.setdefault(name, self.loop.create_future())
            await gate
        if name == "missing":
            raise QueueDoesNotExist()
        if name == "boom":
            raise RuntimeError("unexpected")
        return api.GetQueueUrlResult(queue_url=f"{ctx.base_url}/{ctx.account_id}/{name}")


class Wire:
    def __init__(self, loop: asyncio.AbstractEventLoop, limits: BinaryLimits | None = None) -> None:
        self.loop = loop
        self.broker = FakeBroker(loop)
        self.metrics = Metrics()
        self.app = BinaryApp(
            self.broker,
            self.metrics,
            default_account="000000000000",
            default_region="us-east-1",
            http_host="127.0.0.1:4566",
        )
        self.pool = ConnectionPool[BinaryConnection]()
        self.limits = limits or BinaryLimits()
        self.conn = self.connect()
        self.transport: MockTransport = self.conn._transport  # type: ignore[assignment]
        self._decoder = FrameDecoder()
        self._read = 0

    def connect(self) -> BinaryConnection:
        conn = BinaryConnection(self.app, self.pool, self.limits, self.loop)
        conn.connection_made(MockTransport())
        return conn

    def send(self, data: bytes) -> None:
        self.conn.data_received(data)
        self.settle()

    def settle(self) -> None:
        for _ in range(20):
            self.loop.run_until_complete(asyncio.sleep(0))

    def frames(self) -> list[Any]:
        written = self.transport.written
        self._decoder.receive_data(bytes(written[self._read :]))
        self._read = len(written)
        out = []
        while (event := self._decoder.next_event()) is not NEED_DATA:
            out.append(event)
        return out

    def hello(self, account: str | None = None) -> Welcome:
        self.send(pack_hello("test", account))
        (welcome,) = self.frames()
        assert type(welcome) is Welcome
        return welcome

    def release(self, name: str) -> None:
        self.broker.gates[name].set_result(None)
        self.settle()


def get_url(id: int, name: str) -> bytes:
    return pack_request(id, "sqs", "GetQueueUrl", {"QueueName": name})


@pytest.fixture
def bwire(loop: asyncio.AbstractEventLoop) -> Wire:
    return Wire(loop)


def test_handshake_then_request(bwire: Wire) -> None:
    welcome = bwire.hello()
    assert welcome.version == 1 and welcome.max_in_flight == 1024
    bwire.send(get_url(1, "q"))
    assert bwire.frames() == [Result(1, {"QueueUrl": "http://127.0.0.1:4566/000000000000/q"})]


def test_account_from_the_hello(bwire: Wire) -> None:
    bwire.hello("123456789012")
    bwire.send(get_url(1, "q"))
    assert bwire.frames()[0].result["QueueUrl"].endswith("/123456789012/q")


@pytest.mark.parametrize("first", [get_url(1, "q"), pack_ping(1)])
def test_first_frame_must_be_hello(bwire: Wire, first: bytes) -> None:
    bwire.send(first)
    (error,) = bwire.frames()
    assert (type(error), error.id, error.code) == (Error, None, "InvalidParameterValue")
    assert bwire.transport.closed
    assert not bwire.broker.calls


def test_bad_version_and_bad_account_close(loop: asyncio.AbstractEventLoop) -> None:
    for hello in (msgpack.packb([1, 2, "x", None, None]), msgpack.packb([1, 1, "x", "12", None])):
        wire = Wire(loop)
        wire.send(len(hello).to_bytes(4, "big") + hello)
        (error,) = wire.frames()
        assert error.code == "InvalidParameterValue" and wire.transport.closed


def test_answers_out_of_order_and_a_parked_request_blocks_nothing(bwire: Wire) -> None:
    bwire.hello()
    bwire.send(get_url(1, "gate:slow") + get_url(2, "fast") + pack_ping(9))
    frames = bwire.frames()
    assert Result(2, {"QueueUrl": "http://127.0.0.1:4566/000000000000/fast"}) in frames
    assert Pong(9) in frames and len(frames) == 2
    bwire.release("gate:slow")
    assert [f.id for f in bwire.frames()] == [1]


def test_errors_are_error_frames_with_the_request_id(bwire: Wire) -> None:
    bwire.hello()
    bwire.send(
        get_url(1, "missing")
        + get_url(2, "boom")
        + pack_request(3, "sqs", "Nope", {})
        + pack_request(4, "sqs", "GetQueueUrl", {"QueueName": 7})
        + pack_request(5, "sqs", "GetQueueUrl", {})
    )
    codes = {f.id: f.code for f in bwire.frames()}
    assert codes == {
        1: "QueueDoesNotExist",
        2: "InternalFailure",
        3: "UnknownOperationException",
        4: "SerializationException",
        5: "MissingParameter",
    }
    assert not bwire.transport.closed
    text = bwire.metrics.render().decode()
    assert 'shoal_requests_total{action="GetQueueUrl",service="sqs"} 4.0' in text


def test_malformed_frame_is_answered_and_the_connection_goes_on(bwire: Wire) -> None:
    bwire.hello()
    garbage = b"\xc1\xc1\xc1"
    bwire.send(len(garbage).to_bytes(4, "big") + garbage + get_url(1, "q"))
    error, result = bwire.frames()
    assert (error.id, error.code) == (None, "SerializationException")
    assert result.id == 1


def test_oversize_frame_closes(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, BinaryLimits(max_frame=1000))
    wire.hello()
    wire.send((1001).to_bytes(4, "big"))
    (error,) = wire.frames()
    assert error.code == "RequestEntityTooLarge" and wire.transport.closed


def test_reused_in_flight_id_closes(bwire: Wire) -> None:
    bwire.hello()
    bwire.send(get_url(1, "gate:a") + get_url(1, "q"))
    (error,) = bwire.frames()
    assert (error.id, error.code) == (None, "InvalidParameterValue")
    assert bwire.transport.closed


def test_in_flight_cap_pauses_reading_and_resumes(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, BinaryLimits(max_in_flight=2))
    wire.hello()
    wire.send(get_url(1, "gate:a") + get_url(2, "gate:b") + get_url(3, "q"))
    assert not wire.transport.reading
    assert len(wire.broker.calls) == 2  # the third frame waits in the buffer
    wire.release("gate:a")
    assert [f.id for f in wire.frames()] == [1, 3]
    wire.release("gate:b")
    assert [f.id for f in wire.frames()] == [2]
    assert wire.transport.reading


def test_a_client_that_does_not_read_is_not_read_either(bwire: Wire) -> None:
    bwire.hello()
    bwire.conn.pause_writing()
    assert not bwire.transport.reading
    bwire.send(get_url(1, "q"))
    assert not bwire.broker.calls
    bwire.conn.resume_writing()
    bwire.settle()
    assert [f.id for f in bwire.frames()] == [1]


def test_end_of_stream_cancels_pending_requests(bwire: Wire) -> None:
    bwire.hello()
    bwire.send(get_url(1, "gate:a"))
    assert bwire.conn.eof_received() is False
    bwire.conn.connection_lost(None)
    bwire.settle()
    assert bwire.broker.gates["gate:a"].cancelled()
    assert not bwire.pool.live


def test_shutdown_answers_in_flight_then_closes(bwire: Wire) -> None:
    bwire.hello()
    bwire.send(get_url(1, "gate:a"))
    bwire.conn.shutdown()
    assert not bwire.transport.closed
    bwire.send(get_url(2, "q"))  # not read any more
    bwire.release("gate:a")
    assert [f.id for f in bwire.frames()] == [1]
    assert bwire.transport.closed


def test_idle_and_handshake_timeouts(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, BinaryLimits(idle_timeout=10, handshake_timeout=2))
    silent = wire.connect()
    wire.hello()
    wire.pool.check_timeouts(3)
    assert silent._closed and not wire.conn._closed
    wire.pool.check_timeouts(11)
    assert wire.conn._closed


def test_connection_cap(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, BinaryLimits(max_connections=1))
    extra = wire.connect()
    transport: MockTransport = extra._transport  # type: ignore[assignment]
    assert transport.closed
    assert b"ServiceUnavailable" in transport.written
    assert len(wire.pool.live) == 1
