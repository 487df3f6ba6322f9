"""The 5-minute deduplication window of FIFO queues and FIFO topics.

A send (or publish) whose deduplication id was seen within the window is
answered with the original MessageId and SequenceNumber and not enqueued.
The window lives in LMDB, not in memory: at thousands of FIFO sends per
second it holds millions of ids, which would cost hundreds of bytes each as
Python objects.  Two key families under the owner's prefix in the meta
database:

* ``prefix + b"i:" + scope key`` -> the :class:`~storage.records.DedupEntry`
  (looked up by a point read on every FIFO send);
* ``prefix + b"x:" + expiry (u64) + scope key`` -> empty, so expired ids are
  found by a range scan from the front and deleted, a bounded batch at a time,
  along with the writes of a later send (at most once a second).

Entries recorded but not yet committed are also kept in ``_pending`` so a
duplicate arriving before the original's commit is still caught; the caller
reports commits with :meth:`DedupWindow.committed`, which releases them in
token order (a deque, so a commit costs what it releases, not the whole
pending set).  Restarts need no rebuild.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from storage import keys
from storage.records import DedupEntry, pack_dedup, unpack_dedup
from storage.store import Db, LmdbStore, Write, delete, delete_prefix, put

WINDOW_MS = 5 * 60 * 1000
EXPIRE_EVERY_MS = 1000
EXPIRE_BATCH = 1000


class DedupWindow:
    """The deduplication ids one queue or topic has seen in the last 5 minutes."""

    def __init__(self, prefix: bytes) -> None:
        self._ids = prefix + b"i:"
        self._expiry = prefix + b"x:"
        self._pending: dict[str, tuple[int, DedupEntry]] = {}
        self._order: deque[tuple[int, str]] = deque()  # (token, scope key), tokens ascending
        self._token = 0
        self._last_expire_ms = 0

    def find(self, store: LmdbStore, scope_key: str, now_ms: int) -> DedupEntry | None:
        """The live entry for ``scope_key``, if any."""
        pending = self._pending.get(scope_key)
        if pending is not None:
            entry: DedupEntry | None = pending[1]
        else:
            raw = store.get(Db.META, self._ids + scope_key.encode())
            entry = unpack_dedup(raw) if raw is not None else None
        return entry if entry is not None and entry.expires_ms > now_ms else None

    def record(
        self, store: LmdbStore, scope_key: str, message_id: str, sequence_number: str, now_ms: int
    ) -> tuple[list[Write], int]:
        """Remember a send: the writes that persist it (and expire old ids), and a token for
        :meth:`committed`."""
        entry = DedupEntry(now_ms + WINDOW_MS, message_id, sequence_number)
        self._token += 1
        self._pending[scope_key] = (self._token, entry)
        self._order.append((self._token, scope_key))
        writes: list[Write] = []
        if now_ms - self._last_expire_ms >= EXPIRE_EVERY_MS:
            self._last_expire_ms = now_ms
            writes += self.expire(store, now_ms)  # before the puts: an id re-used now must survive
        encoded = scope_key.encode()
        writes += (
            put(Db.META, self._ids + encoded, pack_dedup(entry)),
            put(Db.META, self._expiry + keys.u64(entry.expires_ms) + encoded, b""),
        )
        return writes, self._token

    def committed(self, token: int) -> None:
        """Every entry recorded up to ``token`` is durable: stop holding it in memory."""
        order, pending = self._order, self._pending
        while order and order[0][0] <= token:
            held_token, key = order.popleft()
            held = pending.get(key)
            if held is not None and held[0] == held_token:  # not recorded again since
                del pending[key]

    def abandon(self, tokens: Sequence[int]) -> None:
        """The entries recorded under ``tokens`` were never committed: forget them, so a
        retry of the failed send is not answered as a duplicate of nothing."""
        dropped = set(tokens)
        self._pending = {key: held for key, held in self._pending.items() if held[0] not in dropped}

    def expire(self, store: LmdbStore, now_ms: int) -> list[Write]:
        """Writes deleting up to a batch of expired ids (oldest first)."""
        writes: list[Write] = []
        start = len(self._expiry)
        for key, _ in store.scan(Db.META, self._expiry):
            expires = keys.from_u64(key[start : start + 8])
            if expires > now_ms or len(writes) >= 2 * EXPIRE_BATCH:
                break
            writes.append(delete(Db.META, key))
            scope = key[start + 8 :]
            if scope.decode() in self._pending:
                continue  # re-used since, and its new entry is not committed yet
            id_key = self._ids + scope
            raw = store.get(Db.META, id_key)
            if raw is not None and unpack_dedup(raw).expires_ms == expires:  # not re-used since
                writes.append(delete(Db.META, id_key))
        return writes

    def drop_all(self) -> list[Write]:
        """The writes that forget every id (the queue or topic is deleted)."""
        self._pending.clear()
        self._order.clear()
        return [delete_prefix(Db.META, self._ids), delete_prefix(Db.META, self._expiry)]
