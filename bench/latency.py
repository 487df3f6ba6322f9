"""End-to-end latency at a fixed open-loop rate: send -> long-poll receive -> delete.

Strategy: the pacer (:func:`bench.openloop.pace`) starts ``SendMessage``s on
the fixed schedule over a pool of up to ``--connections`` sender connections;
``--connections`` receivers long-poll (``WaitTimeSeconds``), delete what they
get, and record ``receive time - intended send time`` of each message whose
intended time falls inside the measured window, whenever it arrives (a message
that arrives after the window still counts, so slow ones are not dropped).
After the window the pacer stops and the receivers drain until every
acknowledged message arrived or ``--drain`` seconds passed; the ledger then
says what was duplicated or missing.

:func:`receive_loop` is shared with the fan-out scenario.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from bench.check import Ledger
from bench.http11 import TransportFailed
from bench.openloop import Schedule, SenderPool, Stamp, pace, read_stamp, stamp
from bench.scenarios import BATCH, batch_outcome
from bench.sqs import SqsError

if TYPE_CHECKING:
    from bench.http11 import Connection
    from bench.run import Run

E2E = "end-to-end"


async def receive_loop(
    run: Run, queue_url: str, wait_time: int, on_stamp: Callable[[Stamp, int], None], done: Callable[[], bool]
) -> None:
    """Long-poll ``queue_url``, delete what comes, call ``on_stamp(stamp, now_ns)``; until ``done()``."""
    receive = run.signer.request(
        "ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": BATCH, "WaitTimeSeconds": wait_time}
    )
    conn: Connection | None = None
    while not done():
        conn = await run.connection(conn)
        if conn is None:
            continue
        try:
            messages = await run.receive(conn, receive)
            now = time.monotonic_ns()
            if not messages:
                continue
            for m in messages:
                got = read_stamp(_unwrap(str(m.get("Body", ""))))
                if got is not None:
                    on_stamp(got, now)
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            raw = run.signer.request("DeleteMessageBatch", {"QueueUrl": queue_url, "Entries": entries})
            response = await run.timed(conn, "DeleteMessageBatch", raw)
        except TransportFailed:
            conn.close()
            conn = None
            continue
        try:
            ok, failed = batch_outcome(run.signer.decode("DeleteMessageBatch", response))
        except SqsError as exc:
            run.error(exc.code)
            continue
        run.done(ok)
        for code in failed:
            run.error(code)
    if conn is not None:
        conn.close()


def _unwrap(body: str) -> str:
    """The published message of an SNS JSON envelope (non-raw delivery); other bodies as they are."""
    if body.startswith("{"):
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if isinstance(envelope, dict) and isinstance(envelope.get("Message"), str):
            return str(envelope["Message"])
    return body


class Latency:
    name: ClassVar[str] = "latency"
    description: ClassVar[str] = (
        "SendMessage at a fixed --rate, long-poll receive + delete: end-to-end latency"
    )

    def __init__(self, run: Run) -> None:
        o = run.options
        self.queue_url = run.results.queue_url
        self.rate = o.rate or 100.0
        self.wait_time = o.wait_time or 1
        self.size = o.message_size
        self.tag = secrets.token_hex(4)
        self.ledger = Ledger()
        self.sent = 0
        self._sending = True
        self._pool = SenderPool(run, o.connections)

    def tasks(self, run: Run) -> list[Coroutine[Any, Any, None]]:
        receivers = [
            receive_loop(run, self.queue_url, self.wait_time, self._on_stamp(run), self._receivers_done(run))
            for _ in range(run.options.connections)
        ]
        return [self._send_all(run), *receivers]

    async def setup(self, run: Run) -> None:
        return None

    def _receivers_done(self, run: Run) -> Callable[[], bool]:
        def done() -> bool:
            return run.stopping and (
                (not self._sending and self.ledger.complete()) or time.monotonic() > run.drain_deadline
            )

        return done

    def _on_stamp(self, run: Run) -> Callable[[Stamp, int], None]:
        def record(got: Stamp, now_ns: int) -> None:
            if got.tag != self.tag:
                return  # left over from another run
            if self.ledger.received(got.seq) and run.in_window(got.intended_ns):
                run.record(E2E, max(0, now_ns - got.intended_ns) // 1000)

        return record

    async def _send_all(self, run: Run) -> None:
        schedule = Schedule(self.rate, time.monotonic_ns())
        self.sent = await pace(run, schedule, lambda i, t: self._send(run, i, t), lambda: run.stopping)
        self._sending = False

    async def _send(self, run: Run, seq: int, intended_ns: int) -> None:
        conn = await self._pool.acquire()
        if conn is None:
            return
        body = stamp(self.tag, seq, intended_ns, self.size)
        raw = run.signer.request("SendMessage", {"QueueUrl": self.queue_url, "MessageBody": body})
        try:
            response = await run.timed(conn, "SendMessage", raw)
        except TransportFailed:
            conn.close()
            return
        finally:
            self._pool.release(conn)
        if 200 <= response.status < 300:
            self.ledger.acknowledged(seq)
        else:
            run.error(run.signer.error_code(response))

    def settled(self) -> bool:
        """Sending is over and every acknowledged message came: the receivers may stop."""
        return not self._sending and self.ledger.complete()

    def check(self) -> Ledger:
        return self.ledger
