"""What one message costs the broker on one core, with and without a protocol edge.

Runs the broker in process (real LMDB in a temp dir, group commit, no
sockets) and drives SendMessageBatch and ReceiveMessage + DeleteMessageBatch
(10 messages a request) from ``--concurrency`` coroutines, three ways:

* ``broker``: typed requests straight into ``Broker.dispatch``: the floor any
  protocol pays, since every front door calls the same broker code;
* ``binary edge``: msgpack-shaped params through the binary protocol's
  application edge (bind to the typed request, dispatch, render, pack the
  frame), which is everything a binary request costs except the socket;
* ``HTTP JSON edge``: AWS JSON 1.0 request bytes, as an SDK sends them, into
  the server's own :class:`HttpConnection` and :class:`HttpApp` (HTTP parse,
  route, decode, dispatch, encode, render), on a transport that hands the
  reply straight back: everything but the socket's syscalls.

The receive + delete rows include the client's share of each path (reading
the answer, building the delete), which the two edges pay alike.  The ratio
of the edges' rows is the most a faster wire protocol can gain over HTTP on
this broker.

For each it prints wall msgs/s and CPU µs per message (process time, so the
committer thread's LMDB work and the kernel's share of each fsync count
too).  ``1e6 / µs`` is the most one core can do for that path; run it pinned
(``taskset -c 0``) and compare rows of one run, not runs on a noisy machine.

    python -m bench.broker_cost [--messages 100000] [--concurrency 32] [--relaxed]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, cast

import msgpack
import orjson
import uvloop

from bench.sqs import Endpoint, Signer
from broker.binary_server import BinaryApp
from broker.connections import ConnectionPool
from broker.context import RequestContext
from broker.core import Broker, BrokerConfig
from broker.http_app import HttpApp
from broker.http_connection import HttpConnection, HttpLimits
from broker.metrics import Metrics
from broker.sqs import api
from protocol import router
from protocol.binary_frames import Request

BATCH = 10
ACCOUNT = "000000000000"
HOST = "localhost:4566"


class _Driver:
    """Sends and receives batches of ten through one path: typed dispatch, binary edge or HTTP edge."""

    def __init__(self, broker: Broker, url: str, edge: BinaryApp | HttpApp | None) -> None:
        self.broker = broker
        self.url = url
        self.edge = edge
        self.ctx = RequestContext(account_id=ACCOUNT, request_id="bench")
        body = "x" * 100
        self._send_typed = api.SendMessageBatch(
            queue_url=url,
            entries=[api.SendMessageBatchRequestEntry(id=str(i), message_body=body) for i in range(BATCH)],
        )
        self._send_params = {
            "QueueUrl": url,
            "Entries": [{"Id": str(i), "MessageBody": body} for i in range(BATCH)],
        }
        self._signer = Signer(Endpoint.parse(f"http://{HOST}"), "us-east-1", "test")
        self._send_http = self._signer.request("SendMessageBatch", self._send_params)
        self._receive_http = self._signer.request(
            "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": BATCH}
        )
        self._lines: list[_Loopback] = []

    async def send(self) -> None:
        if self.edge is None:
            await self.broker.dispatch("sqs", self._send_typed, self.ctx)
        elif isinstance(self.edge, HttpApp):
            await self._http(self._send_http)
        else:
            await self.edge.handle(Request(1, "sqs", "SendMessageBatch", self._send_params), self.ctx)

    async def receive_delete(self) -> int:
        """One receive of up to ten and the delete of what came; the number received."""
        if self.edge is None:
            got = await self.broker.dispatch(
                "sqs", api.ReceiveMessage(queue_url=self.url, max_number_of_messages=BATCH), self.ctx
            )
            assert isinstance(got, api.ReceiveMessageResult)
            messages = got.messages or []
            if messages:
                entries = [
                    api.DeleteMessageBatchRequestEntry(id=str(i), receipt_handle=m.receipt_handle or "")
                    for i, m in enumerate(messages)
                ]
                await self.broker.dispatch(
                    "sqs", api.DeleteMessageBatch(queue_url=self.url, entries=entries), self.ctx
                )
            return len(messages)
        if isinstance(self.edge, HttpApp):
            result = await self._http(self._receive_http)
        else:
            params = {"QueueUrl": self.url, "MaxNumberOfMessages": BATCH}
            frame = await self.edge.handle(Request(2, "sqs", "ReceiveMessage", params), self.ctx)
            result = msgpack.unpackb(frame[4:])[2]
        handles = [m["ReceiptHandle"] for m in result.get("Messages", [])]
        if handles:
            delete = {
                "QueueUrl": self.url,
                "Entries": [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)],
            }
            if isinstance(self.edge, HttpApp):
                await self._http(self._signer.request("DeleteMessageBatch", delete))
            else:
                await self.edge.handle(Request(3, "sqs", "DeleteMessageBatch", delete), self.ctx)
        return len(handles)

    async def _http(self, raw: bytes) -> dict[str, Any]:
        """One request through a keep-alive connection of the HTTP edge; its JSON answer."""
        assert isinstance(self.edge, HttpApp)
        line = self._lines.pop() if self._lines else _Loopback(self.edge)
        try:
            head, _, body = (await line.exchange(raw)).partition(b"\r\n\r\n")
        finally:
            self._lines.append(line)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"HTTP edge answered {head[:40]!r}: {body[:200]!r}")
        answer: dict[str, Any] = orjson.loads(body)
        return answer

    async def send_all(self, rounds: int, concurrency: int) -> int:
        """``rounds`` batches from each of ``concurrency`` senders; the messages sent."""

        async def sender() -> None:
            for _ in range(rounds):
                await self.send()

        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return rounds * concurrency * BATCH

    async def receive_all(self, concurrency: int) -> int:
        """Receive and delete until the queue is empty; the messages received."""

        async def receiver() -> int:
            total = 0
            while got := await self.receive_delete():
                total += got
            return total

        return sum(await asyncio.gather(*(receiver() for _ in range(concurrency))))


class _Loopback:
    """One server-side HTTP connection (the real :class:`HttpConnection`) on a transport
    that hands each written reply to the request waiting for it: no socket, no syscall."""

    def __init__(self, app: HttpApp) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._reply: asyncio.Future[bytes] | None = None
        self._conn = HttpConnection(app, ConnectionPool(loop.time()), HttpLimits(), loop)
        self._conn.connection_made(cast(asyncio.Transport, self))

    async def exchange(self, raw: bytes) -> bytes:
        self._reply = self._loop.create_future()
        self._conn.data_received(raw)
        return await self._reply

    # -- the transport the connection writes to ------------------------------

    def write(self, data: bytes) -> None:
        assert self._reply is not None
        self._reply.set_result(data)

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


async def _timed(label: str, work: Awaitable[int]) -> int:
    """Await ``work`` (not started yet: a coroutine runs only when awaited), report it,
    and return the messages it moved."""
    wall, cpu = time.perf_counter(), time.process_time()
    done = await work
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_message = cpu / max(done, 1) * 1e6
    print(
        f"{label:38s} {done / wall:>9,.0f} msgs/s   {per_message:6.1f} µs CPU/msg"
        f"   (one core: at most {1e6 / per_message:,.0f} msgs/s)"
    )
    return done


async def run(messages: int, concurrency: int, sync: bool) -> dict[str, int]:
    """Measure and print every path and direction; return the messages each moved."""
    moved: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(BrokerConfig(data_dir=Path(tmp), sync=sync))
        await broker.start()
        try:
            metrics = Metrics()
            edges: dict[str, BinaryApp | HttpApp | None] = {
                "broker": None,
                "binary edge": BinaryApp(
                    broker, metrics, default_account=ACCOUNT, default_region="us-east-1", http_host=HOST
                ),
                "HTTP JSON edge": HttpApp(
                    broker, router, metrics, default_account=ACCOUNT, default_region="us-east-1"
                ),
            }
            rounds = max(1, messages // BATCH // concurrency)
            for name, path_edge in edges.items():
                created = await broker.dispatch(
                    "sqs", api.CreateQueue(queue_name=f"cost-{len(name)}"), RequestContext()
                )
                assert isinstance(created, api.CreateQueueResult) and created.queue_url
                driver = _Driver(broker, created.queue_url, path_edge)
                for label, work in (
                    (f"{name}: SendMessageBatch", driver.send_all(rounds, concurrency)),
                    (f"{name}: ReceiveMessage + DeleteMessageBatch", driver.receive_all(concurrency)),
                ):
                    moved[label] = await _timed(label, work)
        finally:
            await broker.close()
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000, help="per path and direction")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent requesters")
    parser.add_argument("--relaxed", action="store_true", help="periodic sync instead of fsync per commit")
    args = parser.parse_args()
    uvloop.run(run(args.messages, args.concurrency, not args.relaxed))


if __name__ == "__main__":
    main()
