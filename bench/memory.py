"""Server memory per stored message: ``python -m bench.memory``.

Starts a server (``taskset -c --server-cpu``, fresh data dir, default
durability), then for a standard queue and then a FIFO queue: sends
``--warm`` messages (so code paths and allocator pools exist), reads the
server's ``RssAnon`` (:mod:`bench.procstat`), sends ``--messages`` more with
``SendMessageBatch`` of 10 over ``--connections`` HTTP connections, checks
``ApproximateNumberOfMessages``, reads ``RssAnon`` again and prints the growth
per message.  FIFO batches spread their 10 entries over 10 of ``--groups``
message groups, each with a unique deduplication id.  Bodies are 100 bytes by
default; they live in LMDB's memory-mapped file (``RssFile``, paged by the
OS), so ``RssAnon`` is the broker's own in-memory index.

With ``--restart`` (on by default) it then stops the server, starts it again
on the same data and reports the start-up time (to ``/_shoal/health`` 200)
and ``RssAnon`` with both backlogs rebuilt from disk.

Run it on the other core: ``taskset -c 1 python -m bench.memory``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import orjson

from bench.http11 import connect
from bench.procstat import per_item, sample
from bench.scenarios import message_body
from bench.server import Server
from bench.sqs import Endpoint, Signer, call

BATCH = 10


def batch_entries(index: int, body: str, fifo: bool, groups: int, tag: str) -> list[dict[str, str]]:
    """The 10 entries of batch ``index``; FIFO ones in 10 consecutive groups (mod ``groups``)."""
    entries: list[dict[str, str]] = []
    for i in range(BATCH):
        entry = {"Id": str(i), "MessageBody": body}
        if fifo:
            n = index * BATCH + i
            entry["MessageGroupId"] = f"g{n % groups}"
            entry["MessageDeduplicationId"] = f"{tag}-{n}"
        entries.append(entry)
    return entries


async def fill(
    endpoint: Endpoint,
    signer: Signer,
    url: str,
    count: int,
    *,
    fifo: bool,
    groups: int,
    connections: int,
    size: int,
    tag: str,
) -> float:
    """Send ``count`` messages (rounded up to whole batches); returns msgs/s."""
    body = message_body(size)
    batches = -(-count // BATCH)
    plain = signer.request(
        "SendMessageBatch", {"QueueUrl": url, "Entries": batch_entries(0, body, False, 1, tag)}
    )
    next_batch = 0
    failed = 0

    async def worker() -> None:
        nonlocal next_batch, failed
        conn = await connect(endpoint.host, endpoint.port, endpoint.tls)
        while next_batch < batches:
            index, next_batch = next_batch, next_batch + 1
            raw = (
                signer.request(
                    "SendMessageBatch",
                    {"QueueUrl": url, "Entries": batch_entries(index, body, True, groups, tag)},
                )
                if fifo
                else plain
            )
            result = signer.decode("SendMessageBatch", await conn.request(raw))
            failed += len(result.get("Failed") or ())
        conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    if failed:
        raise RuntimeError(f"{failed} batch entries failed")
    return batches * BATCH / (time.monotonic() - started)


async def depth(endpoint: Endpoint, signer: Signer, url: str) -> int:
    conn = await connect(endpoint.host, endpoint.port, endpoint.tls)
    result = await call(
        conn,
        signer,
        "GetQueueAttributes",
        {"QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages"]},
    )
    conn.close()
    return int(result["Attributes"]["ApproximateNumberOfMessages"])


async def measure_queue(
    server: Server, name: str, args: argparse.Namespace, settle: float = 1.0
) -> dict[str, Any]:
    endpoint = Endpoint.parse(server.endpoint)
    signer = Signer(endpoint, "us-east-1", "test")
    fifo = name.endswith(".fifo")
    conn = await connect(endpoint.host, endpoint.port, endpoint.tls)
    params: dict[str, Any] = {"QueueName": name}
    if fifo:
        params["Attributes"] = {"FifoQueue": "true"}
    url = str((await call(conn, signer, "CreateQueue", params))["QueueUrl"])
    conn.close()
    common = {"fifo": fifo, "groups": args.groups, "connections": args.connections, "size": args.message_size}
    await fill(endpoint, signer, url, args.warm, tag="warm", **common)
    await asyncio.sleep(settle)
    before = sample(server.pid).rss_anon_kb
    rate = await fill(endpoint, signer, url, args.messages, tag="fill", **common)
    await asyncio.sleep(settle)
    after = sample(server.pid).rss_anon_kb
    stored = await depth(endpoint, signer, url)
    filled = stored - args.warm
    return {
        "queue": name,
        "messages": filled,
        "stored": stored,
        "groups": args.groups if fifo else None,
        "fill_msgs_per_s": round(rate),
        "rss_anon_kb_before": before,
        "rss_anon_kb_after": after,
        "bytes_per_message": round(per_item(before, after, filled), 2),
    }


def render(report: dict[str, Any]) -> str:
    lines = [f"server RssAnon at start: {report['rss_anon_kb_empty'] / 1024:.1f} MB"]
    for q in report["queues"]:
        kind = f"FIFO, {q['groups']} groups" if q["groups"] else "standard"
        lines.append(
            f"{q['queue']} ({kind}): {q['messages']:,} messages ({q['fill_msgs_per_s']:,} msgs/s fill),"
            f" RssAnon {q['rss_anon_kb_before'] / 1024:.1f} -> {q['rss_anon_kb_after'] / 1024:.1f} MB:"
            f" {q['bytes_per_message']:.1f} bytes/message"
        )
    restart = report.get("restart")
    if restart:
        lines.append(
            f"restart with both backlogs ({restart['stored']:,} messages): healthy after"
            f" {restart['seconds']:.2f} s, RssAnon {restart['rss_anon_kb'] / 1024:.1f} MB;"
            f" data dir {restart['data_dir_mb']:.0f} MB"
        )
    return "\n".join(lines) + "\n"


def dir_size(path: Path) -> int:
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=500_000, help="per queue (default: %(default)s)")
    p.add_argument("--warm", type=int, default=10_000, help="sent before the first reading")
    p.add_argument("--groups", type=int, default=1000, help="FIFO message groups (default: %(default)s)")
    p.add_argument("--connections", type=int, default=16, help="default: %(default)s")
    p.add_argument("--message-size", type=int, default=100, help="body bytes (default: %(default)s)")
    p.add_argument("--server-cpu", type=int, default=0, help="taskset core of the server")
    p.add_argument("--restart", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--data-dir", type=Path, help="default: a temporary directory, removed after")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.messages <= 0 or args.warm < 0 or args.groups < BATCH or args.connections <= 0:
        print("memory: --messages > 0, --warm >= 0, --groups >= 10, --connections > 0", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="shoal-memory-") as tmp:
        data = args.data_dir or Path(tmp) / "data"
        server = Server(data, cpu=args.server_cpu)
        server.start()
        report: dict[str, Any] = {"rss_anon_kb_empty": sample(server.pid).rss_anon_kb, "queues": []}
        try:
            for name in ("shoal-memory-standard", "shoal-memory.fifo"):
                report["queues"].append(_run(measure_queue(server, name, args)))
            if args.restart:
                server.stop()
                seconds = server.start()
                time.sleep(1.0)
                report["restart"] = {
                    "seconds": round(seconds, 3),
                    "stored": sum(q["stored"] for q in report["queues"]),
                    "rss_anon_kb": sample(server.pid).rss_anon_kb,
                    "data_dir_mb": dir_size(data) / 2**20,
                }
        finally:
            server.stop()
    if args.json:
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        sys.stdout.write(render(report))
    return 0


def _run(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


if __name__ == "__main__":
    sys.exit(main())
