"""Message actions: send, receive (with long polling), delete, change visibility,
purge, and their batch forms.

Write path: validate and change the in-memory index synchronously, submit the
writes to the group committer, and answer only after the commit.  A sent
message enters the index only once durable, so no receiver can see a message
whose send is not acknowledged.  A batch is one commit.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from broker.context import RequestContext
from broker.errors import (
    BatchRequestTooLong,
    InvalidParameterValue,
    MessageNotInflight,
    OverLimit,
    PurgeQueueInProgress,
    ShoalError,
)
from broker.sqs import api, attributes, message
from broker.sqs.batch import check_entries, failure
from broker.sqs.queue import Queue
from broker.sqs.receipts import Receipt
from broker.sqs.registry import seq_mark_key
from broker.sqs.runtime import SqsRuntime, check_range
from storage import keys
from storage.records import (
    MessageAttribute,
    MessageBody,
    MessageState,
    pack_body,
    pack_state,
    unpack_body,
    unpack_state,
)
from storage.store import Db, Write, delete, delete_prefix, put

MAX_BATCH_BYTES = 1_048_576
MAX_INFLIGHT = 120_000
PURGE_INTERVAL_MS = 60_000
RECEIVE_ATTRIBUTES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
)


@dataclass(slots=True)
class _Prepared:
    """A validated send, ready to commit."""

    seq: int
    visible_at_ms: int
    writes: list[Write]
    result: api.SendMessageResult
    size: int


class MessageActions:
    """The message half of the SQS API."""

    def __init__(self, runtime: SqsRuntime) -> None:
        self.rt = runtime

    # -- send ---------------------------------------------------------------

    async def send_message(self, req: api.SendMessage, ctx: RequestContext) -> api.SendMessageResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        prepared = self._prepare(queue, req, ctx)
        await self.rt.commit(prepared.writes)
        self._publish(queue, [prepared])
        return prepared.result

    async def send_message_batch(
        self, req: api.SendMessageBatch, ctx: RequestContext
    ) -> api.SendMessageBatchResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        check_entries(req.entries, "SendMessageBatchRequestEntry")
        total = sum(len(entry.message_body.encode()) for entry in req.entries)
        total += sum(
            message.attributes_size(_attribute_records(entry.message_attributes)) for entry in req.entries
        )
        if total > MAX_BATCH_BYTES:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
            )
        prepared: list[tuple[str, _Prepared]] = []
        failed: list[api.BatchResultErrorEntry] = []
        for entry in req.entries:
            try:
                prepared.append((entry.id, self._prepare(queue, entry, ctx)))
            except ShoalError as error:
                failed.append(failure(entry.id, error))
        await self.rt.commit([write for _, item in prepared for write in item.writes])
        self._publish(queue, [item for _, item in prepared])
        return api.SendMessageBatchResult(
            successful=[
                api.SendMessageBatchResultEntry(
                    id=entry_id,
                    message_id=item.result.message_id or "",
                    md5_of_message_body=item.result.md5_of_message_body or "",
                    md5_of_message_attributes=item.result.md5_of_message_attributes,
                    md5_of_message_system_attributes=item.result.md5_of_message_system_attributes,
                )
                for entry_id, item in prepared
            ],
            failed=failed,
        )

    def _prepare(
        self, queue: Queue, req: api.SendMessage | api.SendMessageBatchRequestEntry, ctx: RequestContext
    ) -> _Prepared:
        if req.message_deduplication_id is not None:
            raise InvalidParameterValue(
                "The request include parameter that is not valid for this queue type. "
                "Reason: MessageDeduplicationId is only valid for FIFO queues."
            )
        check_range("DelaySeconds", req.delay_seconds, 0, 900, "DelaySeconds must be >= 0 and <= 900")
        body = req.message_body
        if body == "":
            raise InvalidParameterValue("The request must contain a non-empty message body.")
        message.check_body(body)
        user = message.convert_attributes(req.message_attributes)
        system = message.convert_attributes(req.message_system_attributes, system=True)
        size = len(body.encode()) + message.attributes_size(user)
        max_size = attributes.int_attribute(queue.attributes, "MaximumMessageSize")
        if size > max_size:
            raise InvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
            )
        now = self.rt.now_ms()
        delay = req.delay_seconds
        if delay is None:
            delay = attributes.int_attribute(queue.attributes, "DelaySeconds")
        visible_at = now + delay * 1000
        seq, mark = queue.allocate_seq()
        key = keys.message_key(queue.queue_id, seq)
        md5_body = message.md5_hex(body.encode())
        trace = system[0].string_value if system else None
        record = MessageBody(
            message_id=str(uuid.uuid4()),
            body=body,
            attributes=user,
            sent_ms=now,
            sender_id=ctx.account_id,
            md5_of_body=md5_body,
            trace_header=trace,
            group_id=req.message_group_id,
        )
        writes = [
            put(Db.BODIES, key, pack_body(record)),
            put(Db.STATES, key, pack_state(MessageState(now, visible_at, 0, 0))),
        ]
        if mark is not None:
            writes.append(put(Db.META, seq_mark_key(queue.queue_id), keys.u64(mark)))
        result = api.SendMessageResult(
            message_id=record.message_id,
            md5_of_message_body=md5_body,
            md5_of_message_attributes=message.md5_of_attributes(user),
            md5_of_message_system_attributes=message.md5_of_attributes(system),
        )
        return _Prepared(seq, visible_at, writes, result, size)

    def _publish(self, queue: Queue, prepared: list[_Prepared]) -> None:
        now = self.rt.now_ms()
        visible = 0
        for item in prepared:
            queue.add(item.seq, item.visible_at_ms, now)
            visible += item.visible_at_ms <= now
        self.rt.made_visible(queue, visible)
        if visible < len(prepared):
            self.rt.arm_timer(queue)

    # -- receive ------------------------------------------------------------

    async def receive_message(self, req: api.ReceiveMessage, ctx: RequestContext) -> api.ReceiveMessageResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        check_range("MaxNumberOfMessages", req.max_number_of_messages, 1, 10)
        check_range("VisibilityTimeout", req.visibility_timeout, 0, 43_200)
        check_range("WaitTimeSeconds", req.wait_time_seconds, 0, 20, "Must be >= 0 and <= 20, if provided.")
        limit = req.max_number_of_messages or 1
        visibility = req.visibility_timeout
        if visibility is None:
            visibility = attributes.int_attribute(queue.attributes, "VisibilityTimeout")
        wait = req.wait_time_seconds
        if wait is None:
            wait = attributes.int_attribute(queue.attributes, "ReceiveMessageWaitTimeSeconds")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            messages = await self.receive_now(queue, req, limit, visibility * 1000, long_poll=wait > 0)
            remaining = deadline - loop.time()
            if messages or remaining <= 0 or queue.deleted or self.rt.closing:
                return api.ReceiveMessageResult(messages=messages or None)
            waiter: asyncio.Future[None] = loop.create_future()
            queue.waiters.append(waiter)
            self.rt.arm_timer(queue)
            timeout = loop.call_later(remaining, _finish, waiter)
            try:
                await waiter
            finally:
                timeout.cancel()
                queue.drop_waiter(waiter)

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
        if len(queue.inflight) >= MAX_INFLIGHT:
            if long_poll:
                return []
            raise OverLimit(f"Too many messages in flight (limit {MAX_INFLIGHT}).")
        retention_ms = attributes.int_attribute(queue.attributes, "MessageRetentionPeriod") * 1000
        wanted_system = _wanted_system_attributes(req)
        writes: list[Write] = []
        messages: list[api.Message] = []
        # Expired or vanished messages do not count toward ``limit``: claim again
        # until it is met or nothing is visible, so old messages never hide fresh ones.
        while len(messages) < limit:
            seqs = queue.claim(limit - len(messages))
            if not seqs:
                break
            raw_bodies = self.rt.store.get_many(
                Db.BODIES, [keys.message_key(queue.queue_id, seq) for seq in seqs]
            )
            for seq, raw in zip(seqs, raw_bodies, strict=True):
                key = keys.message_key(queue.queue_id, seq)
                if raw is None:  # deleted or purged after it was indexed
                    queue.forget(seq)
                    continue
                record = unpack_body(raw)
                if record.sent_ms + retention_ms <= now:
                    queue.forget(seq)
                    writes += (delete(Db.BODIES, key), delete(Db.STATES, key))
                    continue
                count, first = queue.hold_received(seq, now, visibility_ms)
                writes.append(
                    put(
                        Db.STATES,
                        key,
                        pack_state(MessageState(record.sent_ms, now + visibility_ms, count, first)),
                    )
                )
                messages.append(
                    self._render(
                        queue, record, Receipt(queue.queue_id, seq, count), count, first, req, wanted_system
                    )
                )
        await self.rt.commit(writes)
        return messages

    def _render(
        self,
        queue: Queue,
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
            }
            system = {
                name: value for name, value in values.items() if name in wanted_system and value is not None
            }
        selected = message.select_attributes(record.attributes, req.message_attribute_names)
        return api.Message(
            message_id=record.message_id,
            receipt_handle=self.rt.receipts.mint(receipt),
            md5_of_body=record.md5_of_body,
            body=record.body,
            attributes=system or None,
            md5_of_message_attributes=message.md5_of_attributes(selected),
            message_attributes={attribute.name: message.to_api_value(attribute) for attribute in selected}
            or None,
        )

    # -- delete ---------------------------------------------------------------

    async def delete_message(self, req: api.DeleteMessage, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        await self.rt.commit(self._delete(queue, req.receipt_handle))

    async def delete_message_batch(
        self, req: api.DeleteMessageBatch, ctx: RequestContext
    ) -> api.DeleteMessageBatchResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        check_entries(req.entries, "DeleteMessageBatchRequestEntry")
        writes: list[Write] = []
        done: list[api.DeleteMessageBatchResultEntry] = []
        failed: list[api.BatchResultErrorEntry] = []
        for entry in req.entries:
            try:
                writes += self._delete(queue, entry.receipt_handle)
                done.append(api.DeleteMessageBatchResultEntry(id=entry.id))
            except ShoalError as error:
                failed.append(failure(entry.id, error))
        await self.rt.commit(writes)
        return api.DeleteMessageBatchResult(successful=done, failed=failed)

    def _delete(self, queue: Queue, handle: str) -> list[Write]:
        receipt = self.rt.receipts.parse(handle, queue.queue_id)
        if not queue.remove(receipt.seq):
            return []  # already deleted: success, as on AWS
        key = keys.message_key(queue.queue_id, receipt.seq)
        return [delete(Db.BODIES, key), delete(Db.STATES, key)]

    # -- visibility -----------------------------------------------------------

    async def change_message_visibility(self, req: api.ChangeMessageVisibility, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        await self.rt.commit(self._change_visibility(queue, req.receipt_handle, req.visibility_timeout))

    async def change_message_visibility_batch(
        self, req: api.ChangeMessageVisibilityBatch, ctx: RequestContext
    ) -> api.ChangeMessageVisibilityBatchResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        check_entries(req.entries, "ChangeMessageVisibilityBatchRequestEntry")
        writes: list[Write] = []
        done: list[api.ChangeMessageVisibilityBatchResultEntry] = []
        failed: list[api.BatchResultErrorEntry] = []
        for entry in req.entries:
            try:
                writes += self._change_visibility(queue, entry.receipt_handle, entry.visibility_timeout or 0)
                done.append(api.ChangeMessageVisibilityBatchResultEntry(id=entry.id))
            except ShoalError as error:
                failed.append(failure(entry.id, error))
        await self.rt.commit(writes)
        return api.ChangeMessageVisibilityBatchResult(successful=done, failed=failed)

    def _change_visibility(self, queue: Queue, handle: str, timeout: int) -> list[Write]:
        check_range("VisibilityTimeout", timeout, 0, 43_200)
        receipt = self.rt.receipts.parse(handle, queue.queue_id)
        current = queue.receives.get(receipt.seq)
        if current is not None and current[0] != receipt.receive_count and receipt.seq in queue.inflight:
            raise InvalidParameterValue(
                f"Value {handle} for parameter ReceiptHandle is invalid. "
                "Reason: The receipt handle has expired."
            )
        now = self.rt.now_ms()
        queue.promote(now)
        queue.change_visibility(receipt.seq, now, timeout * 1000)
        if timeout == 0:
            self.rt.made_visible(queue, 1)
        key = keys.message_key(queue.queue_id, receipt.seq)
        raw = self.rt.store.get(Db.STATES, key)
        if raw is None:
            raise MessageNotInflight(
                "Message does not exist or is not available for visibility timeout change."
            )
        return [put(Db.STATES, key, pack_state(queue.state_of(receipt.seq, unpack_state(raw).sent_ms)))]

    # -- purge ----------------------------------------------------------------

    async def purge_queue(self, req: api.PurgeQueue, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        now = self.rt.now_ms()
        if queue.last_purge_ms is not None and now - queue.last_purge_ms < PURGE_INTERVAL_MS:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {queue.record.name} is allowed every 60 seconds."
            )
        queue.last_purge_ms = now
        queue.clear()
        prefix = keys.queue_prefix(queue.queue_id)
        await self.rt.commit([delete_prefix(Db.BODIES, prefix), delete_prefix(Db.STATES, prefix)])


def _finish(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _attribute_records(given: dict[str, api.MessageAttributeValue] | None) -> list[MessageAttribute]:
    return [
        MessageAttribute(name, value.data_type, value.string_value, value.binary_value)
        for name, value in (given or {}).items()
    ]


def _wanted_system_attributes(req: api.ReceiveMessage) -> frozenset[str]:
    names = [*(req.attribute_names or ()), *(req.message_system_attribute_names or ())]
    if not names:
        return frozenset()
    if "All" in names:
        return frozenset(RECEIVE_ATTRIBUTES)
    return frozenset(names)
