"""Storage: the LMDB store, the group committer, and the key encodings.

Store tests take a ``store`` fixture parametrised over every implementation
(only LMDB so far), so a second implementation runs the same bodies.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import lmdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import keys
from storage.committer import GroupCommitter
from storage.errors import DataDirLocked
from storage.store import Db, LmdbStore, Write, delete, delete_prefix, put

U64 = st.integers(min_value=0, max_value=2**64 - 1)


@pytest.fixture(params=["lmdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LmdbStore]:
    instance = LmdbStore(tmp_path / "data")
    yield instance
    instance.close()


# -- LmdbStore -----------------------------------------------------------------


def test_put_then_get(store: LmdbStore) -> None:
    store.apply([put(Db.QUEUES, b"k", b"v")])
    assert store.get(Db.QUEUES, b"k") == b"v"
    assert store.get(Db.QUEUES, b"missing") is None


def test_databases_are_separate(store: LmdbStore) -> None:
    store.apply([put(Db.BODIES, b"k", b"body"), put(Db.STATES, b"k", b"state")])
    assert store.get(Db.BODIES, b"k") == b"body"
    assert store.get(Db.STATES, b"k") == b"state"
    assert store.get(Db.META, b"k") is None


def test_apply_is_in_order_within_one_transaction(store: LmdbStore) -> None:
    store.apply([put(Db.META, b"k", b"1"), put(Db.META, b"k", b"2"), delete(Db.META, b"gone")])
    assert store.get(Db.META, b"k") == b"2"
    store.apply([put(Db.META, b"x", b"1"), delete(Db.META, b"x")])
    assert store.get(Db.META, b"x") is None


def test_delete_of_missing_key_is_no_error(store: LmdbStore) -> None:
    store.apply([delete(Db.META, b"never")])


def test_get_many(store: LmdbStore) -> None:
    store.apply([put(Db.META, b"a", b"1"), put(Db.META, b"c", b"3")])
    assert store.get_many(Db.META, [b"a", b"b", b"c"]) == [b"1", None, b"3"]


def test_scan_prefix_in_key_order(store: LmdbStore) -> None:
    store.apply([put(Db.META, key, key.upper()) for key in (b"b2", b"a1", b"b1", b"c1", b"b3")])
    assert list(store.scan(Db.META, b"b")) == [(b"b1", b"B1"), (b"b2", b"B2"), (b"b3", b"B3")]
    assert [key for key, _ in store.scan(Db.META)] == [b"a1", b"b1", b"b2", b"b3", b"c1"]
    assert list(store.scan(Db.META, b"z")) == []


def test_scan_from_start(store: LmdbStore) -> None:
    store.apply([put(Db.META, f"k{i}".encode(), b"") for i in range(5)])
    assert [key for key, _ in store.scan(Db.META, b"k", start=b"k3")] == [b"k3", b"k4"]


def test_scan_longer_than_one_chunk(store: LmdbStore) -> None:
    count = 10_000
    store.apply([put(Db.STATES, keys.message_key(1, seq), b"") for seq in range(count)])
    store.apply([put(Db.STATES, keys.message_key(2, 0), b"")])
    seqs = [keys.split_message_key(key)[1] for key, _ in store.scan(Db.STATES, keys.queue_prefix(1))]
    assert seqs == list(range(count))


def test_delete_prefix_removes_only_that_prefix(store: LmdbStore) -> None:
    writes = [put(Db.BODIES, keys.message_key(queue, seq), b"x") for queue in (1, 2, 3) for seq in range(50)]
    store.apply(writes)
    store.apply([delete_prefix(Db.BODIES, keys.queue_prefix(2))])
    remaining = {keys.split_message_key(key)[0] for key, _ in store.scan(Db.BODIES)}
    assert remaining == {1, 3}
    assert len(list(store.scan(Db.BODIES))) == 100


def test_delete_prefix_at_end_of_database(store: LmdbStore) -> None:
    store.apply([put(Db.META, b"a", b""), put(Db.META, b"zz1", b""), put(Db.META, b"zz2", b"")])
    store.apply([delete_prefix(Db.META, b"zz"), delete_prefix(Db.META, b"nothing")])
    assert [key for key, _ in store.scan(Db.META)] == [b"a"]


def test_last_key(store: LmdbStore) -> None:
    assert store.last_key(Db.STATES, keys.queue_prefix(1)) is None
    store.apply([put(Db.STATES, keys.message_key(queue, seq), b"") for queue in (1, 2) for seq in (5, 9, 7)])
    assert store.last_key(Db.STATES, keys.queue_prefix(1)) == keys.message_key(1, 9)
    assert store.last_key(Db.STATES, keys.queue_prefix(2)) == keys.message_key(2, 9)
    assert store.last_key(Db.STATES, keys.queue_prefix(3)) is None
    assert store.last_key(Db.STATES, keys.queue_prefix(0)) is None


def test_last_key_with_all_ones_prefix(store: LmdbStore) -> None:
    top = keys.queue_prefix(2**64 - 1)
    store.apply([put(Db.STATES, keys.message_key(1, 1), b""), put(Db.STATES, top + keys.u64(3), b"")])
    assert store.last_key(Db.STATES, top) == top + keys.u64(3)
    assert store.last_key(Db.STATES, b"") == top + keys.u64(3)


def test_map_grows_from_a_tiny_map_size(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "tiny", map_size=64 * 1024)
    try:
        value = b"v" * 4096
        for batch in range(20):
            store.apply([put(Db.BODIES, keys.message_key(1, batch * 10 + i), value) for i in range(10)])
        assert len(list(store.scan(Db.BODIES))) == 200
        assert store.get(Db.BODIES, keys.message_key(1, 199)) == value
    finally:
        store.close()


def test_data_survives_reopen(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "data")
    store.apply([put(Db.META, b"k", b"v")])
    store.close()
    store = LmdbStore(tmp_path / "data")
    try:
        assert store.get(Db.META, b"k") == b"v"
    finally:
        store.close()


def test_data_dir_lock_refuses_a_second_open(tmp_path: Path) -> None:
    first = LmdbStore(tmp_path / "data")
    try:
        with pytest.raises(DataDirLocked):
            LmdbStore(tmp_path / "data")
    finally:
        first.close()
    LmdbStore(tmp_path / "data").close()  # released on close


# -- GroupCommitter ------------------------------------------------------------


class Recorder:
    """Commit observer that records batch sizes."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, size: int, seconds: float) -> None:
        assert seconds >= 0
        self.batches.append(size)


async def started(store: LmdbStore, recorder: Recorder | None = None) -> GroupCommitter:
    committer = GroupCommitter(store, asyncio.get_running_loop(), observer=recorder)
    committer.start()
    return committer


async def test_committer_resolves_future_after_write_is_stored(store: LmdbStore) -> None:
    committer = await started(store)
    await committer.submit([put(Db.META, b"k", b"v")])
    assert store.get(Db.META, b"k") == b"v"
    await committer.close()


async def test_committer_batches_concurrent_submissions(store: LmdbStore) -> None:
    recorder = Recorder()
    committer = await started(store, recorder)
    gate = threading.Event()
    real_apply = store.apply

    def slow_apply(writes: Sequence[Write]) -> None:
        gate.wait(5)
        real_apply(writes)

    store.apply = slow_apply  # type: ignore[method-assign]
    futures = [committer.submit([put(Db.META, b"first", b"")])]
    await asyncio.sleep(0.05)  # the thread is now inside the first commit
    futures += [committer.submit([put(Db.META, f"k{i:03}".encode(), b"")]) for i in range(200)]
    gate.set()
    await asyncio.gather(*futures)
    store.apply = real_apply  # type: ignore[method-assign]
    assert sum(recorder.batches) == 201
    assert len(recorder.batches) <= 3
    assert committer.commits == len(recorder.batches)
    assert len(list(store.scan(Db.META, b"k"))) == 200
    await committer.close()


async def test_committer_applies_in_submission_order(store: LmdbStore) -> None:
    committer = await started(store)
    futures = [committer.submit([put(Db.META, b"k", str(i).encode())]) for i in range(100)]
    await asyncio.gather(*futures)
    assert store.get(Db.META, b"k") == b"99"
    await committer.close()


async def test_committer_observer_is_called_on_the_loop(store: LmdbStore) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    committer = GroupCommitter(
        store,
        asyncio.get_running_loop(),
        observer=lambda size, seconds: threads.append(threading.get_ident()),
    )
    committer.start()
    await committer.submit([put(Db.META, b"k", b"")])
    await asyncio.sleep(0)
    assert threads == [loop_thread]
    await committer.close()


async def test_one_bad_submission_does_not_fail_its_neighbours(store: LmdbStore) -> None:
    committer = await started(store)
    gate = threading.Event()
    real_apply = store.apply

    def gated_apply(writes: Sequence[Write]) -> None:
        gate.wait(5)
        real_apply(writes)

    store.apply = gated_apply  # type: ignore[method-assign]
    blocker = committer.submit([put(Db.META, b"blocker", b"")])
    await asyncio.sleep(0.05)
    good = committer.submit([put(Db.META, b"good", b"")])
    bad = committer.submit([put(Db.META, b"x" * 1000, b"")])  # longer than LMDB's key limit
    after = committer.submit([put(Db.META, b"after", b"")])
    gate.set()
    await blocker
    await good
    with pytest.raises(lmdb.BadValsizeError):
        await bad
    await after
    store.apply = real_apply  # type: ignore[method-assign]
    assert store.get_many(Db.META, [b"good", b"after"]) == [b"", b""]
    await committer.close()


async def test_commit_then_settles_before_the_waiter_resumes(store: LmdbStore) -> None:
    committer = await started(store)
    events: list[str] = []
    await committer.commit_then(
        [put(Db.META, b"k", b"v")], lambda: events.append("settle"), lambda: events.append("abandon")
    )
    events.append("resumed")
    assert events == ["settle", "resumed"]
    assert store.get(Db.META, b"k") == b"v"
    await committer.close()


async def test_commit_then_settles_even_if_the_wait_is_cancelled(store: LmdbStore) -> None:
    committer = await started(store)
    events: list[str] = []

    async def request() -> None:
        await committer.commit_then(
            [put(Db.META, b"k", b"v")], lambda: events.append("settle"), lambda: events.append("abandon")
        )
        events.append("resumed")

    task = asyncio.ensure_future(request())
    await asyncio.sleep(0)  # the request is waiting for its commit
    task.cancel()
    await committer.submit(())  # every earlier write is durable
    await asyncio.sleep(0)
    assert events == ["settle"]
    assert task.cancelled()
    assert store.get(Db.META, b"k") == b"v"
    await committer.close()


async def test_commit_then_abandons_a_failed_commit_and_raises(store: LmdbStore) -> None:
    committer = await started(store)
    events: list[str] = []
    with pytest.raises(lmdb.BadValsizeError):
        await committer.commit_then(
            [put(Db.META, b"x" * 1000, b"")],
            lambda: events.append("settle"),
            lambda: events.append("abandon"),
        )
    assert events == ["abandon"]
    await committer.close()


async def test_a_failing_settle_fails_only_its_own_waiter(store: LmdbStore) -> None:
    committer = await started(store)
    events: list[str] = []

    def broken() -> None:
        raise RuntimeError("index bug")

    first = committer.commit_then([put(Db.META, b"a", b"")], broken, lambda: events.append("abandon"))
    second = committer.commit_then(
        [put(Db.META, b"b", b"")], lambda: events.append("settle"), lambda: events.append("abandon")
    )
    plain = committer.submit([put(Db.META, b"c", b"")])
    with pytest.raises(RuntimeError, match="index bug"):
        await first
    await second
    await plain
    assert events == ["settle"]
    assert store.get_many(Db.META, [b"a", b"b", b"c"]) == [b"", b"", b""]
    await committer.close()


async def test_close_drains_pending_submissions(store: LmdbStore) -> None:
    committer = await started(store)
    futures = [committer.submit([put(Db.META, f"k{i:03}".encode(), b"")]) for i in range(50)]
    await committer.close()
    await asyncio.sleep(0)
    assert all(future.done() and future.exception() is None for future in futures)
    assert len(list(store.scan(Db.META, b"k"))) == 50


async def test_relaxed_mode_flushes_and_commits(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "relaxed", sync=False)
    committer = GroupCommitter(store, asyncio.get_running_loop(), flush_interval=0.01)
    committer.start()
    await committer.submit([put(Db.META, b"k", b"v")])
    await asyncio.sleep(0.03)
    await committer.close()
    store.close()
    reopened = LmdbStore(tmp_path / "relaxed")
    try:
        assert reopened.get(Db.META, b"k") == b"v"
    finally:
        reopened.close()


# -- keys ----------------------------------------------------------------------


@given(U64, U64, U64, U64)
def test_message_key_order_is_pair_order(q1: int, s1: int, q2: int, s2: int) -> None:
    a, b = keys.message_key(q1, s1), keys.message_key(q2, s2)
    assert (a < b) == ((q1, s1) < (q2, s2))
    assert (a == b) == ((q1, s1) == (q2, s2))


@given(U64, U64)
def test_message_key_round_trip(queue_id: int, seq: int) -> None:
    key = keys.message_key(queue_id, seq)
    assert len(key) == keys.MESSAGE_KEY_SIZE
    assert keys.split_message_key(key) == (queue_id, seq)
    assert key.startswith(keys.queue_prefix(queue_id))


@given(U64, U64, U64)
def test_a_queues_keys_are_contiguous(queue_id: int, other: int, seq: int) -> None:
    prefix = keys.queue_prefix(queue_id)
    assert keys.message_key(other, seq).startswith(prefix) == (other == queue_id)


@given(U64, U64)
def test_u64_round_trip_and_order(a: int, b: int) -> None:
    assert keys.from_u64(keys.u64(a)) == a
    assert (keys.u64(a) < keys.u64(b)) == (a < b)


@given(st.integers(min_value=2**64), st.integers(max_value=-1))
def test_u64_rejects_out_of_range(big: int, negative: int) -> None:
    for value in (big, negative):
        with pytest.raises(struct.error):
            keys.u64(value)


NAME = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1, max_size=80
)
ACCOUNT = st.text(alphabet="0123456789", min_size=12, max_size=12)


@given(ACCOUNT, NAME, NAME)
def test_queue_keys_of_an_account_sort_by_name(account: str, a: str, b: str) -> None:
    assert (keys.queue_key(account, a) < keys.queue_key(account, b)) == (a.encode() < b.encode())


@given(ACCOUNT, NAME, NAME)
def test_queue_name_prefix_is_a_key_prefix(account: str, name: str, prefix: str) -> None:
    key_prefix = keys.queue_key(account, prefix)
    assert keys.queue_key(account, name).startswith(key_prefix) == name.startswith(prefix)
