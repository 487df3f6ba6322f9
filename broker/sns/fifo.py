"""FIFO topics: sequence numbers and the 5-minute deduplication window.

Rules: a FIFO topic's SequenceNumber is 20 decimal digits, strictly
increasing per topic and stable across restarts (a persisted mark, meta key
``sns:seq:`` + topic id, written with each publish).  A publish whose
deduplication id (given, or SHA-256 of the message with
ContentBasedDeduplication) was seen in the last 5 minutes is acknowledged with
the original MessageId and SequenceNumber and delivered to no one.  Entries
are kept in memory and in the meta database (``sns:dd:`` + topic id + id).
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field

from storage import keys
from storage.records import DedupEntry, pack_dedup, unpack_dedup
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
    return DEDUP_PREFIX + keys.u64(topic_id) + b":"


@dataclass
class TopicSequence:
    """One FIFO topic's sequence counter and deduplication window."""

    topic_id: int
    next_seq: int = 1
    entries: dict[str, DedupEntry] = field(default_factory=dict)
    expiry: deque[tuple[int, str]] = field(default_factory=deque)

    @classmethod
    def load(cls, store: LmdbStore, topic_id: int, now_ms: int) -> TopicSequence:
        raw = store.get(Db.META, SEQ_PREFIX + keys.u64(topic_id))
        found = cls(topic_id, keys.from_u64(raw) if raw else 1)
        prefix = _prefix(topic_id)
        live = []
        for key, value in store.scan(Db.META, prefix):
            entry = unpack_dedup(value)
            if entry.expires_ms > now_ms:
                dedup_id = key[len(prefix) :].decode()
                found.entries[dedup_id] = entry
                live.append((entry.expires_ms, dedup_id))
        found.expiry = deque(sorted(live))
        return found

    def find(self, dedup_id: str, now_ms: int) -> DedupEntry | None:
        entry = self.entries.get(dedup_id)
        return entry if entry is not None and entry.expires_ms > now_ms else None

    def next(self) -> tuple[str, Write]:
        """The next SequenceNumber and the write that persists the counter."""
        seq = self.next_seq
        self.next_seq += 1
        return str(SEQUENCE_BASE + seq), put(
            Db.META, SEQ_PREFIX + keys.u64(self.topic_id), keys.u64(self.next_seq)
        )

    def record(self, dedup_id: str, message_id: str, sequence_number: str, now_ms: int) -> list[Write]:
        """Remember a publish; return the writes that persist it and drop expired entries."""
        writes: list[Write] = []
        while self.expiry and self.expiry[0][0] <= now_ms:
            expires, old = self.expiry.popleft()
            entry = self.entries.get(old)
            if entry is not None and entry.expires_ms == expires:
                del self.entries[old]
                writes.append(delete(Db.META, _prefix(self.topic_id) + old.encode()))
        entry = DedupEntry(now_ms + DEDUP_WINDOW_MS, message_id, sequence_number)
        self.entries[dedup_id] = entry
        self.expiry.append((entry.expires_ms, dedup_id))
        writes.append(put(Db.META, _prefix(self.topic_id) + dedup_id.encode(), pack_dedup(entry)))
        return writes
