"""The rules every SQS batch action shares: 1 to 10 entries, distinct valid ids,
and per-entry failures reported instead of failing the whole call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from broker.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    ShoalError,
    TooManyEntriesInBatchRequest,
)
from broker.sqs.api import BatchResultErrorEntry

MAX_ENTRIES = 10
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


class _Entry(Protocol):
    @property
    def id(self) -> str: ...


def check_entries(entries: Sequence[_Entry] | None, entry_shape: str) -> Sequence[_Entry]:
    """Validate a batch's size and ids; return the entries."""
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {entry_shape} in the request.")
    if len(entries) > MAX_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_ENTRIES}. You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        if not _ENTRY_ID.match(entry.id):
            raise InvalidBatchEntryId()
        if entry.id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry.id} repeated.")
        seen.add(entry.id)
    return entries


def failure(entry_id: str, error: ShoalError) -> BatchResultErrorEntry:
    """A per-entry failure, as AWS reports it."""
    return BatchResultErrorEntry(
        id=entry_id, sender_fault=error.sender_fault, code=error.code, message=error.message
    )
