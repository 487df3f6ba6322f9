"""FIFO specifics: id rules, sequence numbers, the deduplication window and the
receive-attempt cache.

* Deduplication: a send whose deduplication id (given, or SHA-256 of the body
  with ContentBasedDeduplication) was seen within the last 5 minutes is
  acknowledged with the original MessageId and SequenceNumber and not enqueued.
  The scope is the queue or, with ``DeduplicationScope=messageGroup``, the
  group.  Entries are kept in memory and in LMDB (meta database, key
  ``dd:`` + queue id + scope key), so a restart keeps the window.
* SequenceNumber: 20 decimal digits derived from the queue's message seq, so
  strictly increasing per queue and stable across restarts.
* ReceiveRequestAttemptId: a retried receive with the same id within 5 minutes
  gets the same messages (and receipt handles) while none of them was modified
  (deleted, visibility changed or timed out), and resets their visibility
  timeout, as AWS documents; otherwise the retry is a new receive.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass, field

from broker.errors import InvalidParameterValue
from storage import keys
from storage.records import DedupEntry, pack_dedup, unpack_dedup
from storage.store import Db, LmdbStore, Write, delete, delete_prefix, put

DEDUP_WINDOW_MS = 5 * 60 * 1000
ATTEMPT_WINDOW_MS = 5 * 60 * 1000
SEQUENCE_BASE = 10**19
_ID = re.compile(r"^[!-~]{1,128}$")  # alphanumerics and punctuation, 1 to 128
DEDUP_PREFIX = b"dd:"


def check_id(name: str, value: str) -> None:
    """AWS's rule for MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId."""
    if not _ID.match(value):
        raise InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. Reason: {name} can only include alphanumeric "
            "and punctuation characters. 1 to 128 in length."
        )


def sequence_number(seq: int) -> str:
    """The SequenceNumber of message ``seq``."""
    return str(SEQUENCE_BASE + seq)


def content_dedup_id(body: str) -> str:
    """The deduplication id ContentBasedDeduplication derives from a body."""
    return hashlib.sha256(body.encode()).hexdigest()


def _dedup_prefix(queue_id: int) -> bytes:
    return DEDUP_PREFIX + keys.u64(queue_id)


@dataclass
class DedupWindow:
    """One queue's deduplication ids seen in the last 5 minutes."""

    queue_id: int
    entries: dict[str, DedupEntry] = field(default_factory=dict)
    expiry: deque[tuple[int, str]] = field(default_factory=deque)

    def load(self, store: LmdbStore, now_ms: int) -> None:
        """Rebuild from the store, skipping expired entries."""
        prefix = _dedup_prefix(self.queue_id)
        for key, raw in store.scan(Db.META, prefix):
            entry = unpack_dedup(raw)
            if entry.expires_ms > now_ms:
                scope_key = key[len(prefix) :].decode()
                self.entries[scope_key] = entry
                self.expiry.append((entry.expires_ms, scope_key))
        self.expiry = deque(sorted(self.expiry))

    def find(self, scope_key: str, now_ms: int) -> DedupEntry | None:
        """The live entry for ``scope_key``, if any."""
        entry = self.entries.get(scope_key)
        return entry if entry is not None and entry.expires_ms > now_ms else None

    def record(self, scope_key: str, entry: DedupEntry, now_ms: int) -> list[Write]:
        """Remember a send; return the writes that persist it and drop expired entries."""
        writes = self._expire(now_ms)
        self.entries[scope_key] = entry
        self.expiry.append((entry.expires_ms, scope_key))
        writes.append(put(Db.META, self._key(scope_key), pack_dedup(entry)))
        return writes

    def drop_all(self) -> Write:
        """The write that forgets every entry (the queue is deleted)."""
        return delete_prefix(Db.META, _dedup_prefix(self.queue_id))

    def _expire(self, now_ms: int) -> list[Write]:
        writes: list[Write] = []
        while self.expiry and self.expiry[0][0] <= now_ms:
            expires, scope_key = self.expiry.popleft()
            entry = self.entries.get(scope_key)
            if entry is not None and entry.expires_ms == expires:
                del self.entries[scope_key]
                writes.append(delete(Db.META, self._key(scope_key)))
        return writes

    def _key(self, scope_key: str) -> bytes:
        return _dedup_prefix(self.queue_id) + scope_key.encode()


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one ReceiveRequestAttemptId received."""

    expires_ms: int
    receipts: tuple[tuple[int, int, int], ...]
    """(seq, receive count, visibility deadline) of each message it got."""


@dataclass
class AttemptCache:
    """Recent receive attempts of one FIFO queue (kept in memory only)."""

    attempts: dict[str, Attempt] = field(default_factory=dict)

    def find(self, attempt_id: str, now_ms: int) -> Attempt | None:
        attempt = self.attempts.get(attempt_id)
        if attempt is not None and attempt.expires_ms <= now_ms:
            del self.attempts[attempt_id]
            return None
        return attempt

    def record(self, attempt_id: str, receipts: list[tuple[int, int, int]], now_ms: int) -> None:
        if len(self.attempts) > 10_000:
            self.attempts = {key: value for key, value in self.attempts.items() if value.expires_ms > now_ms}
        self.attempts[attempt_id] = Attempt(now_ms + ATTEMPT_WINDOW_MS, tuple(receipts))

    def renew(self, attempt_id: str, receipts: list[tuple[int, int, int]]) -> None:
        """A retry reset the deadlines; the id still expires 5 minutes after its first receive."""
        attempt = self.attempts.get(attempt_id)
        if attempt is not None:
            self.attempts[attempt_id] = Attempt(attempt.expires_ms, tuple(receipts))
