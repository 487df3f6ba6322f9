"""Fan-out: SNS Publish to a topic with ``--queues N`` SQS queues subscribed.

Strategy: setup creates the topic ``<queue>-fanout`` and the queues
``<queue>-fanout-<i>`` and subscribes each (``RawMessageDelivery``, so the
body is the published message; an SNS JSON envelope is unwrapped anyway).
Publishers run closed-loop on ``--connections`` connections, or open-loop at
``--rate`` (the same pacer as the latency scenario).  Each queue gets
``ceil(connections / queues)`` long-polling receivers that delete what they
get.  Messages (in the summary) are deliveries, so msgs/s is the delivered
rate; the ``Publish`` latency is the publish call's, ``end-to-end`` is publish
-> receive.  Every acknowledged publish must arrive exactly once on every
queue (SNS to SQS is at-least-once on AWS, so a duplicate there is legal but
reported).  SNS speaks Query whatever ``--protocol`` says.

An endpoint without SNS answers CreateTopic/Publish with an unknown-action
error; the run then stops with "needs SNS".
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar

from bench.check import Ledger
from bench.http11 import TransportFailed
from bench.latency import E2E, receive_loop
from bench.openloop import Schedule, SenderPool, Stamp, pace, stamp
from bench.query import QuerySigner
from bench.run import SetupError
from bench.sqs import SqsError, call

if TYPE_CHECKING:
    from bench.http11 import Connection
    from bench.run import Run

NO_SNS = {"InvalidAction", "UnknownOperationException", "UnknownOperation", "NotImplemented", "HTTP 404"}


class NeedsSns(SetupError):
    """The endpoint does not implement SNS."""


class Fanout:
    name: ClassVar[str] = "fanout"
    description: ClassVar[str] = "SNS Publish to a topic with --queues N queues subscribed; receive on all"

    def __init__(self, run: Run) -> None:
        o = run.options
        self.sns = QuerySigner(run.endpoint, o.region, o.access_key_id, service="sns")
        self.queues = o.queues
        self.rate = o.rate
        self.wait_time = o.wait_time or 1
        self.size = o.message_size
        self.tag = secrets.token_hex(4)
        self.ledger = Ledger()
        self.topic_arn = ""
        self.queue_urls: list[str] = []
        self.published = 0
        self._seq = 0
        self._publishing = True

    async def setup(self, run: Run) -> None:
        conn = await run.connection(None)
        if conn is None:
            raise SqsError("ConnectError", "cannot connect")
        base = run.options.queue.removesuffix(".fifo")
        try:
            topic = await call(conn, self.sns, "CreateTopic", {"Name": f"{base}-fanout"})
        except SqsError as exc:
            if exc.code in NO_SNS:
                raise NeedsSns(f"fanout needs SNS: the endpoint answered {exc.code} to CreateTopic") from exc
            raise
        self.topic_arn = str(topic["TopicArn"])
        for q in range(self.queues):
            url = str(
                (await call(conn, run.signer, "CreateQueue", {"QueueName": f"{base}-fanout-{q}"}))["QueueUrl"]
            )
            attrs = await call(
                conn, run.signer, "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]}
            )
            params = {
                "TopicArn": self.topic_arn,
                "Protocol": "sqs",
                "Endpoint": str(attrs["Attributes"]["QueueArn"]),
                "Attributes": {"RawMessageDelivery": "true"},
                "ReturnSubscriptionArn": True,
            }
            await call(conn, self.sns, "Subscribe", params)
            self.queue_urls.append(url)
        conn.close()

    def tasks(self, run: Run) -> list[Coroutine[Any, Any, None]]:
        per_queue = max(1, math.ceil(run.options.connections / self.queues))
        receivers = [
            receive_loop(run, url, self.wait_time, self._on_stamp(run, q), self._receivers_done(run))
            for q, url in enumerate(self.queue_urls)
            for _ in range(per_queue)
        ]
        return [self._publish_all(run), *receivers]

    def _receivers_done(self, run: Run) -> Callable[[], bool]:
        def done() -> bool:
            return run.stopping and (
                (not self._publishing and self.ledger.complete()) or time.monotonic() > run.drain_deadline
            )

        return done

    def _on_stamp(self, run: Run, queue: int) -> Callable[[Stamp, int], None]:
        def record(got: Stamp, now_ns: int) -> None:
            if (
                got.tag == self.tag
                and self.ledger.received((queue, got.seq))
                and run.in_window(got.intended_ns)
            ):
                run.record(E2E, max(0, now_ns - got.intended_ns) // 1000)

        return record

    async def _publish_all(self, run: Run) -> None:
        if self.rate:
            pool = SenderPool(run, run.options.connections)

            async def paced(seq: int, intended_ns: int) -> None:
                conn = await pool.acquire()
                if conn is not None:
                    try:
                        await self._publish(run, conn, seq, intended_ns)
                    finally:
                        pool.release(conn)

            schedule = Schedule(self.rate, time.monotonic_ns())
            self.published = await pace(run, schedule, paced, lambda: run.stopping)
        else:
            import asyncio

            await asyncio.gather(*(self._closed_loop(run) for _ in range(run.options.connections)))
        self._publishing = False

    async def _closed_loop(self, run: Run) -> None:
        conn: Connection | None = None
        while not run.stopping:
            conn = await run.connection(conn)
            if conn is None:
                continue
            seq, self._seq = self._seq, self._seq + 1
            self.published += 1
            if not await self._publish(run, conn, seq, time.monotonic_ns()):
                conn = None
        if conn is not None:
            conn.close()

    async def _publish(self, run: Run, conn: Connection, seq: int, intended_ns: int) -> bool:
        """One Publish; False if the connection failed (it is closed then)."""
        body = stamp(self.tag, seq, intended_ns, self.size)
        raw = self.sns.request("Publish", {"TopicArn": self.topic_arn, "Message": body})
        try:
            response = await run.timed(conn, "Publish", raw)
        except TransportFailed:
            conn.close()
            return False
        if 200 <= response.status < 300:
            for q in range(self.queues):
                self.ledger.acknowledged((q, seq))
        else:
            code = self.sns.error_code(response)
            run.error(code)
            if code in NO_SNS:
                run.fail(f"fanout needs SNS: the endpoint answered {code} to Publish")
        return True

    def settled(self) -> bool:
        """Publishing is over and every acknowledged message came: the receivers may stop."""
        return not self._publishing and self.ledger.complete()

    def check(self) -> Ledger:
        return self.ledger

    def details(self) -> dict[str, Any]:
        return {"published": self.published, "queues": self.queues, "topic_arn": self.topic_arn}
