"""The LMDB-backed deduplication window (broker/dedup.py): ids found while
pending and after commit, gone after 5 minutes, their keys swept, and no
per-id memory once committed."""

from __future__ import annotations

from pathlib import Path

from broker.dedup import WINDOW_MS, DedupWindow
from storage.store import Db, LmdbStore

T0 = 1_700_000_000_000


def test_an_id_is_found_before_and_after_its_commit_and_expires(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path)
    try:
        window = DedupWindow(b"dd:q1")
        writes, token = window.record(store, "a", "m-1", "100", T0)
        assert window.find(store, "a", T0 + 1).message_id == "m-1"  # pending, not yet durable
        store.apply(writes)
        window.committed(token)
        assert window._pending == {}  # nothing held in memory once durable
        assert window.find(store, "a", T0 + WINDOW_MS - 1).sequence_number == "100"
        assert window.find(store, "a", T0 + WINDOW_MS) is None
        assert window.find(store, "b", T0) is None
    finally:
        store.close()


def test_expired_ids_are_swept_but_a_reused_id_survives(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path)
    try:
        window = DedupWindow(b"dd:q1")
        for index, key in enumerate(["old", "again"]):
            writes, token = window.record(store, key, f"m-{index}", str(index), T0)
            store.apply(writes)
            window.committed(token)
        later = T0 + WINDOW_MS + 1
        writes, _ = window.record(store, "again", "m-new", "9", later)  # re-used after expiry
        store.apply(writes)
        swept = window.expire(store, later)
        store.apply(swept)
        remaining = [key for key, _ in store.scan(Db.META, b"dd:q1")]
        assert remaining == [b"dd:q1i:again", b"dd:q1x:" + (later + WINDOW_MS).to_bytes(8, "big") + b"again"]
        assert window.find(store, "again", later).message_id == "m-new"
    finally:
        store.close()


def test_windows_of_two_owners_do_not_mix(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path)
    try:
        first, second = DedupWindow(b"dd:q1"), DedupWindow(b"dd:q2")
        writes, _ = first.record(store, "a", "m-1", "1", T0)
        store.apply(writes)
        assert second.find(store, "a", T0) is None
        store.apply(first.drop_all())
        assert first.find(store, "a", T0) is None
    finally:
        store.close()
