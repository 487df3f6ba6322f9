"""ReceiveMessage: short and long polling, redrive to dead-letter queues, and
FIFO receive-attempt retries.

A receive claims visible messages from the index, reads their bodies in one
read transaction, puts them in flight, commits their new state (receive
count, first receive, deadline) and answers.  A message already received
``maxReceiveCount`` times is not delivered again: it is moved to the
dead-letter queue in the same commit (deleted from the source, written to the
target, never in both, never in neither), keeping its id, body, attributes and
original SentTimestamp.  A long poll that finds nothing waits on a future the
queue resolves when a message becomes visible, or until its wait time ends; on
a standard queue it also parks as a taker, so a send can hand it messages in
the send's own commit (:mod:`broker.sqs.handoff`), and then it answers with those.
"""

from __future__ import annotations

import asyncio

from broker.context import RequestContext
from broker.errors import OverLimit
from broker.sqs import api, fifo, message
from broker.sqs.handoff import Taker
from broker.sqs.moving import Moved, move, queue_arn, settle, unmove
from broker.sqs.queue import MAX_INFLIGHT, Queue
from broker.sqs.receipts import Receipt
from broker.sqs.runtime import SqsRuntime, check_range
from storage import keys
from storage.records import MessageBody, pack_state, pack_state_of, unpack_body
from storage.store import Db, Write, delete, put

RECEIVE_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "MessageGroupId",
    "MessageDeduplicationId",
    "SequenceNumber",
    "DeadLetterQueueSourceArn",
)


class ReceiveActions:
    """The receiving half of the SQS API."""

    def __init__(self, runtime: SqsRuntime) -> None:
        self.rt = runtime

    async def receive_message(self, req: api.ReceiveMessage, ctx: RequestContext) -> api.ReceiveMessageResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        check_range("MaxNumberOfMessages", req.max_number_of_messages, 1, 10)
        check_range("VisibilityTimeout", req.visibility_timeout, 0, 43_200)
        check_range("WaitTimeSeconds", req.wait_time_seconds, 0, 20, "Must be >= 0 and <= 20, if provided.")
        limit = req.max_number_of_messages or 1
        visibility = req.visibility_timeout
        if visibility is None:
            visibility = queue.number("VisibilityTimeout")
        wait = req.wait_time_seconds
        if wait is None:
            wait = queue.number("ReceiveMessageWaitTimeSeconds")
        attempt_id = req.receive_request_attempt_id if queue.fifo else None
        if attempt_id is not None:
            fifo.check_id("ReceiveRequestAttemptId", attempt_id)
            replayed = await self._replay(queue, attempt_id, req, visibility * 1000)
            if replayed is not None:
                return api.ReceiveMessageResult(messages=replayed or None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            messages = await self.receive_now(queue, req, limit, visibility * 1000, long_poll=wait > 0)
            remaining = deadline - loop.time()
            if messages or remaining <= 0 or queue.deleted or self.rt.closing:
                if messages and attempt_id is not None:
                    receipts = [
                        self.rt.receipts.parse(m.receipt_handle or "", queue.queue_id) for m in messages
                    ]
                    queue.attempts.record(
                        attempt_id,
                        [(r.seq, r.receive_count, queue.inflight.get(r.seq, 0)) for r in receipts],
                        self.rt.now_ms(),
                    )
                return api.ReceiveMessageResult(messages=messages or None)
            waiter: asyncio.Future[list[api.Message] | None] = loop.create_future()
            queue.waiters.append(waiter)
            if not queue.fifo:
                queue.takers[waiter] = self._taker(waiter, queue, req, limit, visibility * 1000)
            self.rt.arm_timer(queue)
            timeout = loop.call_later(remaining, _finish, waiter)
            try:
                handed = await waiter
            finally:
                timeout.cancel()
                queue.drop_waiter(waiter)
            if handed:
                return api.ReceiveMessageResult(messages=handed)

    def _taker(
        self,
        waiter: asyncio.Future[list[api.Message] | None],
        queue: Queue,
        req: api.ReceiveMessage,
        limit: int,
        visibility_ms: int,
    ) -> Taker:
        """This long poll, parked where a send can hand it fresh messages."""
        wanted_system = _wanted_system_attributes(req)
        queue_id = queue.queue_id

        def render(record: MessageBody, seq: int, first: int) -> api.Message:
            return self._render(record, Receipt(queue_id, seq, 1), 1, first, req, wanted_system)

        return Taker(waiter, limit, visibility_ms, render)

    async def receive_now(
        self,
        queue: Queue,
        req: api.ReceiveMessage,
        limit: int,
        visibility_ms: int,
        *,
        long_poll: bool = False,
    ) -> list[api.Message]:
        """Receive what is visible now, without waiting (other than for the commit)."""
        now = self.rt.now_ms()
        queue.promote(now)
        if queue.at_inflight_limit():
            if long_poll:
                return []
            raise OverLimit(f"Too many messages in flight (limit {MAX_INFLIGHT}).")
        retention_ms = queue.number("MessageRetentionPeriod") * 1000
        wanted_system = _wanted_system_attributes(req)
        policy = queue.redrive
        target = self.rt.registry.find(policy.target_account, policy.target_name) if policy else None
        writes: list[Write] = []
        messages: list[api.Message] = []
        moved: list[Moved] = []
        queue_id = queue.queue_id
        group_ids = queue.fifo
        deadline = now + visibility_ms
        max_receives = policy.max_receive_count if policy is not None and target is not None else 0
        # Expired, vanished or dead-lettered messages do not count toward ``limit``:
        # claim again until it is met or nothing is visible.
        while len(messages) < limit:
            seqs = queue.claim(limit - len(messages))
            if not seqs:
                break
            message_keys = [keys.message_key(queue_id, seq) for seq in seqs]
            raw_bodies = self.rt.store.get_many(Db.BODIES, message_keys)
            for seq, key, raw in zip(seqs, message_keys, raw_bodies, strict=True):
                if raw is None:  # deleted or purged after it was indexed
                    queue.forget(seq)
                    continue
                record = unpack_body(raw)
                if (record.enqueued_ms or record.sent_ms) + retention_ms <= now:
                    queue.forget(seq)
                    writes += (delete(Db.BODIES, key), delete(Db.STATES, key))
                    continue
                if max_receives and target is not None and queue.receive_count(seq) >= max_receives:
                    move_writes, item = move(
                        queue,
                        seq,
                        record,
                        target,
                        now,
                        dead_letter_source=queue_arn(queue),
                        keep_receives=True,
                    )
                    writes += move_writes
                    moved.append(item)
                    continue
                count, first = queue.hold_received(seq, now, visibility_ms)
                group = record.group_id if group_ids else None
                writes.append(
                    put(Db.STATES, key, pack_state_of(record.sent_ms, deadline, count, first, group))
                )
                messages.append(
                    self._render(record, Receipt(queue_id, seq, count), count, first, req, wanted_system)
                )
        if moved:  # the dead-letter queues index their moves even if this receive is cancelled
            await self.rt.commit_then(writes, lambda: settle(self.rt, moved, now), lambda: unmove(moved, now))
        else:
            await self.rt.commit(writes)
        return messages

    async def _replay(
        self, queue: Queue, attempt_id: str, req: api.ReceiveMessage, visibility_ms: int
    ) -> list[api.Message] | None:
        """The messages an earlier receive with this attempt id got, with their visibility reset.

        None (the retry is a new receive) unless every one of them is still in
        flight from that receive and unmodified: not deleted, visibility not
        changed, timeout not passed.
        """
        now = self.rt.now_ms()
        attempt = queue.attempts.find(attempt_id, now)
        if attempt is None or not all(
            queue.inflight.get(seq) == deadline > now and queue.receive_count(seq) == count
            for seq, count, deadline in attempt.receipts
        ):
            return None
        message_keys = [keys.message_key(queue.queue_id, seq) for seq, _, _ in attempt.receipts]
        raw_bodies = self.rt.store.get_many(Db.BODIES, message_keys)
        wanted_system = _wanted_system_attributes(req)
        replayed: list[api.Message] = []
        renewed: list[tuple[int, int, int]] = []
        writes: list[Write] = []
        for (seq, count, _), key, raw in zip(attempt.receipts, message_keys, raw_bodies, strict=True):
            if raw is None:
                continue
            record = unpack_body(raw)
            renewed.append((seq, count, queue.change_visibility(seq, now, visibility_ms)))
            writes.append(
                put(Db.STATES, key, pack_state(queue.state_of(seq, record.sent_ms, record.group_id)))
            )
            first = queue.receives.get(seq, (count, 0))[1]
            receipt = Receipt(queue.queue_id, seq, count)
            replayed.append(self._render(record, receipt, count, first, req, wanted_system))
        if visibility_ms == 0:
            self.rt.made_visible(queue, len(renewed))
        await self.rt.commit(writes)
        queue.attempts.renew(attempt_id, renewed)
        return replayed

    def _render(
        self,
        record: MessageBody,
        receipt: Receipt,
        count: int,
        first: int,
        req: api.ReceiveMessage,
        wanted_system: frozenset[str],
    ) -> api.Message:
        system: dict[str, str] = {}
        if wanted_system:
            values = {
                "SenderId": record.sender_id,
                "SentTimestamp": str(record.sent_ms),
                "ApproximateReceiveCount": str(count),
                "ApproximateFirstReceiveTimestamp": str(first),
                "AWSTraceHeader": record.trace_header,
                "MessageGroupId": record.group_id,
                "MessageDeduplicationId": record.dedup_id,
                "SequenceNumber": record.sequence_number,
                "DeadLetterQueueSourceArn": record.dead_letter_source,
            }
            system = {
                name: value for name, value in values.items() if name in wanted_system and value is not None
            }
        selected = (
            message.select_attributes(record.attributes, req.message_attribute_names)
            if record.attributes and req.message_attribute_names
            else ()
        )
        if not selected:  # the common case: no attribute work at all
            return api.Message(
                message_id=record.message_id,
                receipt_handle=self.rt.receipts.mint(receipt),
                md5_of_body=record.md5_of_body,
                body=record.body,
                attributes=system or None,
            )
        return api.Message(
            message_id=record.message_id,
            receipt_handle=self.rt.receipts.mint(receipt),
            md5_of_body=record.md5_of_body,
            body=record.body,
            attributes=system or None,
            md5_of_message_attributes=message.md5_of_attributes(selected),
            message_attributes={attribute.name: message.to_api_value(attribute) for attribute in selected},
        )


def _finish(waiter: asyncio.Future[list[api.Message] | None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _wanted_system_attributes(req: api.ReceiveMessage) -> frozenset[str]:
    names = [*(req.attribute_names or ()), *(req.message_system_attribute_names or ())]
    if not names:
        return frozenset()
    if "All" in names:
        return frozenset(RECEIVE_ATTRIBUTES)
    return frozenset(names)
