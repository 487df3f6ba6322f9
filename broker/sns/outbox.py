"""The HTTP/S outbox: deliveries to subscribers' endpoints, persisted until done.

Rules (AWS's, "Amazon SNS message delivery retries" and "Step 1: Make sure
your endpoint is ready"): every message, the SubscriptionConfirmation
included, is POSTed with a 15 s timeout; a status from 200 to 499 is a
delivery (4xx included: SNS retries only "server-side errors"), anything else
(5xx, no answer, connection or TLS failure, timeout) is a failed attempt,
retried on the subscription's effective delivery policy
(:mod:`broker.sns.delivery_policy`), the wait counted from the end of the
failed attempt, and never past 3,600 s after the first attempt.  A retry
resends the same body (same MessageId and Signature).  After the last retry
a notification goes to the subscription's RedrivePolicy dead-letter queue
(body as it would have been posted, message attributes ``ErrorCode``,
``ErrorMessage``, ``RequestID``), or is dropped and logged; a confirmation is
dropped.  ``throttlePolicy.maxReceivesPerSecond`` spaces the attempts of one
subscription's notifications (not its confirmation).  A delivery whose
subscription is gone is dropped.

Durability: a delivery is an :class:`~storage.records.OutboxRecord` under
meta key ``sns:o:`` + u64 sequence, written in the publish's (or
Subscribe's) commit.  Each failed attempt rewrites it (attempts, next attempt
time); success deletes it; dead-lettering deletes it in the same commit as
the dead-letter queue's message.  At start-up every record is loaded and
scheduled at its next attempt time, so a restart neither loses nor forgets a
delivery; one that was in flight at a crash is sent again (at least once).

The sender: one asyncio task (started and stopped with the SNS service) runs
due deliveries, each in its own task (at most :data:`MAX_IN_FLIGHT` at once),
through the injected :class:`Poster` (the network lives at the server edge,
``broker/http_outbound.py``; without a poster deliveries wait).  Between
rounds it sleeps until the next due time read from the injected clock, capped
at :data:`RECHECK_SECONDS` of real time; a clock with ``watch`` (the tests'
ManualClock) also wakes it whenever it is advanced.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from broker.context import RequestContext
from broker.errors import ShoalError
from broker.sns import documents
from broker.sns.delivery_policy import MAX_TOTAL_RETRY_SECONDS, EffectivePolicy
from broker.sns.runtime import SnsRuntime
from broker.sns.subscriptions import Subscription
from broker.sqs import api as sqs_api
from broker.sqs.sending import PreparedSend
from storage import keys
from storage.records import OutboxRecord, pack_record, unpack_outbox
from storage.store import Db, Write, delete, put

log = logging.getLogger(__name__)

OUTBOX_PREFIX = b"sns:o:"
USER_AGENT = "Amazon Simple Notification Service Agent"
CONFIRMATION_CONTENT_TYPE = "text/plain; charset=UTF-8"
TIMEOUT_SECONDS = 15.0
MAX_IN_FLIGHT = 64
RECHECK_SECONDS = 0.5
NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
CONFIRMATIONS = frozenset({SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION})


@dataclass(frozen=True, slots=True)
class PostResult:
    """What one POST got: the status, or None when no HTTP answer came (and why)."""

    status: int | None
    reason: str = ""

    @property
    def delivered(self) -> bool:
        """AWS: a status outside 200-4xx, or none, is a failed attempt."""
        return self.status is not None and 200 <= self.status < 500


class Poster(Protocol):
    """POSTs ``body`` to ``url``; never raises for network trouble (answers ``PostResult(None, why)``)."""

    def __call__(
        self, url: str, headers: Sequence[tuple[str, str]], body: bytes, timeout: float
    ) -> Awaitable[PostResult]: ...


@dataclass(slots=True)
class OutboxStatistics:
    """Counters since start, and the deliveries pending now."""

    attempted: int = 0
    succeeded: int = 0
    failed: int = 0
    dead_lettered: int = 0
    dropped: int = 0
    pending: int = 0


def outbox_key(seq: int) -> bytes:
    return OUTBOX_PREFIX + keys.u64(seq)


class Outbox:
    """Pending HTTP/S deliveries and the task that sends them."""

    def __init__(self, runtime: SnsRuntime, poster: Poster | None) -> None:
        self.rt = runtime
        self.poster = poster
        self.records: dict[int, OutboxRecord] = {}
        self._due: dict[int, int] = {}
        self._heap: list[tuple[int, int]] = []
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._next_slot: dict[str, int] = {}
        self._stats = OutboxStatistics()
        self._next_seq = 1
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._unwatch: Callable[[], object] | None = None

    # -- lifecycle --------------------------------------------------------------

    def load(self) -> None:
        """Rebuild the pending deliveries from the store."""
        for key, raw in self.rt.store.scan(Db.META, OUTBOX_PREFIX):
            seq = keys.from_u64(key[len(OUTBOX_PREFIX) :])
            record = unpack_outbox(raw)
            self.records[seq] = record
            self._schedule(seq, record.next_attempt_ms)
            self._next_seq = max(self._next_seq, seq + 1)

    def start(self) -> None:
        """Start the sender (nothing runs without a poster)."""
        if self.poster is None:
            if self.records:
                log.warning(
                    "sns: %d HTTP/S deliveries pending, but no poster to send them", len(self.records)
                )
            return
        watch = getattr(self.rt.clock, "watch", None)
        if callable(watch):
            self._unwatch = watch(self._wake.set)
        self._runner = asyncio.get_running_loop().create_task(self._run(), name="sns-outbox")

    async def close(self) -> None:
        """Stop sending; what is not delivered stays in the store for the next start."""
        if self._unwatch is not None:
            self._unwatch()
        tasks = [t for t in (self._runner, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._runner = None

    def statistics(self) -> OutboxStatistics:
        stats = self._stats
        return OutboxStatistics(
            stats.attempted,
            stats.succeeded,
            stats.failed,
            stats.dead_lettered,
            stats.dropped,
            len(self.records),
        )

    # -- enqueueing (inside a publish or Subscribe, before its commit) ----------

    def prepare(
        self, sub: Subscription, message_type: str, message_id: str, body: str, *, raw: bool = False
    ) -> tuple[Write, Callable[[], None]]:
        """The write that persists a new delivery, and the settle that schedules it once durable."""
        seq = self._next_seq
        self._next_seq += 1
        now = self.rt.now_ms()
        record = OutboxRecord(
            subscription_id=sub.record.subscription_id,
            subscription_arn=sub.arn,
            endpoint=sub.record.endpoint,
            message_type=message_type,
            message_id=message_id,
            topic_arn=sub.topic.arn,
            body=body,
            raw=raw,
            created_ms=now,
            attempts=0,
            next_attempt_ms=now,
        )

        def settle() -> None:
            self.records[seq] = record
            self._schedule(seq, record.next_attempt_ms)
            self._wake.set()

        return put(Db.META, outbox_key(seq), pack_record(record)), settle

    # -- sending ------------------------------------------------------------------

    async def run_due(self) -> int:
        """Attempt every delivery due now (and immediate retries they cause); the attempts started.

        Also waits for attempts the background sender already started.
        """
        started = 0
        while True:
            started += len(self._start_due())
            pending = list(self._tasks.values())
            if not pending:
                return started
            await asyncio.wait(pending)

    def next_due_ms(self) -> int | None:
        """When the next scheduled attempt is due (None: nothing waits)."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def _schedule(self, seq: int, due_ms: int) -> None:
        self._due[seq] = due_ms
        heapq.heappush(self._heap, (due_ms, seq))

    def _drop_stale(self) -> None:
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    def _start_due(self) -> list[asyncio.Task[None]]:
        if self.poster is None:
            return []
        now = self.rt.now_ms()
        started = []
        while len(self._tasks) < MAX_IN_FLIGHT:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                break
            _, seq = heapq.heappop(self._heap)
            del self._due[seq]
            record = self.records.get(seq)
            if record is None:
                continue
            sub = self._subscription(record)
            if sub is not None and record.message_type == NOTIFICATION:
                slot = self._throttle(sub, now)
                if slot is not None:
                    self._schedule(seq, slot)
                    continue
            task = asyncio.get_running_loop().create_task(self._attempt(seq, record, sub))
            self._tasks[seq] = task
            task.add_done_callback(functools.partial(self._finished, seq))
            started.append(task)
        return started

    def _finished(self, seq: int, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(seq, None)
        self._wake.set()

    def _throttle(self, sub: Subscription, now: int) -> int | None:
        """None if ``sub`` may get an attempt now (and take the slot), else when it may."""
        rate = self.policy(sub).max_receives_per_second
        if rate is None:
            return None
        slot = self._next_slot.get(sub.record.subscription_id, 0)
        if now < slot:
            return slot
        self._next_slot[sub.record.subscription_id] = now + math.ceil(1000 / rate)
        return None

    def policy(self, sub: Subscription) -> EffectivePolicy:
        """The delivery policy that governs ``sub`` now."""
        return documents.subscription_delivery_policy(
            sub.attributes.get("DeliveryPolicy"), sub.topic.attributes.get("DeliveryPolicy"), sub.protocol
        )

    def _policy_of_gone(self, record: OutboxRecord) -> EffectivePolicy:
        """The policy of a delivery whose subscription is gone: its topic's, or AWS's default."""
        topic = self.rt.topics.by_arn(record.topic_arn)
        protocol = "https" if record.endpoint.startswith("https:") else "http"
        topic_policy = topic.attributes.get("DeliveryPolicy") if topic is not None else None
        return documents.subscription_delivery_policy(None, topic_policy, protocol)

    def _subscription(self, record: OutboxRecord) -> Subscription | None:
        sub = self.rt.subscriptions.by_id.get(record.subscription_id)
        return sub if sub is not None and sub.arn == record.subscription_arn else None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                self._start_due()
            except Exception:  # the sender must outlive one bad round
                log.exception("sns outbox round failed")
            timeout = RECHECK_SECONDS
            due = self.next_due_ms()
            if due is not None and len(self._tasks) < MAX_IN_FLIGHT:
                timeout = min(max(due - self.rt.now_ms(), 0) / 1000, RECHECK_SECONDS)
            # A timer that sets the event, not wait_for: wait_for can swallow a cancellation (3.11).
            timer = asyncio.get_running_loop().call_later(timeout, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()

    async def _attempt(self, seq: int, record: OutboxRecord, sub: Subscription | None) -> None:
        try:
            await self._attempt_once(seq, record, sub)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failing attempt must not lose its delivery: try again later
            log.exception("sns delivery %d to %s failed unexpectedly", seq, record.endpoint)
            if seq in self.records:
                self._schedule(seq, self.rt.now_ms() + 1000)

    async def _attempt_once(self, seq: int, record: OutboxRecord, sub: Subscription | None) -> None:
        gone_ok = record.message_type == UNSUBSCRIBE_CONFIRMATION  # sent after its subscription went
        if (sub is None and not gone_ok) or (
            sub is not None and record.message_type == NOTIFICATION and not sub.record.confirmed
        ):
            log.info(
                "sns: subscription %s is gone; delivery to %s dropped",
                record.subscription_arn,
                record.endpoint,
            )
            self._stats.dropped += 1
            await self._forget(seq)
            return
        assert self.poster is not None
        policy = self.policy(sub) if sub is not None else self._policy_of_gone(record)
        started = self.rt.now_ms()
        first = record.first_attempt_ms if record.first_attempt_ms is not None else started
        self._stats.attempted += 1
        result = await self.poster(
            record.endpoint, headers(record, policy), record.body.encode(), TIMEOUT_SECONDS
        )
        if result.delivered:
            self._stats.succeeded += 1
            await self._forget(seq)
            return
        self._stats.failed += 1
        attempts = record.attempts + 1
        now = self.rt.now_ms()
        delay = policy.retry.delay_ms(attempts)
        if delay is not None and now + delay - first <= MAX_TOTAL_RETRY_SECONDS * 1000:
            updated = record._replace(attempts=attempts, next_attempt_ms=now + delay, first_attempt_ms=first)
            await self.rt.commit([put(Db.META, outbox_key(seq), pack_record(updated))])
            if seq in self.records:
                self.records[seq] = updated
                self._schedule(seq, updated.next_attempt_ms)
            return
        log.info(
            "sns: delivery of %s to %s failed after %d attempts (%s)",
            record.message_id,
            record.endpoint,
            attempts,
            result.reason or f"HTTP {result.status}",
        )
        dead = (
            self._dead_letter(record, sub, result)
            if record.message_type == NOTIFICATION and sub is not None
            else None
        )
        if dead is None:
            await self._forget(seq)
            self._stats.dropped += 1
            return
        # The dead-letter queue indexes the message from the commit's own callback (or
        # forgets its dedup entry if the commit failed), even if this task is cancelled.
        await self.rt.committer.commit_then(
            [*dead.writes, delete(Db.META, outbox_key(seq))], dead.settle, dead.abandon
        )
        self._drop(seq)
        self._stats.dead_lettered += 1

    async def _forget(self, seq: int) -> None:
        await self.rt.commit([delete(Db.META, outbox_key(seq))])
        self._drop(seq)

    def _drop(self, seq: int) -> None:
        """A delivery whose outbox record is deleted leaves the in-memory schedule."""
        self.records.pop(seq, None)
        self._due.pop(seq, None)

    def _dead_letter(
        self, record: OutboxRecord, sub: Subscription, result: PostResult
    ) -> PreparedSend | None:
        text = sub.attributes.get("RedrivePolicy")
        if not text:
            log.warning("sns: no dead-letter queue for %s; message %s dropped", sub.arn, record.message_id)
            return None
        arn = documents.redrive_target(text)
        parts = arn.split(":")
        queue = self.rt.sqs.rt.registry.find(parts[4], parts[5]) if len(parts) == 6 else None
        if queue is None:
            log.warning("sns: dead-letter queue %s of %s does not exist; message dropped", arn, sub.arn)
            return None
        code = "EndpointUnavailable" if result.status is None else "EndpointError"
        message = result.reason or f"Endpoint returned HTTP status {result.status}"
        request = sqs_api.SendMessage(
            queue_url=arn,
            message_body=record.body,
            message_attributes={
                "ErrorCode": sqs_api.MessageAttributeValue(data_type="String", string_value=code),
                "ErrorMessage": sqs_api.MessageAttributeValue(data_type="String", string_value=message),
                "RequestID": sqs_api.MessageAttributeValue(
                    data_type="String", string_value=str(uuid.uuid4())
                ),
            },
            message_group_id=sub.record.subscription_id if queue.fifo else None,
            message_deduplication_id=record.message_id if queue.fifo else None,
        )
        ctx = RequestContext(account_id=sub.topic.record.account_id, region=sub.topic.record.region)
        try:
            prepared = self.rt.sqs.sending.prepare_send(queue, request, ctx)
        except ShoalError as error:
            log.warning(
                "sns: dead-letter queue %s rejected message %s: %s", arn, record.message_id, error.message
            )
            return None
        return prepared


def headers(record: OutboxRecord, policy: EffectivePolicy) -> list[tuple[str, str]]:
    """The request headers of one delivery, as AWS sends them (the poster adds Host and Content-Length)."""
    out = [
        ("x-amz-sns-message-type", record.message_type),
        ("x-amz-sns-message-id", record.message_id),
        ("x-amz-sns-topic-arn", record.topic_arn),
    ]
    if record.message_type not in CONFIRMATIONS:
        out.append(("x-amz-sns-subscription-arn", record.subscription_arn))
    if record.raw:
        out.append(("x-amz-sns-rawdelivery", "true"))
    content_type = CONFIRMATION_CONTENT_TYPE if record.message_type in CONFIRMATIONS else policy.content_type
    out += [("Content-Type", content_type), ("User-Agent", USER_AGENT)]
    return out
