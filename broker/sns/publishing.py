"""Publish and PublishBatch: validate, fan out to every matching subscription,
and acknowledge after ONE commit.

Strategy: a publish is prepared synchronously (no await): validation, the
FIFO sequence number and deduplication window, then for every confirmed
subscription of the topic whose filter policy matches, its protocol's
:class:`~broker.sns.delivery.DeliveryTarget` prepares a delivery (writes plus
an after-commit ``settle``).  All writes of the publish (of the whole batch,
for PublishBatch) go to the group committer as one submission, so either
every matching SQS queue has the message or none has; only after that commit
are the deliveries settled (queues index the message and wake their
long-polls) and the publish answered.  A FIFO duplicate within the window is
answered with the original ids after a barrier, and delivered to no one.

Rules (AWS's): TopicArn or TargetArn (a topic ARN; platform endpoints do not
exist here), or PhoneNumber (recorded like an SMS subscription); the message
non-empty; ``MessageStructure=json`` needs a ``default``; Subject at most 100
printable ASCII characters; FIFO topics need MessageGroupId and a
deduplication id (or ContentBasedDeduplication); standard topics refuse both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from broker.context import RequestContext
from broker.errors import (
    InvalidParameter,
    NotFound,
    ShoalError,
    SnsBatchEntryIdsNotDistinct,
    SnsBatchRequestTooLong,
    SnsEmptyBatchRequest,
    SnsInvalidBatchEntryId,
    SnsTooManyEntriesInBatchRequest,
)
from broker.ids import new_id
from broker.sns import api, documents, fifo, messages
from broker.sns.delivery import DeliveryTarget
from broker.sns.envelope import Notification
from broker.sns.runtime import SnsRuntime
from broker.sns.topics import Topic
from storage.store import Write

log = logging.getLogger(__name__)

MAX_BATCH = 10
_SUBJECT = re.compile(r"^[\x20-\x7e]{1,100}$")
_ID = re.compile(r"^[!-~]{1,128}$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")

Entry = api.Publish | api.PublishBatchRequestEntry


@dataclass(slots=True)
class _Prepared:
    message_id: str
    sequence_number: str | None
    writes: list[Write] = field(default_factory=list)
    settles: list[Callable[[], None]] = field(default_factory=list)
    abandons: list[Callable[[], None]] = field(default_factory=list)


class PublishActions:
    """Publishing, and the fan-out it does."""

    def __init__(self, runtime: SnsRuntime, targets: dict[str, DeliveryTarget]) -> None:
        self.rt = runtime
        self.targets = targets
        self.sequences: dict[int, fifo.TopicSequence] = {}

    async def publish(self, req: api.Publish, ctx: RequestContext) -> api.PublishResponse:
        arn = req.topic_arn or req.target_arn
        if req.phone_number is not None:
            if arn is not None:
                raise InvalidParameter("Invalid parameter: Only one of TopicArn, TargetArn or PhoneNumber")
            raise InvalidParameter(
                "Invalid parameter: PhoneNumber Reason: SMS messages are not supported by this server"
            )
        if arn is None:
            raise InvalidParameter(
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"
            )
        if req.topic_arn is not None and req.target_arn is not None:
            raise InvalidParameter("Invalid parameter: Only one of TopicArn, TargetArn or PhoneNumber")
        if ":endpoint/" in arn:
            raise NotFound("Endpoint does not exist")
        topic = self.rt.topics.resolve(arn, ctx.account_id)
        prepared = self._prepare(topic, req, ctx)
        await self._commit([prepared])
        return api.PublishResponse(message_id=prepared.message_id, sequence_number=prepared.sequence_number)

    async def publish_batch(self, req: api.PublishBatch, ctx: RequestContext) -> api.PublishBatchResponse:
        topic = self.rt.topics.resolve(req.topic_arn, ctx.account_id)
        entries = req.publish_batch_request_entries
        if not entries:
            raise SnsEmptyBatchRequest("The batch request doesn't contain any entries.")
        if len(entries) > MAX_BATCH:
            raise SnsTooManyEntriesInBatchRequest("The batch request contains more entries than permissible.")
        ids = [entry.id for entry in entries]
        if len(set(ids)) != len(ids):
            raise SnsBatchEntryIdsNotDistinct("Two or more batch entries in the request have the same Id.")
        if any(not _BATCH_ID.match(entry_id) for entry_id in ids):
            raise SnsInvalidBatchEntryId(
                "The Id of a batch entry in a batch request doesn't abide by the specification."
            )
        max_size = self._max_size(topic)
        total = sum(
            len(e.message.encode())
            + messages.attributes_size(messages.convert_attributes(e.message_attributes))
            for e in entries
        )
        if total > max_size:
            raise SnsBatchRequestTooLong(
                "The length of all the batch messages put together is more than the limit."
            )
        done: list[tuple[str, _Prepared]] = []
        failed: list[api.BatchResultErrorEntry] = []
        for entry in entries:
            try:
                done.append((entry.id, self._prepare(topic, entry, ctx)))
            except ShoalError as error:
                failed.append(
                    api.BatchResultErrorEntry(
                        id=entry.id,
                        code=error.query_code,
                        message=error.message,
                        sender_fault=error.sender_fault,
                    )
                )
        await self._commit([item for _, item in done])
        return api.PublishBatchResponse(
            successful=[
                api.PublishBatchResultEntry(
                    id=entry_id, message_id=item.message_id, sequence_number=item.sequence_number
                )
                for entry_id, item in done
            ],
            failed=failed,
        )

    async def _commit(self, prepared: list[_Prepared]) -> None:
        """Commit every delivery of the publishes at once; then index them (or, if the commit
        failed, forget what they reserved), even if this request is cancelled meanwhile."""

        def run(kind: str) -> None:
            for item in prepared:
                for step in item.settles if kind == "settle" else item.abandons:
                    step()

        writes = [write for item in prepared for write in item.writes]
        await self.rt.committer.commit_then(writes, lambda: run("settle"), lambda: run("abandon"))

    def _max_size(self, topic: Topic) -> int:
        return messages.max_size(topic.attributes)

    def _prepare(self, topic: Topic, req: Entry, ctx: RequestContext) -> _Prepared:
        message = req.message
        if message == "":
            raise InvalidParameter("Invalid parameter: Empty message")
        structure = None
        if req.message_structure is not None:
            if req.message_structure != "json":
                raise InvalidParameter("Invalid parameter: MessageStructure")
            structure = documents.message_structure(message)
        if req.subject is not None and not _SUBJECT.match(req.subject):
            raise InvalidParameter("Invalid parameter: Subject")
        attributes = messages.convert_attributes(req.message_attributes)
        messages.check_size(message, attributes, self._max_size(topic))
        dedup_id = self._check_fifo_rules(topic, req)
        now = self.rt.now_ms()
        message_id = new_id()
        prepared = _Prepared(message_id, None)
        if topic.fifo:
            assert dedup_id is not None
            sequence = self._sequence(topic)
            seen = sequence.window.find(self.rt.store, dedup_id, now)
            if seen is not None:
                return _Prepared(seen.message_id, seen.sequence_number)
            prepared.sequence_number, mark = sequence.next()
            prepared.writes.append(mark)
            dedup_writes, token = sequence.window.record(
                self.rt.store, dedup_id, message_id, prepared.sequence_number, now
            )
            prepared.writes += dedup_writes
            prepared.settles.append(lambda: sequence.window.committed(token))
            prepared.abandons.append(lambda: sequence.window.abandon([token]))
        note = Notification(
            message_id=message_id,
            topic_arn=topic.arn,
            message=message,
            structure=structure,
            subject=req.subject,
            attributes=attributes,
            timestamp_ms=now,
            group_id=req.message_group_id,
            dedup_id=dedup_id,
            sequence_number=prepared.sequence_number,
            base_url=ctx.base_url,
            signature_version=topic.attributes.get("SignatureVersion", "1"),
        )
        view = messages.filter_view(attributes)
        for sub in self.rt.subscriptions.of_topic(topic):
            if not sub.record.confirmed:
                continue
            policy = sub.filter_policy()
            if policy is not None and not policy.matches(view, note.message_for(sub.protocol)):
                continue
            delivery = self.targets[sub.protocol].deliver(sub, note)
            if delivery is not None:
                prepared.writes += delivery.writes
                prepared.settles.append(delivery.settle)
                prepared.abandons.append(delivery.abandon)
        return prepared

    def _sequence(self, topic: Topic) -> fifo.TopicSequence:
        found = self.sequences.get(topic.topic_id)
        if found is None:
            found = fifo.TopicSequence.load(self.rt.store, topic.topic_id)
            self.sequences[topic.topic_id] = found
        return found

    @staticmethod
    def _check_fifo_rules(topic: Topic, req: Entry) -> str | None:
        """The FIFO / standard parameter rules; the deduplication id (FIFO only)."""
        if not topic.fifo:
            if req.message_deduplication_id is not None:
                raise InvalidParameter(
                    "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                    "MessageDeduplicationId parameter that is not valid for this topic type"
                )
            if req.message_group_id is not None:
                raise InvalidParameter(
                    "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId "
                    "parameter that is not valid for this topic type"
                )
            return None
        if req.message_group_id is None:
            raise InvalidParameter(
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
            )
        if not _ID.match(req.message_group_id):
            raise InvalidParameter("Invalid parameter: MessageGroupId")
        if req.message_deduplication_id is not None:
            if not _ID.match(req.message_deduplication_id):
                raise InvalidParameter("Invalid parameter: MessageDeduplicationId")
            return req.message_deduplication_id
        if topic.attributes.get("ContentBasedDeduplication") != "true":
            raise InvalidParameter(
                "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
        return fifo.content_dedup_id(req.message)
