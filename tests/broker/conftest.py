"""Broker tests: the real broker over a real LMDB in a temp dir, with a manual clock; no HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqs_client import Restart, Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker, BrokerConfig


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ctx() -> RequestContext:
    return RequestContext(host="localhost:4566", request_id="test")


@pytest.fixture
def open_broker(tmp_path: Path, clock: ManualClock) -> Callable[[], Broker]:
    def make() -> Broker:
        return Broker(BrokerConfig(data_dir=tmp_path / "data"), clock=clock)

    return make


@pytest.fixture
async def broker(open_broker: Callable[[], Broker]) -> AsyncIterator[Broker]:
    instance = open_broker()
    await instance.start()
    yield instance
    await instance.close()


@pytest.fixture
def sqs(broker: Broker, ctx: RequestContext) -> Sqs:
    return Sqs(broker, ctx)


@pytest.fixture
async def restartable(
    open_broker: Callable[[], Broker], ctx: RequestContext
) -> AsyncIterator[tuple[Sqs, Restart]]:
    """An Sqs client and a function that closes its broker and returns a client of a fresh one."""
    current = open_broker()
    await current.start()

    async def restart() -> Sqs:
        nonlocal current
        await current.close()
        current = open_broker()
        await current.start()
        return Sqs(current, ctx)

    yield Sqs(current, ctx), restart
    await current.close()
