"""The records stored in LMDB, as msgpack arrays (compact, positional).

A message is two records under the same key: the immutable body record
(written once at send) and the small state record (rewritten on every receive
or visibility change), so a receive never rewrites a large body.  A queue is one
record holding its identity, timestamps, attributes and tags.
"""

from __future__ import annotations

import struct
import threading
from typing import Any, NamedTuple, TypeVar

import msgpack


class _Packers(threading.local):
    """One reusable msgpack Packer per thread (``packb`` builds a new one per call,
    which costs as much as packing a small record; a Packer is not thread-safe)."""

    def __init__(self) -> None:
        self.packer = msgpack.Packer(use_bin_type=True)


_PACKERS = _Packers()


def _pack(value: object) -> bytes:
    packed: bytes = _PACKERS.packer.pack(value)
    return packed


class MessageAttribute(NamedTuple):
    """A user or system message attribute as sent."""

    name: str
    data_type: str
    string_value: str | None
    binary_value: bytes | None


class MessageBody(NamedTuple):
    """The immutable part of a message."""

    message_id: str
    body: str
    attributes: tuple[MessageAttribute, ...]
    sent_ms: int
    sender_id: str
    md5_of_body: str
    trace_header: str | None
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None
    dead_letter_source: str | None = None
    """ARN of the queue this message was dead-lettered from (for redrive)."""
    enqueued_ms: int | None = None
    """When retention starts, if not at ``sent_ms``: a move to a FIFO dead-letter queue resets it."""


class MessageState(NamedTuple):
    """The mutable part of a message."""

    sent_ms: int
    visible_at_ms: int
    receive_count: int
    first_receive_ms: int
    group_id: str | None = None
    """The FIFO message group, so the group order and locks rebuild without reading bodies."""


class DedupEntry(NamedTuple):
    """A FIFO deduplication id seen within its window, and what its send answered."""

    expires_ms: int
    message_id: str
    sequence_number: str


class MoveTaskRecord(NamedTuple):
    """A message-move task (redrive) and its progress."""

    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    status: str
    moved: int
    to_move: int
    failure_reason: str | None
    started_ms: int


class QueueRecord(NamedTuple):
    """A queue's identity and configuration."""

    queue_id: int
    account_id: str
    name: str
    region: str
    created_ms: int
    modified_ms: int
    attributes: dict[str, str]
    tags: dict[str, str]


def pack_body(record: MessageBody) -> bytes:
    """Encode a body record (tuples, named or not, pack as msgpack arrays)."""
    return _pack(record)


def unpack_body(raw: bytes) -> MessageBody:
    """Decode a body record."""
    record = _rebuild(MessageBody, msgpack.unpackb(raw, use_list=False))
    if record.attributes:
        record = record._replace(attributes=tuple(MessageAttribute._make(a) for a in record.attributes))
    return record


def pack_state(state: MessageState) -> bytes:
    """Encode a state record."""
    return _pack(state)


_PLAIN_STATE = struct.Struct(">BBQBQBQBQB")


def pack_state_of(
    sent_ms: int, visible_at_ms: int, receive_count: int, first_receive_ms: int, group_id: str | None
) -> bytes:
    """``pack_state(MessageState(...))`` of these fields without building the NamedTuple,
    for the hot paths (one per send and per message received).  With no group the
    msgpack bytes are written directly (a 5-array of four uint64s and nil), which any
    msgpack reader decodes to the same values, at a tenth of the cost."""
    if group_id is None:
        return _PLAIN_STATE.pack(
            0x95, 0xCF, sent_ms, 0xCF, visible_at_ms, 0xCF, receive_count, 0xCF, first_receive_ms, 0xC0
        )
    return _pack((sent_ms, visible_at_ms, receive_count, first_receive_ms, group_id))


def pack_new_body(
    message_id: str,
    body: str,
    attributes: tuple[MessageAttribute, ...],
    sent_ms: int,
    sender_id: str,
    md5_of_body: str,
    trace_header: str | None,
    group_id: str | None,
    dedup_id: str | None,
    sequence_number: str | None,
) -> bytes:
    """``pack_body(MessageBody(...))`` of a message just sent, without building the
    NamedTuple (its ``__new__`` is Python code, and this runs once per send)."""
    return _pack(
        (
            message_id,
            body,
            attributes,
            sent_ms,
            sender_id,
            md5_of_body,
            trace_header,
            group_id,
            dedup_id,
            sequence_number,
            None,
            None,
        )
    )


def unpack_state(raw: bytes) -> MessageState:
    """Decode a state record."""
    return _rebuild(MessageState, msgpack.unpackb(raw, use_list=False))


_R = TypeVar("_R", MessageBody, MessageState)


def _rebuild(cls: type[_R], fields: tuple[Any, ...]) -> _R:
    """A record from its packed fields; records written before a trailing field
    was added have fewer fields and take that field's default."""
    return cls._make(fields) if len(fields) == len(cls._fields) else cls(*fields)


def pack_dedup(entry: DedupEntry) -> bytes:
    """Encode a dedup entry (one per FIFO send: the thread's Packer, no ``packb``)."""
    return _pack(entry)


def unpack_dedup(raw: bytes) -> DedupEntry:
    """Decode a dedup entry."""
    return DedupEntry(*msgpack.unpackb(raw, raw=False))


def pack_move_task(record: MoveTaskRecord) -> bytes:
    """Encode a move task."""
    return _pack(record)


def unpack_move_task(raw: bytes) -> MoveTaskRecord:
    """Decode a move task."""
    return MoveTaskRecord(*msgpack.unpackb(raw, raw=False))


def pack_queue(record: QueueRecord) -> bytes:
    """Encode a queue record."""
    return _pack(record)


def unpack_queue(raw: bytes) -> QueueRecord:
    """Decode a queue record."""
    return QueueRecord(*msgpack.unpackb(raw, raw=False))


class TopicRecord(NamedTuple):
    """A pub/sub topic's identity and configuration (SNS)."""

    topic_id: int
    account_id: str
    region: str
    name: str
    created_ms: int
    attributes: dict[str, str]
    tags: dict[str, str]


class SubscriptionRecord(NamedTuple):
    """A subscription of an endpoint to a topic (SNS); ``token`` is set while it awaits confirmation."""

    subscription_id: str
    topic_id: int
    owner: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]
    confirmed: bool
    token: str | None
    created_ms: int


class DeliveryRecord(NamedTuple):
    """A delivery kept for inspection (to endpoints the server does not reach: email, SMS, ...)."""

    delivered_ms: int
    subscription_arn: str
    protocol: str
    endpoint: str
    message: str


class OutboxRecord(NamedTuple):
    """A delivery to an outside endpoint that is not done yet (SNS's HTTP/S outbox)."""

    subscription_id: str
    subscription_arn: str
    endpoint: str
    message_type: str
    message_id: str
    topic_arn: str
    body: str
    raw: bool
    created_ms: int
    attempts: int
    """Attempts made so far (0: not tried yet)."""
    next_attempt_ms: int
    first_attempt_ms: int | None = None


def pack_record(record: NamedTuple) -> bytes:
    """Encode a flat record (topic, subscription, delivery) as a msgpack array."""
    return _pack(record)


def unpack_topic(raw: bytes) -> TopicRecord:
    """Decode a topic record."""
    return TopicRecord(*msgpack.unpackb(raw, raw=False))


def unpack_subscription(raw: bytes) -> SubscriptionRecord:
    """Decode a subscription record."""
    return SubscriptionRecord(*msgpack.unpackb(raw, raw=False))


def unpack_delivery(raw: bytes) -> DeliveryRecord:
    """Decode a delivery record."""
    return DeliveryRecord(*msgpack.unpackb(raw, raw=False))


def unpack_outbox(raw: bytes) -> OutboxRecord:
    """Decode an outbox record."""
    return OutboxRecord(*msgpack.unpackb(raw, raw=False))
