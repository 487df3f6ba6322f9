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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from broker.context import RequestContext
from broker.errors import BatchRequestTooLong, InvalidParameterValue, MissingParameter, ShoalError
from broker.ids import new_id
from broker.sqs import api, fifo, handoff, message
from broker.sqs.batch import check_entries, failure
from broker.sqs.handoff import HandOffs, Taker
from broker.sqs.queue import Queue
from broker.sqs.registry import seq_mark_key
from broker.sqs.runtime import SqsRuntime, check_range
from storage import keys
from storage.records import MessageAttribute, pack_new_body, pack_state_of
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
    message_id: str
    md5_of_body: str
    md5_of_attributes: str | None = None
    md5_of_system_attributes: str | None = None
    sequence_number: str | None = None
    dedup_token: int = 0
    """The FIFO deduplication entry's token (0: none), released once committed."""
    taker: Taker | None = None
    """The parked long poll this message was handed to in its send's commit, if any."""

    @property
    def duplicate(self) -> bool:
        return not self.writes

    def result(self) -> api.SendMessageResult:
        return api.SendMessageResult(
            message_id=self.message_id,
            md5_of_message_body=self.md5_of_body,
            md5_of_message_attributes=self.md5_of_attributes,
            md5_of_message_system_attributes=self.md5_of_system_attributes,
            sequence_number=self.sequence_number,
        )

    def batch_entry(self, entry_id: str) -> api.SendMessageBatchResultEntry:
        return api.SendMessageBatchResultEntry(
            id=entry_id,
            message_id=self.message_id,
            md5_of_message_body=self.md5_of_body,
            md5_of_message_attributes=self.md5_of_attributes,
            md5_of_message_system_attributes=self.md5_of_system_attributes,
            sequence_number=self.sequence_number,
        )


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
        defaults = self._defaults(queue)
        prepared = self._prepare(queue, req, ctx, *defaults)
        await self._commit(queue, [prepared], defaults[0])
        return prepared.result()

    async def send_message_batch(
        self, req: api.SendMessageBatch, ctx: RequestContext
    ) -> api.SendMessageBatchResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        entries = req.entries
        check_entries(entries, "SendMessageBatchRequestEntry")
        total = 0
        for entry in entries:
            total += len(entry.message_body.encode())
            if entry.message_attributes:
                total += message.attributes_size(_attribute_records(entry))
        if total > MAX_BATCH_BYTES:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
            )
        defaults = self._defaults(queue)
        prepared: list[_Prepared] = []
        successful: list[api.SendMessageBatchResultEntry] = []
        failed: list[api.BatchResultErrorEntry] = []
        for entry in entries:
            try:
                item = self._prepare(queue, entry, ctx, *defaults)
            except ShoalError as error:
                failed.append(failure(entry.id, error))
                continue
            prepared.append(item)
            successful.append(item.batch_entry(entry.id))
        await self._commit(queue, prepared, defaults[0])
        return api.SendMessageBatchResult(successful=successful, failed=failed)

    def prepare_send(self, queue: Queue, req: api.SendMessage, ctx: RequestContext) -> PreparedSend:
        """Validate a send into ``queue`` (as SendMessage does) without committing it.

        For senders that write into several queues in one commit (SNS fan-out):
        the caller submits ``writes`` (with others) to the committer, and once
        that commit is durable calls ``settle()``, which indexes the message so
        receivers see it (``abandon()`` instead if the commit failed).  A
        duplicate (FIFO dedup) has no writes; settling it does nothing, and its
        answer is the original's ids.  Raises the same errors as SendMessage.
        """
        prepared = self._prepare(queue, req, ctx, *self._defaults(queue))
        return PreparedSend(
            prepared.writes,
            prepared.result(),
            lambda: self._index(queue, [prepared], None),
            lambda: self._abandon(queue, [prepared], None),
        )

    def _commit(self, queue: Queue, prepared: list[_Prepared], sent_ms: int) -> Awaitable[None]:
        """Commit the sends (await the result); nothing to wait for if there are none.

        With no writes (only duplicates) this is a barrier: a duplicate answers only once its
        original is durable.  The index learns of the sends even if this request is cancelled.
        Messages visible at once go to parked long polls in this same commit
        (:mod:`broker.sqs.handoff`).
        """
        if not prepared:
            return _nothing()
        handed = (
            handoff.assign(queue, prepared, sent_ms, self.rt.committer.next_hand_over())
            if queue.takers and not queue.fifo
            else None
        )
        writes = [write for item in prepared for write in item.writes]
        return self.rt.commit_then(
            writes,
            lambda: self._index(queue, prepared, handed),
            lambda: self._abandon(queue, prepared, handed),
        )

    @staticmethod
    def _abandon(queue: Queue, prepared: list[_Prepared], handed: HandOffs | None) -> None:
        """The sends' commit failed: forget their dedup entries and their seq high-water mark,
        and send the long polls they were handed to back to polling."""
        queue.dedup.abandon([item.dedup_token for item in prepared if item.dedup_token])
        queue.seq_mark_lost()
        if handed is not None:
            handoff.release(queue, handed)

    def _index(self, queue: Queue, prepared: list[_Prepared], handed: HandOffs | None) -> None:
        """Committed sends join the queue's index and wake its long-polls."""
        now = self.rt.now_ms()
        tokens = [item.dedup_token for item in prepared if item.dedup_token]
        if tokens:
            queue.dedup.committed(max(tokens))
        fresh = [item for item in prepared if not item.duplicate]
        visible = 0
        for item in fresh:
            if item.taker is None:
                queue.add(item.seq, item.visible_at_ms, now, item.group)
                visible += item.visible_at_ms <= now
        if handed is not None:
            put_back, writes = handoff.settle(queue, handed)
            visible += put_back
            if writes:
                self.rt.commit_later(writes)
        self.rt.made_visible(queue, visible)
        if visible < len(fresh):
            self.rt.arm_timer(queue)

    def _defaults(self, queue: Queue) -> tuple[int, int, int]:
        """What every send of one request shares: (now, MaximumMessageSize, DelaySeconds)."""
        return self.rt.now_ms(), queue.number("MaximumMessageSize"), queue.number("DelaySeconds")

    def _prepare(
        self,
        queue: Queue,
        req: SendRequest,
        ctx: RequestContext,
        now: int,
        max_size: int,
        default_delay: int,
    ) -> _Prepared:
        # The hot path: a standard queue and a plain message skip every optional rule.
        fifo_queue = queue.fifo
        dedup_id = None
        if (
            fifo_queue
            or req.delay_seconds is not None
            or req.message_group_id is not None
            or req.message_deduplication_id is not None
        ):
            dedup_id = self._check_queue_type_rules(queue, req)
        body = req.message_body
        if body == "":
            raise InvalidParameterValue("The request must contain a non-empty message body.")
        message.check_body(body)
        encoded = body.encode()
        size = len(encoded)
        user: tuple[MessageAttribute, ...] = ()
        system: tuple[MessageAttribute, ...] = ()
        md5_user = md5_system = None
        if req.message_attributes or req.message_system_attributes:
            user = message.convert_attributes(req.message_attributes)
            system = message.convert_attributes(req.message_system_attributes, system=True)
            size += message.attributes_size(user)
            md5_user = message.md5_of_attributes(user) if user else None
            md5_system = message.md5_of_attributes(system) if system else None
        if size > max_size:
            raise InvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
            )
        group = req.message_group_id
        md5_body = message.md5_hex(encoded)
        scope_key = ""
        if dedup_id is not None:
            scope = queue.attributes.get("DeduplicationScope")
            scope_key = f"{group}\n{dedup_id}" if scope == "messageGroup" else dedup_id
            seen = queue.dedup.find(self.rt.store, scope_key, now)
            if seen is not None:
                return _Prepared(
                    -1, now, group, [], seen.message_id, md5_body, md5_user, md5_system, seen.sequence_number
                )
        delay = req.delay_seconds
        if delay is None:
            delay = default_delay
        visible_at = now + delay * 1000
        seq, mark = queue.allocate_seq()
        sequence_number = fifo.sequence_number(seq) if fifo_queue else None
        key = keys.message_key(queue.queue_id, seq)
        message_id = new_id()
        packed_body = pack_new_body(
            message_id,
            body,
            user,
            now,
            ctx.account_id,
            md5_body,
            system[0].string_value if system else None,
            group,
            dedup_id,
            sequence_number,
        )
        packed_state = pack_state_of(now, visible_at, 0, 0, group if fifo_queue else None)
        writes = [put(Db.BODIES, key, packed_body), put(Db.STATES, key, packed_state)]
        if mark is not None:
            writes.append(put(Db.META, seq_mark_key(queue.queue_id), keys.u64(mark)))
        dedup_token = 0
        if dedup_id is not None and sequence_number is not None:
            dedup_writes, dedup_token = queue.dedup.record(
                self.rt.store, scope_key, message_id, sequence_number, now
            )
            writes += dedup_writes
        return _Prepared(
            seq,
            visible_at,
            group,
            writes,
            message_id,
            md5_body,
            md5_user,
            md5_system,
            sequence_number,
            dedup_token,
        )

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


async def _nothing() -> None:
    """An awaitable that is done at once."""


def _attribute_records(entry: api.SendMessageBatchRequestEntry) -> list[MessageAttribute]:
    return [
        MessageAttribute(name, value.data_type, value.string_value, value.binary_value)
        for name, value in (entry.message_attributes or {}).items()
    ]
