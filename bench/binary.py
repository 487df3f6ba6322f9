"""``shoal bench --protocol binary``: the same scenarios over the binary msgpack protocol.

Strategy: a lean load loop on the sans-IO codec (``protocol.binary_frames``),
not on :mod:`protocol.client`, for the same reason the HTTP bench pre-encodes
its requests: the numbers should measure the server.  Each of
``connections`` connections runs ``pipeline`` lanes; a lane is a closed loop
(send-batch: SendMessageBatch of 10; receive-delete: ReceiveMessage of up to
10, then DeleteMessageBatch of what came), so a connection has up to
``pipeline`` requests in flight, answered in any order and matched by id.
Request frames are packed once per scenario except for the request id
(spliced in front of a pre-packed tail) and the delete entries.  Results are
the :class:`bench.run.Results` the HTTP bench fills, so the report is the same.

receive-delete after ``--prefill`` runs the same exactly-once check as over
HTTP (unless ``--no-check``): the prefill's acknowledged MessageIds go into a
:class:`~bench.check.Ledger`, every receive is recorded, and after the window
the lanes drain the queue until every message came or ``--drain`` seconds
pass without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import msgpack

from bench.check import Ledger
from bench.histogram import Histogram
from bench.run import Options, Results, SetupError
from bench.scenarios import BATCH, message_body
from protocol.binary_frames import (
    Error,
    FrameDecoder,
    FrameType,
    NeedData,
    Result,
    Welcome,
    pack_hello,
    pack_request,
)

PROTOCOL = "binary"


def parse_endpoint(text: str) -> tuple[str, int] | str:
    """``host:port`` (TCP) or ``unix:/path`` (a Unix socket)."""
    if text.startswith("unix:"):
        return text[5:]
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"binary endpoint must be host:port or unix:/path, got {text!r}")
    return host, int(port)


class _Conn(asyncio.Protocol):
    """One connection: frames out, answers routed to futures by id."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.decoder = FrameDecoder()
        self.pending: dict[int, asyncio.Future[Result | Error]] = {}
        self.welcome: asyncio.Future[Welcome] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.next_id = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.decoder.receive_data(data)
        while True:
            event = self.decoder.next_event()
            if type(event) is NeedData:
                return
            if type(event) is Result or type(event) is Error:
                future = self.pending.pop(event.id, None) if event.id is not None else None
                if future is not None and not future.done():
                    future.set_result(event)
            elif type(event) is Welcome and not self.welcome.done():
                self.welcome.set_result(event)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError("connection lost"))
        if not self.welcome.done():
            self.welcome.set_exception(ConnectionError("connection lost"))
        self.pending.clear()

    async def request(self, make: Callable[[int], bytes]) -> Result | Error:
        self.next_id += 1
        id = self.next_id
        future: asyncio.Future[Result | Error] = self.loop.create_future()
        self.pending[id] = future
        assert self.transport is not None
        self.transport.write(make(id))
        return await future


def _tail(operation: str, params: dict[str, Any]) -> bytes:
    packed: bytes = msgpack.packb(["sqs", operation, params], use_bin_type=True)
    return packed[1:]  # the elements without their fixarray header


def _maker(tail: bytes) -> Callable[[int], bytes]:
    """A request frame with id ``id`` and a pre-packed (service, operation, params) tail."""
    head = bytes([0x95, FrameType.REQUEST])

    def make(id: int) -> bytes:
        body: bytes = head + msgpack.packb(id) + tail
        return len(body).to_bytes(4, "big") + body

    return make


class BinaryRun:
    """One load run over the binary protocol (send-batch or receive-delete)."""

    def __init__(self, options: Options, endpoint: str, pipeline: int) -> None:
        if options.scenario not in ("send-batch", "receive-delete"):
            raise SetupError(f"--protocol binary runs send-batch and receive-delete, not {options.scenario}")
        self.options = options
        self.endpoint = parse_endpoint(endpoint)
        self.pipeline = pipeline
        self.results = Results(options)
        self._recording = False
        self._stopping = False
        self._conns: list[_Conn] = []
        checking = options.scenario == "receive-delete" and options.prefill > 0 and options.check is not False
        self.ledger: Ledger | None = Ledger() if checking else None
        self.drain_deadline = 0.0

    def _draining(self) -> bool:
        ledger = self.ledger
        return ledger is not None and not ledger.complete() and time.monotonic() < self.drain_deadline

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        conn = _Conn(loop)
        if isinstance(self.endpoint, str):
            await loop.create_unix_connection(lambda: conn, self.endpoint)
        else:
            await loop.create_connection(lambda: conn, *self.endpoint)
        assert conn.transport is not None
        conn.transport.write(pack_hello("shoal-bench"))
        await conn.welcome
        self._conns.append(conn)
        return conn

    async def _call(self, conn: _Conn, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = await conn.request(lambda id: pack_request(id, "sqs", operation, params))
        if type(answer) is Error:
            raise SetupError(f"{operation} failed: {answer.code}: {answer.message}")
        assert type(answer) is Result
        return answer.result

    async def setup(self) -> str:
        try:
            conn = await asyncio.wait_for(self._connect(), self.options.timeout)
        except (OSError, TimeoutError) as exc:
            raise SetupError(f"cannot connect to {self.endpoint}: {exc}") from exc
        result = await self._call(conn, "CreateQueue", {"QueueName": self.options.queue})
        url = str(result["QueueUrl"])
        self.results.queue_url = url
        if self.options.prefill:
            entries = [
                {"Id": str(i), "MessageBody": message_body(self.options.message_size)} for i in range(BATCH)
            ]
            batches = -(-self.options.prefill // BATCH)
            make = _maker(_tail("SendMessageBatch", {"QueueUrl": url, "Entries": entries}))
            sem = asyncio.Semaphore(256)

            async def one() -> None:
                async with sem:
                    answer = await conn.request(make)
                if self.ledger is not None and type(answer) is Result:
                    for entry in answer.result.get("Successful", ()):
                        self.ledger.acknowledged(entry["MessageId"])

            await asyncio.gather(*(one() for _ in range(batches)))
        return url

    def _timed(self, action: str, started: int) -> None:
        if self._recording:
            histogram = self.results.latency.get(action)
            if histogram is None:
                histogram = self.results.latency[action] = Histogram()
            histogram.record((time.perf_counter_ns() - started) // 1000)
            self.results.requests += 1

    def _outcome(self, answer: Result | Error) -> None:
        if not self._recording:
            return
        if type(answer) is Error:
            self.results.errors[answer.code] += 1
            return
        assert type(answer) is Result
        self.results.messages += len(answer.result.get("Successful", ()))
        for entry in answer.result.get("Failed", ()):
            self.results.errors[str(entry.get("Code", "BatchEntryFailed"))] += 1

    async def _send_lane(self, conn: _Conn, make: Callable[[int], bytes]) -> None:
        while not self._stopping:
            started = time.perf_counter_ns()
            answer = await conn.request(make)
            self._timed("SendMessageBatch", started)
            self._outcome(answer)

    async def _receive_lane(self, conn: _Conn, url: str, receive: Callable[[int], bytes]) -> None:
        while not self._stopping or self._draining():
            started = time.perf_counter_ns()
            answer = await conn.request(receive)
            self._timed("ReceiveMessage", started)
            if type(answer) is Error:
                self._outcome(answer)
                continue
            assert type(answer) is Result
            messages = answer.result.get("Messages") or []
            if not messages:
                if self._recording:
                    self.results.empty_receives += 1
                continue
            if self.ledger is not None:
                for message in messages:
                    self.ledger.received(message["MessageId"])
                if self._stopping:  # draining: go on while messages still come
                    self.drain_deadline = time.monotonic() + self.options.drain
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            delete = {"QueueUrl": url, "Entries": entries}
            started = time.perf_counter_ns()
            answer = await conn.request(
                lambda id, delete=delete: pack_request(id, "sqs", "DeleteMessageBatch", delete)  # type: ignore[misc]
            )
            self._timed("DeleteMessageBatch", started)
            self._outcome(answer)

    async def execute(self) -> Results:
        o = self.options
        url = await self.setup()
        conns = [await self._connect() for _ in range(o.connections)]
        if o.scenario == "send-batch":
            entries = [{"Id": str(i), "MessageBody": message_body(o.message_size)} for i in range(BATCH)]
            make = _maker(_tail("SendMessageBatch", {"QueueUrl": url, "Entries": entries}))
            lanes = [self._send_lane(c, make) for c in conns for _ in range(self.pipeline)]
        else:
            params = {"QueueUrl": url, "MaxNumberOfMessages": BATCH, "WaitTimeSeconds": o.wait_time}
            receive = _maker(_tail("ReceiveMessage", params))
            lanes = [self._receive_lane(c, url, receive) for c in conns for _ in range(self.pipeline)]
        tasks = [asyncio.ensure_future(lane) for lane in lanes]
        await asyncio.sleep(o.warmup)
        self._recording = True
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(o.duration)
        self._recording = False
        cpu1, wall1 = time.process_time(), time.monotonic()
        self._stopping = True
        self.drain_deadline = time.monotonic() + (o.drain if self.ledger is not None else 0.0)
        self.results.window = wall1 - wall0
        self.results.cpu = (cpu1 - cpu0) / self.results.window
        pending = set(tasks)
        while (
            pending and (left := max(self.drain_deadline, wall1) + o.wait_time + 2.0 - time.monotonic()) > 0
        ):
            _, pending = await asyncio.wait(pending, timeout=min(left, 0.05))
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        for conn in self._conns:
            if conn.transport is not None:
                conn.transport.close()
        if self.ledger is not None:
            self.results.check = self.ledger.report().as_dict()
        return self.results
