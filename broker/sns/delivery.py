"""Delivery targets: where a subscription's messages go, one per protocol.

The seam.  A :class:`DeliveryTarget` turns one notification for one
subscription into a :class:`Delivery`: the writes to commit and what to do
once they are durable.  Publishing gathers the deliveries of every matching
subscription and commits them all with the publish in ONE commit, then runs
their ``settle`` callbacks; so a target must not write or await anything
itself.  ``confirmation`` does the same for the SubscriptionConfirmation of a
subscription that waits for one (Subscribe answers after its commit).

Targets today:

* ``sqs``: :class:`SqsTarget` writes into the queue through
  :meth:`broker.sqs.sending.SendActions.prepare_send` (same validation as
  SendMessage): the JSON envelope, or with RawMessageDelivery the message
  itself with the message attributes as SQS message attributes.  FIFO topics
  pass MessageGroupId and the deduplication id to FIFO queues.  A queue of
  another account gets the SubscriptionConfirmation as a message.  A queue that
  rejects the message (deleted, too large for it) is skipped and logged, as
  SNS drops a delivery it cannot make (no subscription DLQ yet).
* ``email``, ``email-json``, ``sms``, ``lambda``, ``firehose``,
  ``application``: :class:`RecordingTarget` keeps what would have been sent
  in the store (meta keys ``sns:r:`` + u64 sequence, :class:`storage.records.
  DeliveryRecord`), confirmation requests included, so tests and users can
  inspect them at ``GET /_shoal/sns/deliveries`` (JSON, oldest first).
* ``http``, ``https``: :class:`HttpTarget` adds the POST (the signed
  envelope, or the message itself with RawMessageDelivery; the
  SubscriptionConfirmation likewise) to the persisted outbox in the same
  commit; ``settle`` schedules it and wakes the sender
  (:mod:`broker.sns.outbox`: retries with the delivery policy, dead-letter
  queue).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from broker.context import RequestContext
from broker.errors import ShoalError
from broker.sns import documents, envelope
from broker.sns.outbox import NOTIFICATION, Outbox
from broker.sns.runtime import SnsRuntime
from broker.sns.subscriptions import Subscription
from broker.sqs import api as sqs_api
from broker.sqs.queue import Queue
from storage import keys
from storage.records import DeliveryRecord, pack_record
from storage.store import Db, Write, put

log = logging.getLogger(__name__)

DELIVERY_PREFIX = b"sns:r:"


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Delivery:
    """Writes to commit with the publish, and what to run once they are durable."""

    writes: list[Write] = field(default_factory=list)
    settle: Callable[[], None] = _nothing
    abandon: Callable[[], None] = _nothing
    """Run instead of ``settle`` if the commit failed."""


class DeliveryTarget(Protocol):
    """How messages reach the subscribers of one or more protocols."""

    def deliver(self, sub: Subscription, note: envelope.Notification) -> Delivery | None:
        """The delivery of ``note`` to ``sub`` (None: nothing to deliver, or it failed and was logged)."""
        ...

    def confirmation(self, sub: Subscription, fields: dict[str, object]) -> Delivery | None:
        """Send a SubscriptionConfirmation (``fields``, signed) to a pending subscriber."""
        ...


class SqsTarget:
    """Into an SQS queue of this server (any account), in the publish's commit."""

    def __init__(self, runtime: SnsRuntime) -> None:
        self.rt = runtime

    def deliver(self, sub: Subscription, note: envelope.Notification) -> Delivery | None:
        queue = self._queue(sub)
        if queue is None:
            return None
        if sub.raw:
            body = note.message_for("sqs")
            attributes = {
                a.name: sqs_api.MessageAttributeValue(
                    data_type=a.data_type, string_value=a.string_value, binary_value=a.binary_value
                )
                for a in note.attributes
            } or None
        else:
            fields = envelope.notification(note, "sqs", sub.arn, self.rt.sign())
            body, attributes = documents.envelope(fields), None
        request = sqs_api.SendMessage(
            queue_url=sub.record.endpoint,
            message_body=body,
            message_attributes=attributes,
            message_group_id=note.group_id if queue.fifo else None,
            message_deduplication_id=note.dedup_id if queue.fifo else None,
        )
        return self._send(sub, queue, request)

    def confirmation(self, sub: Subscription, fields: dict[str, object]) -> Delivery | None:
        """A queue of another account gets the SubscriptionConfirmation as a message, as on AWS."""
        queue = self._queue(sub)
        if queue is None:
            return None
        token = str(fields["Token"])
        request = sqs_api.SendMessage(
            queue_url=sub.record.endpoint,
            message_body=documents.envelope(fields),
            message_group_id="SubscriptionConfirmation" if queue.fifo else None,
            message_deduplication_id=token[:128] if queue.fifo else None,
        )
        return self._send(sub, queue, request)

    def _queue(self, sub: Subscription) -> Queue | None:
        parts = sub.record.endpoint.split(":")
        queue = self.rt.sqs.rt.registry.find(parts[4], parts[5]) if len(parts) == 6 else None
        if queue is None:
            log.info("sns: queue %s of %s does not exist; delivery dropped", sub.record.endpoint, sub.arn)
        return queue

    def _send(self, sub: Subscription, queue: Queue, request: sqs_api.SendMessage) -> Delivery | None:
        ctx = RequestContext(account_id=sub.topic.record.account_id, region=sub.topic.record.region)
        try:
            prepared = self.rt.sqs.sending.prepare_send(queue, request, ctx)
        except ShoalError as error:
            log.info(
                "sns: queue %s rejected a message of %s: %s", sub.record.endpoint, sub.arn, error.message
            )
            return None
        return Delivery(prepared.writes, prepared.settle, prepared.abandon)


class RecordingTarget:
    """Keeps deliveries for inspection instead of sending them (email, SMS, Lambda, ...)."""

    def __init__(self, runtime: SnsRuntime) -> None:
        self.rt = runtime
        last = runtime.store.last_key(Db.META, DELIVERY_PREFIX)
        self.next_seq = keys.from_u64(last[len(DELIVERY_PREFIX) :]) + 1 if last else 1

    def deliver(self, sub: Subscription, note: envelope.Notification) -> Delivery | None:
        if sub.protocol in ("email", "sms"):
            text = note.message_for(sub.protocol)
        else:
            text = documents.envelope(envelope.notification(note, sub.protocol, sub.arn, self.rt.sign()))
        return Delivery([self._record(sub, text)])

    def confirmation(self, sub: Subscription, fields: dict[str, object]) -> Delivery | None:
        return Delivery([self._record(sub, documents.envelope(fields))])

    def _record(self, sub: Subscription, text: str) -> Write:
        seq = self.next_seq
        self.next_seq += 1
        record = DeliveryRecord(self.rt.now_ms(), sub.arn, sub.protocol, sub.record.endpoint, text)
        return put(Db.META, DELIVERY_PREFIX + keys.u64(seq), pack_record(record))


class HttpTarget:
    """To HTTP/HTTPS endpoints, through the persisted outbox."""

    def __init__(self, runtime: SnsRuntime, outbox: Outbox) -> None:
        self.rt = runtime
        self.outbox = outbox

    def deliver(self, sub: Subscription, note: envelope.Notification) -> Delivery | None:
        if sub.raw:
            body = note.message_for(sub.protocol)
        else:
            body = documents.envelope(envelope.notification(note, sub.protocol, sub.arn, self.rt.sign()))
        write, settle = self.outbox.prepare(sub, NOTIFICATION, note.message_id, body, raw=sub.raw)
        return Delivery([write], settle)

    def confirmation(self, sub: Subscription, fields: dict[str, object]) -> Delivery | None:
        message_id = str(fields["MessageId"])
        message_type = str(fields["Type"])  # SubscriptionConfirmation or UnsubscribeConfirmation
        write, settle = self.outbox.prepare(sub, message_type, message_id, documents.envelope(fields))
        return Delivery([write], settle)
