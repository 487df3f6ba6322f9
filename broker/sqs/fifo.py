"""FIFO specifics: id rules, sequence numbers, the deduplication window and the
receive-attempt cache.

* Deduplication: a send whose deduplication id (given, or SHA-256 of the body
  with ContentBasedDeduplication) was seen within the last 5 minutes is
  acknowledged with the original MessageId and SequenceNumber and not enqueued.
  The scope is the queue or, with ``DeduplicationScope=messageGroup``, the
  group.  The window itself is :class:`broker.dedup.DedupWindow` (in LMDB,
  under ``dd:`` + queue id), so a restart keeps it.
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
from dataclasses import dataclass, field

from broker.errors import InvalidParameterValue

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
