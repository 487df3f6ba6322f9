"""Group commit with 1, 10 and 100 concurrent writers, durable (``sync=True``) in a tmp dir.

Each writer submits one message's writes and awaits its durability, in a
loop; the committer folds whatever is pending into one transaction and one
fsync.  A round is ``WRITES`` submissions in all; ``extra_info`` records the
commits/s and writes/s of the rounds (commits grow much slower than writers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.conftest import pedantic
from storage import keys
from storage.committer import GroupCommitter
from storage.store import Db, LmdbStore, put

WRITES = 600
VALUE = b"x" * 200


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LmdbStore]:
    instance = LmdbStore(tmp_path / "data", sync=True)
    yield instance
    instance.close()


@pytest.mark.parametrize("writers", [1, 10, 100])
def test_group_commit(
    benchmark: BenchmarkFixture, store: LmdbStore, loop: asyncio.AbstractEventLoop, writers: int
) -> None:
    committer = GroupCommitter(store, loop)
    committer.start()
    seqs = iter(range(10**9))
    elapsed = [0.0]

    async def writer(n: int) -> None:
        for _ in range(n):
            await committer.submit([put(Db.BODIES, keys.message_key(1, next(seqs)), VALUE)])

    async def round_() -> None:
        started = time.perf_counter()
        per, extra = divmod(WRITES, writers)
        await asyncio.gather(*(writer(per + (i < extra)) for i in range(writers)))
        elapsed[0] += time.perf_counter() - started

    pedantic(benchmark, lambda: loop.run_until_complete(round_()), 3)
    loop.run_until_complete(committer.close())
    benchmark.extra_info["commits_per_s"] = round(committer.commits / elapsed[0])
    benchmark.extra_info["writes_per_s"] = round(committer.writes / elapsed[0])
    benchmark.extra_info["writes_per_commit"] = round(committer.writes / max(committer.commits, 1), 1)
    assert committer.writes >= WRITES
