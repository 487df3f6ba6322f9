"""What one connection does in a loop, per scenario.

Rules: a scenario is a class with ``prepare`` (build what it can ahead of the
run, per connection) and ``step`` (one closed-loop iteration: the requests go
through ``Run.timed``, which measures and counts them; the step reports
messages done and per-entry errors).  Nothing here knows about time windows,
connections or output; :mod:`bench.run` does.  FIFO queues (``.fifo``) get a
message group per connection and a unique deduplication id per message.
"""

from __future__ import annotations

import itertools
import secrets
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from bench.check import Ledger
from bench.sqs import SqsError

if TYPE_CHECKING:
    from bench.http11 import Connection
    from bench.run import Run

BATCH = 10


class Scenario(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]

    async def step(self, run: Run, conn: Connection, worker: int) -> None: ...


def message_body(size: int) -> str:
    """A printable body of exactly ``size`` bytes (valid in every SQS charset)."""
    pattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return (pattern * (size // len(pattern) + 1))[:size]


class MessageFactory:
    """Builds SendMessage params and batch entries, FIFO-aware."""

    def __init__(self, queue_url: str, size: int, fifo: bool) -> None:
        self.queue_url = queue_url
        self.body = message_body(size)
        self.fifo = fifo
        self._dedup = itertools.count()

    def fields(self, worker: int) -> dict[str, str]:
        if not self.fifo:
            return {}
        return {"MessageGroupId": f"g{worker}", "MessageDeduplicationId": f"d{next(self._dedup)}"}

    def entries(self, worker: int) -> list[dict[str, str]]:
        return [{"Id": str(i), "MessageBody": self.body, **self.fields(worker)} for i in range(BATCH)]


def batch_outcome(result: dict[str, Any]) -> tuple[int, list[str]]:
    """(entries that succeeded, codes of the failed ones) of a *Batch result."""
    failed = [str(entry.get("Code", "BatchEntryFailed")) for entry in result.get("Failed", [])]
    return len(result.get("Successful", [])), failed


class Send:
    name: ClassVar[str] = "send"
    description: ClassVar[str] = "SendMessage, one message per request"

    def __init__(self, queue_url: str, size: int, fifo: bool) -> None:
        self.sender = MessageFactory(queue_url, size, fifo)
        self._raw: dict[int, bytes] = {}

    async def step(self, run: Run, conn: Connection, worker: int) -> None:
        raw = self._raw.get(worker)
        if raw is None:
            params = {"QueueUrl": self.sender.queue_url, "MessageBody": self.sender.body}
            raw = run.signer.request("SendMessage", {**params, **self.sender.fields(worker)})
            if not self.sender.fifo:  # the same bytes every time: build once
                self._raw[worker] = raw
        response = await run.timed(conn, "SendMessage", raw)
        if 200 <= response.status < 300:
            run.done(1)
        else:
            run.error(run.signer.error_code(response))


class SendBatch:
    name: ClassVar[str] = "send-batch"
    description: ClassVar[str] = f"SendMessageBatch of {BATCH} messages per request"

    def __init__(self, queue_url: str, size: int, fifo: bool) -> None:
        self.sender = MessageFactory(queue_url, size, fifo)
        self._raw: dict[int, bytes] = {}

    async def step(self, run: Run, conn: Connection, worker: int) -> None:
        raw = self._raw.get(worker)
        if raw is None:
            params = {"QueueUrl": self.sender.queue_url, "Entries": self.sender.entries(worker)}
            raw = run.signer.request("SendMessageBatch", params)
            if not self.sender.fifo:
                self._raw[worker] = raw
        response = await run.timed(conn, "SendMessageBatch", raw)
        try:
            ok, failed = batch_outcome(run.signer.decode("SendMessageBatch", response))
        except SqsError as exc:
            run.error(exc.code)
            return
        run.done(ok)
        for code in failed:
            run.error(code)


class ReceiveDelete:
    name: ClassVar[str] = "receive-delete"
    description: ClassVar[str] = f"ReceiveMessage of up to {BATCH}, then DeleteMessageBatch of what came"

    def __init__(self, queue_url: str, wait_time: int, ledger: Ledger | None = None) -> None:
        self.queue_url = queue_url
        self.wait_time = wait_time
        self.ledger = ledger
        """With a ledger (the prefill's acknowledged MessageIds), every receive is recorded in it."""
        self._receive: bytes | None = None

    def drains(self) -> bool:
        """After the window, go on receiving (unmeasured) until every prefilled message came."""
        return self.ledger is not None and not self.ledger.complete()

    def check(self) -> Ledger | None:
        return self.ledger

    async def step(self, run: Run, conn: Connection, worker: int) -> None:
        if self._receive is None:
            params = {
                "QueueUrl": self.queue_url,
                "MaxNumberOfMessages": BATCH,
                "WaitTimeSeconds": self.wait_time,
            }
            self._receive = run.signer.request("ReceiveMessage", params)
        messages = await run.receive(conn, self._receive)
        if not messages:
            return
        if self.ledger is not None:
            for m in messages:
                self.ledger.received(str(m.get("MessageId")))
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        raw = run.signer.request("DeleteMessageBatch", {"QueueUrl": self.queue_url, "Entries": entries})
        response = await run.timed(conn, "DeleteMessageBatch", raw)
        try:
            ok, failed = batch_outcome(run.signer.decode("DeleteMessageBatch", response))
        except SqsError as exc:
            run.error(exc.code)
            return
        run.done(ok)
        for code in failed:
            run.error(code)


class Fifo:
    """FIFO sends to ``groups`` message groups, round-robin, every message with a unique dedup id.

    One message per ``SendMessage``; with ``batch``, ``SendMessageBatch`` of 10 whose
    entries share the next group, or (``spread``) take the next 10 groups.
    """

    name: ClassVar[str] = "fifo"
    description: ClassVar[str] = "FIFO SendMessage (or --batch) round-robin over --groups N message groups"

    def __init__(self, queue_url: str, size: int, groups: int, batch: bool, spread: bool) -> None:
        self.queue_url = queue_url
        self.body = message_body(size)
        self.groups = groups
        self.batch = batch
        self.spread = spread
        self._group = itertools.count()
        self._dedup = itertools.count()
        self._prefix = secrets.token_hex(4) + "-"  # unique across runs within the 5 min dedup window

    def _fields(self, group: int) -> dict[str, str]:
        return {
            "MessageGroupId": f"g{group % self.groups}",
            "MessageDeduplicationId": f"{self._prefix}{next(self._dedup)}",
        }

    def params(self) -> tuple[str, dict[str, Any]]:
        """The action and params of the next request."""
        if not self.batch:
            fields = self._fields(next(self._group))
            return "SendMessage", {"QueueUrl": self.queue_url, "MessageBody": self.body, **fields}
        shared = next(self._group)
        entries = [
            {
                "Id": str(i),
                "MessageBody": self.body,
                **self._fields(next(self._group) if self.spread and i else shared),
            }
            for i in range(BATCH)
        ]
        return "SendMessageBatch", {"QueueUrl": self.queue_url, "Entries": entries}

    async def step(self, run: Run, conn: Connection, worker: int) -> None:
        action, params = self.params()
        response = await run.timed(conn, action, run.signer.request(action, params))
        if action == "SendMessage":
            if 200 <= response.status < 300:
                run.done(1)
            else:
                run.error(run.signer.error_code(response))
            return
        try:
            ok, failed = batch_outcome(run.signer.decode(action, response))
        except SqsError as exc:
            run.error(exc.code)
            return
        run.done(ok)
        for code in failed:
            run.error(code)


SCENARIOS: dict[str, str] = {cls.name: cls.description for cls in (Send, SendBatch, ReceiveDelete, Fifo)}
SCENARIOS["latency"] = (
    "SendMessage at a fixed --rate (open loop), long-poll receive + delete: end-to-end latency"
)
SCENARIOS["fanout"] = "SNS Publish to a topic with --queues N queues subscribed; receive on every queue"
