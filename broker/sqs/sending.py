"""SendMessage and SendMessageBatch.

Validate, allocate a seq, build the records, submit them to the group
committer, and answer after the commit; only then does the message enter the
queue's index, so no receiver can see a message whose send is not
acknowledged.  A batch is one commit.

FIFO queues: MessageGroupId is required and MessageDeduplicationId too unless
ContentBasedDeduplication derives it from the body; a duplicate within the
window is answered with the original MessageId and SequenceNumber, after the
original's commit (a barrier), and is not enqueued.  Per-message DelaySeconds
is rejected.  Standard queues accept MessageGroupId (fair queues) and reject
MessageDeduplicationId.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from broker.context import RequestContext
from broker.errors import BatchRequestTooLong, InvalidParameterValue, MissingParameter, ShoalError
from broker.ids import new_id
from broker.sqs import api, fifo, message
from broker.sqs.batch import check_entries, failure
from broker.sqs.queue import Queue
from broker.sqs.registry import seq_mark_key
from broker.sqs.runtime import SqsRuntime, check_range
from storage import keys
from storage.records import MessageAttribute, MessageBody, MessageState, pack_body, pack_state
from storage.store import Db, Write, put

MAX_BATCH_BYTES = 1_048_576

SendRequest = api.SendMessage | api.SendMessageBatchRequestEntry


@dataclass(slots=True)
class _Prepared:
    """A validated send, ready to commit (or a duplicate, with nothing to write)."""

    seq: int
    visible_at_ms: int
    group: str | None
    writes: list[Write]
    result: api.SendMessageResult
    dedup_token: int = 0
    """The FIFO deduplication entry's token (0: none), released once committed."""

    @property
    def duplicate(self) -> bool:
        return not self.writes


@dataclass(frozen=True, slots=True)
class PreparedSend:
    """A validated send into one queue: commit ``writes``, then call ``settle``."""

    writes: list[Write]
    result: api.SendMessageResult
    settle: Callable[[], None]
    abandon: Callable[[], None]
    """Call instead of ``settle`` if the commit failed."""


class SendActions:
    """The sending half of the SQS API."""

    def __init__(self, runtime: SqsRuntime) -> None:
        self.rt = runtime

    async def send_message(self, req: api.SendMessage, ctx: RequestContext) -> api.SendMessageResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        prepared = self._prepare(queue, req, ctx)
        await self._commit(queue, [prepared])
        return prepared.result

    async def send_message_batch(
        self, req: api.SendMessageBatch, ctx: RequestContext
    ) -> api.SendMessageBatchResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        check_entries(req.entries, "SendMessageBatchRequestEntry")
        total = sum(
            len(entry.message_body.encode()) + message.attributes_size(_attribute_records(entry))
            for entry in req.entries
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
        await self._commit(queue, [item for _, item in prepared])
        return api.SendMessageBatchResult(
            successful=[
                api.SendMessageBatchResultEntry(
                    id=entry_id,
                    message_id=item.result.message_id or "",
                    md5_of_message_body=item.result.md5_of_message_body or "",
                    md5_of_message_attributes=item.result.md5_of_message_attributes,
                    md5_of_message_system_attributes=item.result.md5_of_message_system_attributes,
                    sequence_number=item.result.sequence_number,
                )
                for entry_id, item in prepared
            ],
            failed=failed,
        )

    def prepare_send(self, queue: Queue, req: api.SendMessage, ctx: RequestContext) -> PreparedSend:
        """Validate a send into ``queue`` (as SendMessage does) without committing it.

        For senders that write into several queues in one commit (SNS fan-out):
        the caller submits ``writes`` (with others) to the committer, and once
        that commit is durable calls ``settle()``, which indexes the message so
        receivers see it (``abandon()`` instead if the commit failed).  A
        duplicate (FIFO dedup) has no writes; settling it does nothing, and its
        answer is the original's ids.  Raises the same errors as SendMessage.
        """
        prepared = self._prepare(queue, req, ctx)
        return PreparedSend(
            prepared.writes,
            prepared.result,
            lambda: self._index(queue, [prepared]),
            lambda: self._abandon(queue, [prepared]),
        )

    async def _commit(self, queue: Queue, prepared: list[_Prepared]) -> None:
        if not prepared:
            return
        # With no writes (only duplicates) this is a barrier: a duplicate answers only once its
        # original is durable.  The index learns of the sends even if this request is cancelled.
        writes = [write for item in prepared for write in item.writes]
        await self.rt.commit_then(
            writes, lambda: self._index(queue, prepared), lambda: self._abandon(queue, prepared)
        )

    @staticmethod
    def _abandon(queue: Queue, prepared: list[_Prepared]) -> None:
        """The sends' commit failed: forget their dedup entries and their seq high-water mark."""
        queue.dedup.abandon([item.dedup_token for item in prepared if item.dedup_token])
        queue.seq_mark_lost()

    def _index(self, queue: Queue, prepared: list[_Prepared]) -> None:
        """Committed sends join the queue's index and wake its long-polls."""
        now = self.rt.now_ms()
        tokens = [item.dedup_token for item in prepared if item.dedup_token]
        if tokens:
            queue.dedup.committed(max(tokens))
        fresh = [item for item in prepared if not item.duplicate]
        visible = 0
        for item in fresh:
            queue.add(item.seq, item.visible_at_ms, now, item.group)
            visible += item.visible_at_ms <= now
        self.rt.made_visible(queue, visible)
        if visible < len(fresh):
            self.rt.arm_timer(queue)

    def _prepare(self, queue: Queue, req: SendRequest, ctx: RequestContext) -> _Prepared:
        dedup_id = self._check_queue_type_rules(queue, req)
        body = req.message_body
        if body == "":
            raise InvalidParameterValue("The request must contain a non-empty message body.")
        message.check_body(body)
        user = message.convert_attributes(req.message_attributes)
        system = message.convert_attributes(req.message_system_attributes, system=True)
        size = len(body.encode()) + message.attributes_size(user)
        max_size = queue.number("MaximumMessageSize")
        if size > max_size:
            raise InvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
            )
        now = self.rt.now_ms()
        group = req.message_group_id
        md5_body = message.md5_hex(body.encode())
        md5_user = message.md5_of_attributes(user) if user else None
        md5_system = message.md5_of_attributes(system) if system else None
        scope_key = ""
        if dedup_id is not None:
            scope = queue.attributes.get("DeduplicationScope")
            scope_key = f"{group}\n{dedup_id}" if scope == "messageGroup" else dedup_id
            seen = queue.dedup.find(self.rt.store, scope_key, now)
            if seen is not None:
                duplicate = api.SendMessageResult(
                    message_id=seen.message_id,
                    md5_of_message_body=md5_body,
                    md5_of_message_attributes=md5_user,
                    md5_of_message_system_attributes=md5_system,
                    sequence_number=seen.sequence_number,
                )
                return _Prepared(-1, now, group, [], duplicate)
        delay = req.delay_seconds
        if delay is None:
            delay = queue.number("DelaySeconds")
        visible_at = now + delay * 1000
        seq, mark = queue.allocate_seq()
        sequence_number = fifo.sequence_number(seq) if queue.fifo else None
        key = keys.message_key(queue.queue_id, seq)
        record = MessageBody(
            message_id=new_id(),
            body=body,
            attributes=user,
            sent_ms=now,
            sender_id=ctx.account_id,
            md5_of_body=md5_body,
            trace_header=system[0].string_value if system else None,
            group_id=group,
            dedup_id=dedup_id,
            sequence_number=sequence_number,
        )
        state = MessageState(now, visible_at, 0, 0, group if queue.fifo else None)
        writes = [put(Db.BODIES, key, pack_body(record)), put(Db.STATES, key, pack_state(state))]
        if mark is not None:
            writes.append(put(Db.META, seq_mark_key(queue.queue_id), keys.u64(mark)))
        dedup_token = 0
        if dedup_id is not None and sequence_number is not None:
            dedup_writes, dedup_token = queue.dedup.record(
                self.rt.store, scope_key, record.message_id, sequence_number, now
            )
            writes += dedup_writes
        result = api.SendMessageResult(
            message_id=record.message_id,
            md5_of_message_body=md5_body,
            md5_of_message_attributes=md5_user,
            md5_of_message_system_attributes=md5_system,
            sequence_number=sequence_number,
        )
        return _Prepared(seq, visible_at, group, writes, result, dedup_token)

    @staticmethod
    def _check_queue_type_rules(queue: Queue, req: SendRequest) -> str | None:
        """Apply the FIFO / standard parameter rules; return the deduplication id (FIFO only)."""
        check_range("DelaySeconds", req.delay_seconds, 0, 900, "DelaySeconds must be >= 0 and <= 900")
        if req.message_group_id is not None:
            fifo.check_id("MessageGroupId", req.message_group_id)
        if not queue.fifo:
            if req.message_deduplication_id is not None:
                raise InvalidParameterValue(
                    "The request include parameter that is not valid for this queue type. "
                    "Reason: MessageDeduplicationId is only valid for FIFO queues."
                )
            return None
        if req.delay_seconds is not None:
            raise InvalidParameterValue(
                f"Value {req.delay_seconds} for parameter DelaySeconds is invalid. "
                "Reason: The request include parameter that is not valid for this queue type."
            )
        if req.message_group_id is None:
            raise MissingParameter("The request must contain the parameter MessageGroupId.")
        if req.message_deduplication_id is not None:
            fifo.check_id("MessageDeduplicationId", req.message_deduplication_id)
            return req.message_deduplication_id
        if queue.attributes.get("ContentBasedDeduplication") != "true":
            raise InvalidParameterValue(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        return fifo.content_dedup_id(req.message_body)


def _attribute_records(entry: api.SendMessageBatchRequestEntry) -> list[MessageAttribute]:
    return [
        MessageAttribute(name, value.data_type, value.string_value, value.binary_value)
        for name, value in (entry.message_attributes or {}).items()
    ]
