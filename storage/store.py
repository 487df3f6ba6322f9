"""The LMDB store: one environment per data dir, a few named databases, and a
narrow interface of ``get``/``scan``/``apply``.

Rules: one :class:`LmdbStore` per data dir per process, guarded by an exclusive
``flock`` on ``shoal.lock`` so a second server cannot open the same dir.  Only
the group committer's thread calls :meth:`LmdbStore.apply`; reads may happen on
any thread in short read transactions, and values are copied out before the
transaction ends.  The map starts small (sparse file) and doubles when LMDB
reports it full, so the store grows instead of failing.  With ``sync=True``
every commit is fsync'd; with ``sync=False`` commits reach the OS at once and
the disk at the next :meth:`LmdbStore.flush` (the relaxed mode).
"""

from __future__ import annotations

import enum
import fcntl
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import lmdb

from storage.errors import DataDirLocked, StorageError

INITIAL_MAP_SIZE = 1 << 30
LOCK_FILE = "shoal.lock"


class Db(enum.IntEnum):
    """The named databases."""

    META = 0
    QUEUES = 1
    BODIES = 2
    STATES = 3


class Op(enum.IntEnum):
    """What a :class:`Write` does."""

    PUT = 0
    DELETE = 1
    DELETE_PREFIX = 2


Write = tuple[Op, Db, bytes, bytes]
"""One change ``(op, db, key, value)``; a list of them is applied atomically.
A plain tuple: the write path makes several per message."""

_PUT, _DELETE, _DELETE_PREFIX = Op.PUT, Op.DELETE, Op.DELETE_PREFIX


def put(db: Db, key: bytes, value: bytes) -> Write:
    """Store ``value`` under ``key``."""
    return (_PUT, db, key, value)


def delete(db: Db, key: bytes) -> Write:
    """Remove ``key`` (no error if absent)."""
    return (_DELETE, db, key, b"")


def delete_prefix(db: Db, prefix: bytes) -> Write:
    """Remove every key that starts with ``prefix``."""
    return (_DELETE_PREFIX, db, prefix, b"")


class LmdbStore:
    """An open data dir."""

    def __init__(self, path: Path, *, sync: bool = True, map_size: int = INITIAL_MAP_SIZE) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock_fd = _lock_data_dir(path)
        try:
            self._env = lmdb.open(
                str(path),
                map_size=map_size,
                max_dbs=len(Db) + 4,
                sync=sync,
                metasync=sync,
                writemap=False,
                readahead=False,
                max_readers=256,
            )
        except lmdb.Error as exc:
            os.close(self._lock_fd)
            raise StorageError(f"cannot open LMDB at {path}: {exc}") from exc
        self._env.reader_check()
        self._dbs = [self._env.open_db(db.name.lower().encode()) for db in Db]

    # -- reads (any thread) -------------------------------------------------

    def get(self, db: Db, key: bytes) -> bytes | None:
        """The value under ``key``, or None."""
        with self._env.begin(db=self._dbs[db]) as txn:
            value: bytes | None = txn.get(key)
            return value

    def get_many(self, db: Db, keys: Sequence[bytes]) -> list[bytes | None]:
        """Values of several keys in one read transaction."""
        with self._env.begin(db=self._dbs[db]) as txn:
            return [txn.get(key) for key in keys]

    def scan(
        self, db: Db, prefix: bytes = b"", start: bytes | None = None, chunk_size: int = 4096
    ) -> Iterator[tuple[bytes, bytes]]:
        """Items whose key starts with ``prefix`` (from ``start`` if given), in key order.

        Reads ``chunk_size`` items per short transaction, so a long scan does not
        pin old pages (and a scan that stops early reads little).
        """
        cursor_key = start if start is not None else prefix
        inclusive = True
        while True:
            chunk: list[tuple[bytes, bytes]] = []
            with self._env.begin(db=self._dbs[db]) as txn:
                cursor = txn.cursor()
                if not cursor.set_range(cursor_key):
                    return
                if not inclusive and cursor.key() == cursor_key and not cursor.next():
                    return
                for key, value in cursor:
                    if not key.startswith(prefix):
                        break
                    chunk.append((key, value))
                    if len(chunk) >= chunk_size:
                        break
            yield from chunk
            if len(chunk) < chunk_size:
                return
            cursor_key, inclusive = chunk[-1][0], False

    def last_key(self, db: Db, prefix: bytes) -> bytes | None:
        """The greatest key that starts with ``prefix``, or None."""
        upper = _prefix_successor(prefix)
        with self._env.begin(db=self._dbs[db]) as txn:
            cursor = txn.cursor()
            found = cursor.set_range(upper) if upper is not None else False
            moved = cursor.prev() if found else cursor.last()
            if not moved:
                return None
            key: bytes = cursor.key()
            return key if key.startswith(prefix) else None

    # -- writes (committer thread only) -------------------------------------

    def apply(self, writes: Sequence[Write]) -> None:
        """Apply ``writes`` in one transaction and commit it, growing the map if full."""
        while True:
            try:
                self._apply_once(writes)
                return
            except lmdb.MapFullError:
                self._env.set_mapsize(self._env.info()["map_size"] * 2)

    def _apply_once(self, writes: Sequence[Write]) -> None:
        dbs = self._dbs
        with self._env.begin(write=True) as txn:
            # Puts are gathered per database and written with putmulti (a C loop),
            # flushed before any delete so a delete still sees every earlier put.
            puts: dict[Db, list[tuple[bytes, bytes]]] = {}
            for op, db, key, value in writes:
                if op is Op.PUT:
                    puts.setdefault(db, []).append((key, value))
                    continue
                if puts:
                    _put_all(txn, dbs, puts)
                    puts = {}
                if op is Op.DELETE:
                    txn.delete(key, db=dbs[db])
                else:
                    cursor = txn.cursor(db=dbs[db])
                    if cursor.set_range(key):
                        while cursor.key().startswith(key) and cursor.delete():
                            pass
            if puts:
                _put_all(txn, dbs, puts)

    def flush(self) -> None:
        """Force everything committed so far to disk (for the relaxed mode)."""
        self._env.sync(True)

    def close(self) -> None:
        """Close LMDB and release the data dir lock."""
        self._env.close()
        os.close(self._lock_fd)


def _put_all(
    txn: lmdb.Transaction, dbs: list[lmdb._Database], puts: dict[Db, list[tuple[bytes, bytes]]]
) -> None:
    for db, items in puts.items():
        txn.cursor(db=dbs[db]).putmulti(items)


def _prefix_successor(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _lock_data_dir(path: Path) -> int:
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise DataDirLocked(f"data dir {path} is in use by another process") from exc
    return fd
