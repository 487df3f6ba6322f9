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
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, runtime_checkable

from bench.check import Ledger
from bench.histogram import Histogram
from bench.http11 import Connection, ProtocolError, Response, TransportFailed, connect
from bench.query import QuerySigner
from bench.scenarios import (
    BATCH,
    Fifo,
    MessageFactory,
    ReceiveDelete,
    Scenario,
    Send,
    SendBatch,
    batch_outcome,
)
from bench.sqs import Dialect, Endpoint, Signer, SqsError, call

TRANSPORT_ERRORS = (OSError, ConnectionError, TimeoutError, ProtocolError)
PROTOCOLS = ("json", "query")
CHECKED = ("latency", "fanout", "receive-delete")
"""Scenarios whose messages can all be accounted for (receive-delete: only after a prefill)."""


@runtime_checkable
class OpenScenario(Protocol):
    """A scenario that runs its own tasks (not one closed loop per connection).

    The tasks watch ``run.stopping``; receivers go on after it, until the
    scenario's messages are all in or ``run.drain_deadline`` passed.
    """

    async def setup(self, run: Run) -> None: ...

    def tasks(self, run: Run) -> list[Coroutine[Any, Any, None]]: ...


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
    protocol: str = "json"
    rate: float = 0.0
    """Open-loop msgs/s (latency, fanout); 0 = closed loop (fanout) or 100 (latency)."""
    groups: int = 100
    batch: bool = False
    spread: bool = False
    queues: int = 4
    check: bool | None = None
    """None: on where the scenario allows it (latency, fanout, receive-delete after a prefill)."""
    drain: float = 10.0


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
    check: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    failure: str = ""


class SetupError(Exception):
    """The run cannot start (endpoint unreachable, queue not creatable)."""


_Transport = TransportFailed


class Run:
    def __init__(self, options: Options, stderr: TextIO = sys.stderr) -> None:
        self.options = options
        self.endpoint = Endpoint.parse(options.endpoint)
        self.signer: Dialect = (
            QuerySigner(self.endpoint, options.region, options.access_key_id)
            if options.protocol == "query"
            else Signer(self.endpoint, options.region, options.access_key_id)
        )
        self.results = Results(options)
        self.stderr = stderr
        self.fifo = options.queue.endswith(".fifo")
        self.ledger: Ledger | None = None  # the prefill's acknowledged MessageIds, when checking
        self.drain_deadline = float("inf")
        self._window_ns = (0, 0)
        self._scenario_obj: Scenario | OpenScenario | None = None
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

    async def receive(self, conn: Connection, request: bytes) -> list[dict[str, Any]]:
        """One timed ReceiveMessage; its messages ([] after an error or an empty answer, both counted)."""
        response = await self.timed(conn, "ReceiveMessage", request)
        try:
            messages: list[dict[str, Any]] = self.signer.decode("ReceiveMessage", response).get(
                "Messages", []
            )
        except SqsError as exc:
            self.error(exc.code)
            return []
        if not messages:
            self.empty_receive()
        return messages

    def done(self, messages: int) -> None:
        self._live_messages += messages
        if self._stopping and messages and self.checking:
            # Draining: go on while messages still come, stop after ``drain`` s without one.
            self.drain_deadline = time.monotonic() + self.options.drain
        if self._recording:
            self.results.messages += messages

    def error(self, code: str) -> None:
        if self._recording:
            self.results.errors[code] += 1

    def empty_receive(self) -> None:
        if self._recording:
            self.results.empty_receives += 1

    @property
    def stopping(self) -> bool:
        """The measured window is over: senders stop, receivers drain."""
        return self._stopping

    def in_window(self, t_ns: int) -> bool:
        """Whether ``t_ns`` (``time.monotonic_ns``) is inside the measured window."""
        return self._window_ns[0] <= t_ns < self._window_ns[1]

    def record(self, name: str, micros: int) -> None:
        """Record a latency that the caller decided belongs to the window."""
        histogram = self.results.latency.get(name)
        if histogram is None:
            histogram = self.results.latency[name] = Histogram()
        histogram.record(micros)

    def fail(self, reason: str) -> None:
        """Stop the run early: it cannot measure what it should."""
        if not self.results.failure:
            self.results.failure = reason
            self._say(f"\nshoal bench: {reason}\n")
        self._stopping = True
        self._recording = False

    async def connection(self, conn: Connection | None) -> Connection | None:
        """``conn`` if still open, else a new one; None (error counted, after a pause) if that fails."""
        if conn is not None and not conn.closed:
            return conn
        try:
            return await asyncio.wait_for(self._connect(), self.options.timeout)
        except (TimeoutError, *TRANSPORT_ERRORS) as exc:
            self.error(f"Connect{type(exc).__name__}")
            await asyncio.sleep(0.1)  # the server is down or refusing: don't spin
            return None

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
                if self.ledger is not None:
                    for entry in result.get("Successful", []):
                        self.ledger.acknowledged(str(entry.get("MessageId")))
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

    @property
    def checking(self) -> bool:
        o = self.options
        allowed = o.scenario in ("latency", "fanout") or (o.scenario == "receive-delete" and o.prefill > 0)
        return allowed and o.check is not False

    def _scenario(self) -> Scenario | OpenScenario:
        o = self.options
        if o.scenario == "send":
            return Send(self.results.queue_url, o.message_size, self.fifo)
        if o.scenario == "send-batch":
            return SendBatch(self.results.queue_url, o.message_size, self.fifo)
        if o.scenario == "receive-delete":
            return ReceiveDelete(self.results.queue_url, o.wait_time, self.ledger)
        if o.scenario == "fifo":
            return Fifo(self.results.queue_url, o.message_size, o.groups, o.batch, o.spread)
        if o.scenario == "latency":
            from bench.latency import Latency  # imports this module

            return Latency(self)
        if o.scenario == "fanout":
            from bench.fanout import Fanout

            return Fanout(self)
        raise SetupError(f"unknown scenario {o.scenario!r}")

    def _draining(self, scenario: Scenario) -> bool:
        drains = getattr(scenario, "drains", None)
        return drains is not None and bool(drains()) and time.monotonic() < self.drain_deadline

    async def _worker(self, scenario: Scenario, worker: int) -> None:
        conn: Connection | None = None
        while not self._stopping or self._draining(scenario):
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
        if self.checking and self.options.scenario == "receive-delete":
            self.ledger = Ledger()
        try:
            await self.setup()
            if self.options.prefill:
                await self.prefill(self.options.prefill)
            scenario = self._scenario()
            if isinstance(scenario, OpenScenario):
                await scenario.setup(self)
        except SqsError as exc:
            await self.close_all()
            raise SetupError(f"setup failed: {exc}") from exc
        except BaseException:
            await self.close_all()
            raise
        return await self._measure(scenario)

    async def _measure(self, scenario: Scenario | OpenScenario) -> Results:
        o = self.options
        started = time.monotonic()
        ticker = asyncio.create_task(self._ticker(started))
        start_ns = time.monotonic_ns() + round(o.warmup * 1e9)
        self._window_ns = (start_ns, start_ns + round(o.duration * 1e9))
        if isinstance(scenario, OpenScenario):
            workers = [asyncio.create_task(c) for c in scenario.tasks(self)]
        else:
            workers = [asyncio.create_task(self._worker(scenario, i)) for i in range(o.connections)]
        await self._sleep_unless_failed(o.warmup)
        self._recording = not self._stopping
        cpu0, wall0 = time.process_time(), time.monotonic()
        await self._sleep_unless_failed(o.duration)
        self._recording = False
        cpu1, wall1 = time.process_time(), time.monotonic()
        self._stopping = True
        self.drain_deadline = time.monotonic() + (o.drain if self.checking else 0.0)
        self.results.window = wall1 - wall0
        self.results.cpu = (cpu1 - cpu0) / max(self.results.window, 1e-9)
        # Let requests in flight finish (a long poll may take wait_time), drain, then drop the rest.
        grace = o.wait_time + 2.0 + (o.drain if self.checking else 0.0)
        pending = await self._settle(workers, scenario, grace)
        ticker.cancel()
        for task in pending:
            task.cancel()
        for task in [ticker, *pending]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.close_all()
        if o.progress and self.stderr.isatty():
            self.stderr.write("\n")
        check = getattr(scenario, "check", None)
        ledger = check() if check is not None and self.checking else None
        if isinstance(ledger, Ledger):
            self.results.check = ledger.report().as_dict()
        details = getattr(scenario, "details", None)
        if details is not None:
            self.results.details = dict(details())
        return self.results

    async def _settle(
        self, workers: list[asyncio.Task[None]], scenario: Scenario | OpenScenario, grace: float
    ) -> set[asyncio.Task[None]]:
        """Wait for the workers; an open scenario whose messages are all in stops its long polls early."""
        settled = getattr(scenario, "settled", None)
        deadline = time.monotonic() + grace
        pending = set(workers)
        while pending and (left := max(deadline, self.drain_deadline + 2.0) - time.monotonic()) > 0:
            _, pending = await asyncio.wait(pending, timeout=min(left, 0.05))
            if settled is not None and settled():
                break
        return pending

    async def _sleep_unless_failed(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.1))
