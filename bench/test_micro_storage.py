"""The store and the queue index: append, claim, delete.

``LmdbStore.apply`` runs here with ``sync=False``: the CPU cost of the
transaction, not the disk's fsync (the group-commit benchmarks measure that).
``Queue.claim`` is the broker's in-memory part of a receive: claim up to 10
visible messages, hold them in flight, then delete them from the index.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.conftest import pedantic
from broker.sqs.queue import Queue
from storage import keys
from storage.records import MessageBody, MessageState, QueueRecord, pack_body, pack_state
from storage.store import Db, LmdbStore, Write, delete, put

ROUNDS = 2000
BODY = pack_body(MessageBody("5fea7756-0ea4-451a-a703-a558b933e274", "x" * 100, (), 1, "u", "f" * 32, None))
STATE = pack_state(MessageState(1, 1, 0, 0))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LmdbStore]:
    instance = LmdbStore(tmp_path / "data", sync=False)
    yield instance
    instance.close()


def message_writes(seq: int) -> list[Write]:
    key = keys.message_key(1, seq)
    return [put(Db.BODIES, key, BODY), put(Db.STATES, key, STATE)]


@pytest.mark.parametrize("batch", [1, 10])
def test_append(benchmark: BenchmarkFixture, store: LmdbStore, batch: int) -> None:
    seqs = itertools.count()

    def append() -> None:
        store.apply([w for _ in range(batch) for w in message_writes(next(seqs))])

    benchmark(append)
    assert store.get(Db.BODIES, keys.message_key(1, 0)) == BODY


@pytest.mark.parametrize("batch", [1, 10])
def test_delete(benchmark: BenchmarkFixture, store: LmdbStore, batch: int) -> None:
    total = ROUNDS * batch
    for start in range(0, total, 1000):
        store.apply([w for seq in range(start, min(start + 1000, total)) for w in message_writes(seq)])
    seqs = iter(range(total))

    def remove() -> None:
        store.apply(
            [
                delete(db, keys.message_key(1, seq))
                for seq in itertools.islice(seqs, batch)
                for db in (Db.BODIES, Db.STATES)
            ]
        )

    pedantic(benchmark, remove, ROUNDS)
    assert store.get(Db.BODIES, keys.message_key(1, 0)) is None


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_claim_hold_remove_10(benchmark: BenchmarkFixture, fifo: bool) -> None:
    attributes = {"FifoQueue": "true"} if fifo else {}
    queue = Queue(QueueRecord(1, "000000000000", "q", "us-east-1", 0, 0, attributes, {}))
    for seq in range(ROUNDS * 10):
        queue.add(seq, 0, 0, group=f"g{seq % 100}")

    def receive_and_delete() -> None:
        seqs = queue.claim(10)
        for seq in seqs:
            queue.hold_received(seq, 1, 30_000)
        for seq in seqs:
            queue.remove(seq)

    pedantic(benchmark, receive_and_delete, ROUNDS)
    assert queue.visible_count() < ROUNDS * 10
