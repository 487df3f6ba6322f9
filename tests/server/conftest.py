"""Fixtures of the server tests (the fakes live in ``server_fakes``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from server_fakes import Wire


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture
def wire(loop: asyncio.AbstractEventLoop) -> Wire:
    return Wire(loop)
