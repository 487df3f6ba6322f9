"""pytest-benchmark micro-benchmarks of the server's hot paths: ``pytest bench/``.

The default test run (``testpaths = ["tests"]``) never collects them.  CI can
keep them from rotting cheaply: ``pytest bench/ --benchmark-disable`` runs each
body once.  Compare numbers within one run on a quiet machine; see
``bench/README.md`` for the figures measured here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from pytest_benchmark.fixture import BenchmarkFixture


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    try:
        import uvloop

        new: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:
        new = asyncio.new_event_loop()
    yield new
    new.close()


def pedantic(benchmark: BenchmarkFixture, target: Callable[[], object], rounds: int) -> None:
    """``benchmark.pedantic`` with one iteration per round (pytest-benchmark leaves it untyped)."""
    benchmark.pedantic(target, rounds=rounds, iterations=1)  # type: ignore[no-untyped-call]
