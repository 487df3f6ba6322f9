"""What many connections cost the server: ``python -m bench.connections``.

Three phases against one server, each measured from outside through
``/proc/PID`` (:mod:`bench.procstat`): server CPU over ``--window`` seconds
(``utime + stime``, as a share of one core) and its anonymous RSS.

1. **baseline**: no client connections.
2. **idle**: ``--connections`` keep-alive HTTP connections, each having made
   one request (``GET /_shoal/health``, so the server has parsed a request on
   it), then silent.  They are closed after the phase.
3. **long polls**: ``--connections`` connections each looping on
   ``ReceiveMessage`` (``WaitTimeSeconds=20``, one message) on an empty queue.
   After the CPU window, ``--probes`` messages are sent one after another from
   another connection; each probe's latency is from writing its
   ``SendMessage`` to a long poll returning it (the poller then deletes it and
   polls again).  The window plus the probes must fit in the 20 s of the first
   polls, so every poll is still waiting: ``--window`` is at most 15.

By default the script starts its own server (``taskset -c --server-cpu``, a
fresh data dir, default durability); ``--endpoint URL --pid PID`` measures a
running one instead.  Run the script itself on another core
(``taskset -c 1 python -m bench.connections``).  It raises its own open-file
limit to the hard limit.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.http11 import Connection, connect
from bench.procstat import Sample, sample, share_between
from bench.server import Server
from bench.sqs import Endpoint, Signer, call, decode

QUEUE = "shoal-connections-bench"
OPEN_AT_ONCE = 100


@dataclass(slots=True)
class Phase:
    name: str
    cpu_share: float
    rss_anon_kb_before: int
    rss_anon_kb_after: int
    details: dict[str, Any] = field(default_factory=dict)


def raise_nofile(wanted: int) -> int:
    """Raise the soft open-file limit towards ``wanted`` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


async def open_many(endpoint: Endpoint, count: int) -> list[Connection]:
    conns: list[Connection] = []
    for start in range(0, count, OPEN_AT_ONCE):
        batch = min(OPEN_AT_ONCE, count - start)
        conns += await asyncio.gather(
            *(connect(endpoint.host, endpoint.port, endpoint.tls) for _ in range(batch))
        )
    return conns


async def window(pid: int, seconds: float) -> tuple[Sample, Sample]:
    first = sample(pid)
    await asyncio.sleep(seconds)
    return first, sample(pid)


def phase(name: str, samples: tuple[Sample, Sample], **details: Any) -> Phase:
    first, second = samples
    return Phase(name, share_between(first, second), first.rss_anon_kb, second.rss_anon_kb, details)


async def idle_phase(endpoint: Endpoint, pid: int, count: int, seconds: float) -> Phase:
    conns = await open_many(endpoint, count)
    health = f"GET /_shoal/health HTTP/1.1\r\nHost: {endpoint.host_header}\r\n\r\n".encode()
    answers = await asyncio.gather(*(conn.request(health) for conn in conns))
    ok = sum(answer.status == 200 for answer in answers)
    await asyncio.sleep(1.0)
    result = phase("idle", await window(pid, seconds), connections=count, answered_200=ok)
    for conn in conns:
        conn.close()
    return result


class Pollers:
    """``count`` connections long-polling one queue; a received message is deleted and reported."""

    def __init__(self, signer: Signer, url: str) -> None:
        self.signer = signer
        self.url = url
        self.receive = signer.request(
            "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 20, "MaxNumberOfMessages": 1}
        )
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.answers = 0
        self.empty = 0
        self.errors = 0
        self.stopping = False

    async def loop(self, conn: Connection) -> None:
        while not self.stopping and not conn.closed:
            try:
                response = await conn.request(self.receive)
                result = decode(response)
            except Exception:
                self.errors += 1
                return
            now = time.perf_counter()
            self.answers += 1
            messages = result.get("Messages") or []
            if not messages:
                self.empty += 1
            for message in messages:
                body = str(message["Body"])
                self.arrived[body] = now
                waiter = self.waiters.pop(body, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)
                await call(
                    conn,
                    self.signer,
                    "DeleteMessage",
                    {"QueueUrl": self.url, "ReceiptHandle": message["ReceiptHandle"]},
                )


async def long_poll_phase(
    endpoint: Endpoint, signer: Signer, pid: int, count: int, seconds: float, probes: int
) -> Phase:
    control = await connect(endpoint.host, endpoint.port, endpoint.tls)
    url = str((await call(control, signer, "CreateQueue", {"QueueName": QUEUE}))["QueueUrl"])
    await call(control, signer, "PurgeQueue", {"QueueUrl": url})
    pollers = Pollers(signer, url)
    before = sample(pid)
    conns = await open_many(endpoint, count)
    tasks = [asyncio.ensure_future(pollers.loop(conn)) for conn in conns]
    started = time.perf_counter()
    await asyncio.sleep(2.0)  # every poll written and parked in the server
    samples = await window(pid, seconds)
    answers_in_window = pollers.answers
    latencies: list[float] = []
    send_latencies: list[float] = []
    loop = asyncio.get_running_loop()
    for i in range(probes):
        body = f"probe-{i}-{time.time_ns()}"
        waiter: asyncio.Future[float] = loop.create_future()
        pollers.waiters[body] = waiter
        sent = time.perf_counter()
        await call(control, signer, "SendMessage", {"QueueUrl": url, "MessageBody": body})
        send_latencies.append((time.perf_counter() - sent) * 1000)
        try:
            arrived = await asyncio.wait_for(waiter, 5.0)
        except TimeoutError:
            latencies.append(float("inf"))
            continue
        latencies.append((arrived - sent) * 1000)
        await asyncio.sleep(0.1)
    probes_done = time.perf_counter() - started
    after = sample(pid)
    pollers.stopping = True
    for task in tasks:
        task.cancel()
    for conn in conns:
        conn.close()
    control.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    result = phase(
        "long polls",
        samples,
        connections=count,
        answers_before_probes=answers_in_window,
        empty_answers=pollers.empty,
        errors=pollers.errors,
        probe_latency_ms=[round(ms, 2) for ms in latencies],
        send_latency_ms=[round(ms, 2) for ms in send_latencies],
        probes_finished_after_s=round(probes_done, 2),
    )
    result.rss_anon_kb_before = before.rss_anon_kb
    result.details["rss_anon_kb_after_probes"] = after.rss_anon_kb
    return result


async def measure(endpoint_url: str, pid: int, count: int, seconds: float, probes: int) -> list[Phase]:
    endpoint = Endpoint.parse(endpoint_url)
    signer = Signer(endpoint, "us-east-1", "test")
    phases = [phase("baseline", await window(pid, seconds))]
    phases.append(await idle_phase(endpoint, pid, count, seconds))
    await asyncio.sleep(2.0)
    phases.append(await long_poll_phase(endpoint, signer, pid, count, seconds, probes))
    return phases


def render(phases: Sequence[Phase]) -> str:
    lines = [f"{'phase':12} {'server CPU':>11} {'RssAnon before':>15} {'RssAnon after':>14}  details"]
    for p in phases:
        details = " ".join(f"{key}={value}" for key, value in p.details.items())
        lines.append(
            f"{p.name:12} {p.cpu_share * 100:10.2f}% {p.rss_anon_kb_before / 1024:12.1f} MB"
            f" {p.rss_anon_kb_after / 1024:11.1f} MB  {details}"
        )
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.connections", description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=1000, help="default: %(default)s")
    p.add_argument("--window", type=float, default=10.0, help="CPU sampling seconds (max 15)")
    p.add_argument("--probes", type=int, default=10, help="messages sent during the long polls")
    p.add_argument("--endpoint", help="a running server (needs --pid); default: start one")
    p.add_argument("--pid", type=int, help="the running server's pid, for /proc")
    p.add_argument("--server-cpu", type=int, default=0, help="taskset core of a started server")
    p.add_argument("--json", action="store_true", help="print the phases as one JSON object")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.window <= 0 or args.window > 15 or args.connections <= 0:
        print("connections: --window must be in (0, 15] and --connections > 0", file=sys.stderr)
        return 2
    if (args.endpoint is None) != (args.pid is None):
        print("connections: give both --endpoint and --pid, or neither", file=sys.stderr)
        return 2
    limit = raise_nofile(2 * args.connections + 100)
    if limit < args.connections + 50:
        print(f"connections: open-file limit {limit} is too low", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="shoal-connections-") as tmp:
        server: Server | None = None
        if args.endpoint is None:
            server = Server(Path(tmp) / "data", cpu=args.server_cpu)
            server.start()
            endpoint, pid = server.endpoint, server.pid
        else:
            endpoint, pid = args.endpoint, args.pid
        try:
            phases = _run(measure(endpoint, pid, args.connections, args.window, args.probes))
        finally:
            if server is not None:
                server.stop()
    if args.json:
        sys.stdout.write(orjson.dumps({"phases": [asdict(p) for p in phases]}).decode() + "\n")
    else:
        sys.stdout.write(render(phases))
    return 0


def _run(coro: Coroutine[Any, Any, list[Phase]]) -> list[Phase]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


if __name__ == "__main__":
    sys.exit(main())
