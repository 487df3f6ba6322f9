"""``python -m bench.http_floor`` against a real server: every answer counted is a 200."""

from __future__ import annotations

import asyncio

from shoal_server import ServerProcess

from bench.http_floor import run


def test_counts_health_requests_in_the_window(server: ServerProcess) -> None:
    requests, seconds = asyncio.run(run(server.endpoint, connections=2, duration=0.3, warmup=0.1))
    assert requests > 0
    assert 0.25 <= seconds < 2.0
