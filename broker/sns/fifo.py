"""FIFO topics: sequence numbers and the 5-minute deduplication window.

Rules: a FIFO topic's SequenceNumber is 20 decimal digits, strictly
increasing per topic and stable across restarts (a persisted mark, meta key
``sns:seq:`` + topic id, written with each publish).  A publish whose
deduplication id (given, or SHA-256 of the message with
ContentBasedDeduplication) was seen in the last 5 minutes is acknowledged with
the original MessageId and SequenceNumber and delivered to no one.  The window
is :class:`broker.dedup.DedupWindow` (in the meta database under ``sns:dd:`` +
topic id).
"""

from __future__ import annotations

import hashlib

from broker.dedup import DedupWindow
from storage import keys
from storage.store import Db, LmdbStore, Write, delete, delete_prefix, put

DEDUP_WINDOW_MS = 5 * 60 * 1000
SEQUENCE_BASE = 10**19
SEQ_PREFIX = b"sns:seq:"
DEDUP_PREFIX = b"sns:dd:"


def content_dedup_id(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()


def forget_topic(topic_id: int) -> list[Write]:
    """The writes that drop a deleted topic's FIFO state."""
    return [delete(Db.META, SEQ_PREFIX + keys.u64(topic_id)), delete_prefix(Db.META, _prefix(topic_id))]


def _prefix(topic_id: int) -> bytes:
    return DEDUP_PREFIX + keys.u64(topic_id)


class TopicSequence:
    """One FIFO topic's sequence counter and deduplication window."""

    def __init__(self, topic_id: int, next_seq: int = 1) -> None:
        self.topic_id = topic_id
        self.next_seq = next_seq
        self.window = DedupWindow(_prefix(topic_id))

    @classmethod
    def load(cls, store: LmdbStore, topic_id: int) -> TopicSequence:
        raw = store.get(Db.META, SEQ_PREFIX + keys.u64(topic_id))
        return cls(topic_id, keys.from_u64(raw) if raw else 1)

    def next(self) -> tuple[str, Write]:
        """The next SequenceNumber and the write that persists the counter."""
        seq = self.next_seq
        self.next_seq += 1
        return str(SEQUENCE_BASE + seq), put(
            Db.META, SEQ_PREFIX + keys.u64(self.topic_id), keys.u64(self.next_seq)
        )
