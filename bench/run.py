"""One load run: set up the queue, drive N connections, measure a time window.

Strategy: every connection runs its scenario's ``step`` in a closed loop from
the start; the first ``warmup`` seconds are not measured, then requests that
complete inside the next ``duration`` seconds are (latency per action in a
:class:`~bench.histogram.Histogram`, messages, errors by code).  The process's
CPU time over the same window says how busy the generator itself was.  A
ticker prints progress once a second and fails requests that outlive
``timeout`` (their connection is dropped and reopened, as after any transport
error).  Connection failures count as errors (``ConnectionError`` ...), never
stop the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from bench.histogram import Histogram
from bench.http11 import Connection, ProtocolError, Response, connect
from bench.scenarios import BATCH, MessageFactory, ReceiveDelete, Scenario, Send, SendBatch, batch_outcome
from bench.sqs import Endpoint, Signer, SqsError, call

TRANSPORT_ERRORS = (OSError, ConnectionError, TimeoutError, ProtocolError)


@dataclass(frozen=True, slots=True)
class Options:
    scenario: str
    endpoint: str = "http://localhost:4566"
    queue: str = "shoal-bench"
    connections: int = 32
    duration: float = 10.0
    warmup: float = 2.0
    message_size: int = 100
    prefill: int = 0
    wait_time: int = 0
    timeout: float = 30.0
    region: str = "us-east-1"
    access_key_id: str = "test"
    progress: bool = True


@dataclass
class Results:
    options: Options
    queue_url: str = ""
    window: float = 0.0
    cpu: float = 0.0
    messages: int = 0
    requests: int = 0
    empty_receives: int = 0
    latency: dict[str, Histogram] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)


class SetupError(Exception):
    """The run cannot start (endpoint unreachable, queue not creatable)."""


class _Transport(Exception):
    """A request failed below HTTP; the connection must be replaced."""


class Run:
    def __init__(self, options: Options, stderr: TextIO = sys.stderr) -> None:
        self.options = options
        self.endpoint = Endpoint.parse(options.endpoint)
        self.signer = Signer(self.endpoint, options.region, options.access_key_id)
        self.results = Results(options)
        self.stderr = stderr
        self.fifo = options.queue.endswith(".fifo")
        self._recording = False
        self._stopping = False
        self._live_messages = 0  # warmup included, for the progress line
        self._connections: set[Connection] = set()

    # -- what scenarios call -------------------------------------------------

    async def timed(self, conn: Connection, action: str, raw: bytes) -> Response:
        start = time.perf_counter_ns()
        try:
            response = await conn.request(raw)
        except TRANSPORT_ERRORS as exc:
            self.error(type(exc).__name__)
            raise _Transport from exc
        if self._recording:
            histogram = self.results.latency.get(action)
            if histogram is None:
                histogram = self.results.latency[action] = Histogram()
            histogram.record((time.perf_counter_ns() - start) // 1000)
            self.results.requests += 1
        return response

    def done(self, messages: int) -> None:
        self._live_messages += messages
        if self._recording:
            self.results.messages += messages

    def error(self, code: str) -> None:
        if self._recording:
            self.results.errors[code] += 1

    def empty_receive(self) -> None:
        if self._recording:
            self.results.empty_receives += 1

    # -- the run -------------------------------------------------------------

    async def _connect(self) -> Connection:
        conn = await connect(self.endpoint.host, self.endpoint.port, self.endpoint.tls)
        self._connections.add(conn)
        return conn

    async def setup(self) -> None:
        try:
            conn = await asyncio.wait_for(self._connect(), self.options.timeout)
        except (TimeoutError, *TRANSPORT_ERRORS) as exc:
            raise SetupError(f"cannot connect to {self.options.endpoint}: {exc}") from exc
        attributes = {"FifoQueue": "true"} if self.fifo else {}
        try:
            params = {"QueueName": self.options.queue, "Attributes": attributes}
            result = await call(conn, self.signer, "CreateQueue", params)
        except SqsError as exc:
            if exc.code not in ("QueueNameExists", "QueueAlreadyExists"):
                raise SetupError(f"CreateQueue {self.options.queue!r} failed: {exc.code}") from exc
            result = await call(conn, self.signer, "GetQueueUrl", {"QueueName": self.options.queue})
        except TRANSPORT_ERRORS as exc:
            raise SetupError(f"CreateQueue failed: {type(exc).__name__}: {exc}") from exc
        self.results.queue_url = str(result["QueueUrl"])
        conn.close()

    async def prefill(self, count: int) -> None:
        """Send ``count`` messages (in batches, unmeasured) before the run."""
        sender = MessageFactory(self.results.queue_url, self.options.message_size, self.fifo)
        remaining = [count]
        started = time.monotonic()

        async def fill(worker: int) -> None:
            conn = await self._connect()
            while remaining[0] > 0:
                n = min(BATCH, remaining[0])
                remaining[0] -= n
                entries = sender.entries(worker)[:n]
                result = await call(
                    conn, self.signer, "SendMessageBatch", {"QueueUrl": sender.queue_url, "Entries": entries}
                )
                _, failed = batch_outcome(result)
                if failed:
                    raise SetupError(f"prefill: SendMessageBatch entries failed: {Counter(failed)}")
            conn.close()

        try:
            await asyncio.gather(*(fill(i) for i in range(self.options.connections)))
        except (SqsError, *TRANSPORT_ERRORS) as exc:
            raise SetupError(f"prefill failed: {exc}") from exc
        elapsed = time.monotonic() - started
        self._say(
            f"prefilled {count:,} messages in {elapsed:.1f} s ({count / max(elapsed, 1e-9):,.0f} msgs/s)\n"
        )

    async def close_all(self) -> None:
        """Close every connection and wait (briefly) until their transports are gone."""
        for conn in self._connections:
            conn.close()
        if self._connections:
            await asyncio.wait([conn.lost for conn in self._connections], timeout=2.0)
        self._connections.clear()

    def _scenario(self) -> Scenario:
        o = self.options
        if o.scenario == "send":
            return Send(self.results.queue_url, o.message_size, self.fifo)
        if o.scenario == "send-batch":
            return SendBatch(self.results.queue_url, o.message_size, self.fifo)
        if o.scenario == "receive-delete":
            return ReceiveDelete(self.results.queue_url, o.wait_time)
        raise SetupError(f"unknown scenario {o.scenario!r}")

    async def _worker(self, scenario: Scenario, worker: int) -> None:
        conn: Connection | None = None
        while not self._stopping:
            if conn is None or conn.closed:
                try:
                    conn = await asyncio.wait_for(self._connect(), self.options.timeout)
                except (TimeoutError, *TRANSPORT_ERRORS) as exc:
                    self.error(f"Connect{type(exc).__name__}")
                    conn = None
                    await asyncio.sleep(0.1)  # the server is down or refusing: don't spin
                    continue
            try:
                await scenario.step(self, conn, worker)
            except _Transport:
                conn.close()  # forgotten by the ticker once the transport is gone
                conn = None

    async def _ticker(self, started: float) -> None:
        last_time, last_messages = started, 0
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for conn in list(self._connections):
                if conn.lost.done():
                    self._connections.discard(conn)
                elif conn.busy_since and now - conn.busy_since > self.options.timeout:
                    conn.abort(TimeoutError(f"no answer within {self.options.timeout:g} s"))
            rate = (self._live_messages - last_messages) / (now - last_time)
            last_time, last_messages = now, self._live_messages
            elapsed = now - started
            o = self.options
            phase = (
                "warmup"
                if elapsed < o.warmup
                else "measuring"
                if elapsed <= o.warmup + o.duration
                else "finishing"
            )
            errors = sum(self.results.errors.values())
            line = f"[{elapsed:5.1f} s] {phase:9}  {rate:12,.0f} msgs/s  errors {errors:,}"
            self._say(("\r" + line) if self.stderr.isatty() else line + "\n")

    def _say(self, text: str) -> None:
        if self.options.progress:
            self.stderr.write(text)
            self.stderr.flush()

    async def execute(self) -> Results:
        try:
            await self.setup()
            if self.options.prefill:
                await self.prefill(self.options.prefill)
        except BaseException:
            await self.close_all()
            raise
        return await self._measure()

    async def _measure(self) -> Results:
        o = self.options
        scenario = self._scenario()
        started = time.monotonic()
        ticker = asyncio.create_task(self._ticker(started))
        workers = [asyncio.create_task(self._worker(scenario, i)) for i in range(o.connections)]
        await asyncio.sleep(o.warmup)
        self._recording = True
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(o.duration)
        self._recording = False
        cpu1, wall1 = time.process_time(), time.monotonic()
        self._stopping = True
        self.results.window = wall1 - wall0
        self.results.cpu = (cpu1 - cpu0) / self.results.window
        # Let requests in flight finish (a long poll may take wait_time), then drop the rest.
        _, pending = await asyncio.wait(workers, timeout=o.wait_time + 2.0)
        ticker.cancel()
        for task in pending:
            task.cancel()
        for task in [ticker, *pending]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.close_all()
        if o.progress and self.stderr.isatty():
            self.stderr.write("\n")
        return self.results
