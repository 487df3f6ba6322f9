"""bench.http11.ResponseParser: responses split anywhere, both body framings."""

from __future__ import annotations

import pytest

from bench.http11 import ProtocolError, Response, ResponseParser

FIXED = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
)
CLOSE = b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

CASES = [
    (FIXED, Response(200, {"content-type": "application/json", "content-length": "5"}, b"hello", True)),
    (CHUNKED, Response(400, {"transfer-encoding": "chunked"}, b"abcde", True)),
    (CLOSE, Response(503, {"connection": "close", "content-length": "0"}, b"", False)),
    (
        CONTINUE + FIXED,
        Response(200, {"content-type": "application/json", "content-length": "5"}, b"hello", True),
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_whole(raw: bytes, expected: Response) -> None:
    assert ResponseParser().feed(raw) == [expected]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_byte_by_byte(raw: bytes, expected: Response) -> None:
    parser = ResponseParser()
    got = [r for i in range(len(raw)) for r in parser.feed(raw[i : i + 1])]
    assert got == [expected]


def test_several_in_one_read() -> None:
    got = ResponseParser().feed(FIXED + CHUNKED + FIXED)
    assert [r.body for r in got] == [b"hello", b"abcde", b"hello"]


def test_body_until_close() -> None:
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.0 200 OK\r\n\r\npartial ") == []
    assert parser.feed(b"body") == []
    assert parser.eof() == Response(200, {}, b"partial body", False)


@pytest.mark.parametrize("raw", [b"SMTP 220 hi\r\n\r\n", b"HTTP/1.1 200 OK\r\nno-colon\r\n\r\n"])
def test_garbage(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        ResponseParser().feed(raw)
