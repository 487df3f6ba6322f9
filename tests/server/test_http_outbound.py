"""The outbound poster (broker/http_outbound.py) against tiny local servers.

What it sends (request line, Host, headers, Content-Length, body), the status
it reads (with or without a body, keep-alive or close), and every failure
as ``PostResult(None, why)``: connection refused, no answer before the
timeout, a connection closed early, a self-signed HTTPS endpoint.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from broker.http_outbound import post, request_bytes

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve(handler: Handler, tls: ssl.SSLContext | None = None) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def servers() -> AsyncIterator[list[asyncio.Server]]:
    started: list[asyncio.Server] = []
    yield started
    for server in started:
        server.close()
        await server.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head + await reader.readexactly(length)


def test_request_bytes() -> None:
    host, port, tls, data = request_bytes(
        "http://example.test:8080/hook?x=1", [("x-amz-sns-message-type", "Notification")], b"body"
    )
    assert (host, port, tls) == ("example.test", 8080, False)
    assert data == (
        b"POST /hook?x=1 HTTP/1.1\r\nHost: example.test:8080\r\nx-amz-sns-message-type: Notification\r\n"
        b"Content-Length: 4\r\nConnection: close\r\n\r\nbody"
    )
    assert request_bytes("https://example.test", [], b"")[1:3] == (443, True)


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\nbusy",
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n",
    ],
)
async def test_sends_the_request_and_reads_the_status(servers: list[asyncio.Server], response: bytes) -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
        writer.write(response)
        await writer.drain()
        if b"Content-Length" in response or b"chunked" in response:
            await reader.read()  # keep the connection until the poster closes it: it must not wait for us
        writer.close()
        await writer.wait_closed()

    server, port = await _serve(handler)
    servers.append(server)
    result = await asyncio.wait_for(post(f"http://127.0.0.1:{port}/p", [("a", "b")], b"{}", 5.0), 0.4)
    assert result.status == int(response.split()[1])
    assert seen[0].startswith(b"POST /p HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\na: b\r\n" in seen[0] and seen[0].endswith(b"\r\n\r\n{}")


async def test_connection_refused_is_no_answer(servers: list[asyncio.Server]) -> None:
    server, port = await _serve(lambda r, w: asyncio.sleep(0))
    server.close()
    await server.wait_closed()
    result = await post(f"http://127.0.0.1:{port}/", [], b"", 5.0)
    assert result.status is None and result.reason.startswith("connection failed")


async def test_timeout_is_no_answer(servers: list[asyncio.Server]) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await reader.read()  # never answers; returns when the poster gives up and closes
        writer.close()
        await writer.wait_closed()

    server, port = await _serve(silent)
    servers.append(server)
    result = await post(f"http://127.0.0.1:{port}/", [], b"", 0.2)
    await asyncio.sleep(0.05)  # the server sees the close
    assert result.status is None and "no response within 0.2 s" in result.reason


async def test_closed_before_a_response_is_no_answer(servers: list[asyncio.Server]) -> None:
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200")
        writer.close()
        await writer.wait_closed()

    server, port = await _serve(rude)
    servers.append(server)
    result = await post(f"http://127.0.0.1:{port}/", [], b"x", 5.0)
    assert result.status is None


async def test_self_signed_https_endpoint_fails_as_on_aws(
    servers: list[asyncio.Server], tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server, port = await _serve(handler, tls)
    servers.append(server)
    result = await post(f"https://127.0.0.1:{port}/", [], b"", 5.0)
    assert result.status is None and result.reason.startswith("TLS failure")
    await asyncio.sleep(0.2)  # the server side notices the refused handshake and closes its socket


async def test_not_an_http_url() -> None:
    result = await post("ftp://example.test/", [], b"", 1.0)
    assert result.status is None and result.reason.startswith("invalid endpoint")
