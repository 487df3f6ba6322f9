"""Big-endian fixed-width key encodings, so LMDB's byte order is the order we need.

A message key is ``queue id (u64) + sequence (u64)``: every message of a queue
is one contiguous, send-ordered range.  A queue key is ``account + "/" + name``
so that listing a prefix of names is a range scan.
"""

from __future__ import annotations

import struct

_U64 = struct.Struct(">Q")
_U64_PAIR = struct.Struct(">QQ")

MESSAGE_KEY_SIZE = _U64_PAIR.size


def message_key(queue_id: int, seq: int) -> bytes:
    """The key of message ``seq`` of queue ``queue_id``."""
    return _U64_PAIR.pack(queue_id, seq)


def split_message_key(key: bytes) -> tuple[int, int]:
    """Inverse of :func:`message_key`."""
    queue_id, seq = _U64_PAIR.unpack(key)
    return queue_id, seq


def queue_prefix(queue_id: int) -> bytes:
    """The common prefix of every message key of one queue."""
    return _U64.pack(queue_id)


def queue_key(account: str, name: str) -> bytes:
    """The key of a queue's record."""
    return f"{account}/{name}".encode()


def u64(value: int) -> bytes:
    """A u64 as 8 big-endian bytes."""
    return _U64.pack(value)


def from_u64(raw: bytes) -> int:
    """Inverse of :func:`u64`."""
    value: int = _U64.unpack(raw)[0]
    return value
