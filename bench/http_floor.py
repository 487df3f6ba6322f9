"""The HTTP floor: how many requests a server answers when they do no work at all.

Drives ``GET /_shoal/health`` (a precomputed reply: no codec, no broker, no
commit) from ``--connections`` keep-alive connections, one request in flight
each, exactly as ``shoal bench`` drives SQS actions.  Whatever an SQS action
costs comes on top of this, so it bounds the unbatched scenarios (SendMessage,
FIFO SendMessage) of the same server on the same core.

    python -m bench.http_floor [--endpoint http://127.0.0.1:4566] [--connections 32] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from urllib.parse import urlsplit

import uvloop

from bench.http11 import Connection


def _request(host: str, port: int) -> bytes:
    return f"GET /_shoal/health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


async def run(endpoint: str, connections: int, duration: float, warmup: float) -> tuple[int, float]:
    """(requests answered in the measured window, its seconds)."""
    url = urlsplit(endpoint)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    raw = _request(host, port)
    loop = asyncio.get_running_loop()
    opened = [await loop.create_connection(Connection, host, port) for _ in range(connections)]
    counted = 0
    measuring = False
    stop = loop.time() + warmup + duration

    async def client(connection: Connection) -> None:
        nonlocal counted
        while loop.time() < stop:
            response = await connection.request(raw)
            if response.status != 200:
                raise RuntimeError(f"health answered {response.status}")
            counted += measuring

    tasks = [asyncio.ensure_future(client(protocol)) for _, protocol in opened]
    await asyncio.sleep(warmup)
    measuring, started = True, time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    for transport, _ in opened:
        transport.close()
    return counted, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:4566")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    cpu = time.process_time()
    requests, seconds = uvloop.run(run(args.endpoint, args.connections, args.duration, args.warmup))
    cpu = time.process_time() - cpu
    total = args.duration + args.warmup
    print(
        f"GET /_shoal/health: {requests / seconds:,.0f} requests/s "
        f"({requests:,} in {seconds:.1f} s, {args.connections} connections); "
        f"bench CPU: {cpu / total:.0%} of one core"
    )


if __name__ == "__main__":
    main()
