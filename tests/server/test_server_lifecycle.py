"""Server start and graceful stop, over a loopback socket.

The one place in tests/server that opens sockets: ``Server`` owns the
listener, so its start/stop order can only be seen through one.  The broker
and the codecs are fakes; e2e tests cover the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from server_fakes import FakeBroker, FakeRouter, parse_responses, post

from broker.server import Server, ServerConfig


class LifecycleBroker(FakeBroker):
    """A fake broker whose ``close`` wakes long-polls, as the real one does."""

    started = False
    closed = False
    wake_on_close = True

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        if self.wake_on_close:
            for gate in self.gates.values():
                if not gate.done():
                    gate.set_result(None)
        self.closed = True


async def read_all(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), timeout=5)


def run(tmp_path: Path, scenario: str) -> None:
    async def main() -> None:
        broker = LifecycleBroker(asyncio.get_running_loop())
        config = ServerConfig(port=0, binary_port=0, data_dir=tmp_path, shutdown_grace=0.2)
        server = Server(config, broker=broker, router=FakeRouter())
        await server.start()
        assert broker.started and server.port != 0
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)

        if scenario == "in-flight":
            broker.gate("poll")
            writer.write(post(b"gate:poll"))
            await writer.drain()
            idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", server.port)
            while not broker.calls:
                await asyncio.sleep(0.01)
            await server.stop()
            assert broker.closed
            (reply,) = parse_responses(await read_all(reader))  # then EOF
            assert (reply.status, reply.body) == (200, b"gate:poll")
            assert reply.headers["connection"] == "close"
            assert await read_all(idle_reader) == b""  # idle keep-alive connection closed
            idle_writer.close()
        elif scenario == "stuck":
            broker.wake_on_close = False
            broker.gate("stuck")
            writer.write(post(b"gate:stuck"))
            await writer.drain()
            while not broker.calls:
                await asyncio.sleep(0.01)
            await server.stop()  # gives up after shutdown_grace
            assert broker.closed
            assert broker.cancelled == [b"gate:stuck"]
            with contextlib.suppress(ConnectionResetError):  # an abort may reset
                assert await read_all(reader) == b""
        else:
            writer.write(b"GET /_shoal/health HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"}"), timeout=5)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            await server.stop()
        writer.close()

    asyncio.run(main())


def test_health_then_stop(tmp_path: Path) -> None:
    run(tmp_path, "health")


def test_stop_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    run(tmp_path, "in-flight")


def test_stop_is_bounded(tmp_path: Path) -> None:
    run(tmp_path, "stuck")
