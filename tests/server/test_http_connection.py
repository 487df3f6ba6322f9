"""HttpConnection driven through a mock transport: framing, order, limits, lifetime."""

from __future__ import annotations

import asyncio

from server_fakes import Wire, parse_responses, post

from broker.http_connection import CONTINUE, HttpLimits


def test_keep_alive_serves_several_requests(wire: Wire) -> None:
    wire.send(post(b"one"))
    wire.send(post(b"two"))
    first, second = wire.responses()
    assert (first.status, first.body) == (200, b"one")
    assert (second.status, second.body) == (200, b"two")
    assert first.headers["content-length"] == "3"
    assert "connection" not in first.headers
    assert not wire.transport.closed


def test_pipelined_replies_keep_request_order(wire: Wire) -> None:
    wire.broker.gate("slow")
    wire.send(post(b"gate:slow") + post(b"fast"))
    # Both were dispatched at once: the slow one does not hold up the parser.
    assert wire.broker.calls == [b"gate:slow", b"fast"]
    assert wire.new_bytes() == b""  # the fast reply waits behind the slow one
    wire.release("slow")
    assert [r.body for r in wire.responses()] == [b"gate:slow", b"fast"]


def test_request_split_across_reads(wire: Wire) -> None:
    raw = post(b"hello world")
    for i in range(len(raw)):
        wire.send(raw[i : i + 1])
    assert [r.body for r in wire.responses()] == [b"hello world"]


def test_chunked_request_body(wire: Wire) -> None:
    wire.send(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert [r.body for r in wire.responses()] == [b"abcde"]


def test_expect_100_continue_before_the_body(wire: Wire) -> None:
    raw = post(b"payload", headers="Expect: 100-continue\r\n")
    head, body = raw[: -len(b"payload")], b"payload"
    wire.send(head)
    assert wire.new_bytes() == CONTINUE
    wire.send(body)
    assert [r.body for r in wire.responses()] == [b"payload"]


def test_100_continue_waits_for_earlier_replies(wire: Wire) -> None:
    wire.broker.gate("first")
    wire.send(post(b"gate:first") + post(b"xy", headers="Expect: 100-continue\r\n")[:-2])
    # Nothing may overtake the first reply, not even the interim 100.
    assert wire.new_bytes() == b""
    wire.release("first")
    raw = wire.new_bytes()
    assert raw.endswith(CONTINUE)
    assert [r.body for r in parse_responses(raw[: -len(CONTINUE)])] == [b"gate:first"]
    wire.send(b"xy")
    assert [r.body for r in wire.responses()] == [b"xy"]


def test_no_100_continue_when_the_body_came_with_the_headers(wire: Wire) -> None:
    wire.send(post(b"abc", headers="Expect: 100-continue\r\n"))
    raw = wire.new_bytes()
    assert not raw.startswith(b"HTTP/1.1 100")
    assert [r.body for r in parse_responses(raw)] == [b"abc"]


def test_declared_body_over_the_limit_is_413_in_the_codec_format(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, HttpLimits(max_body_bytes=10))
    wire.send(b"POST / HTTP/1.1\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
    (reply,) = wire.responses()  # no 100 Continue: the body is refused unread
    assert reply.status == 413
    assert reply.headers["x-error"] == "RequestEntityTooLarge"
    assert reply.headers["connection"] == "close"
    assert wire.transport.closed
    assert wire.broker.calls == []


def test_chunked_body_over_the_limit_is_413(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, HttpLimits(max_body_bytes=10))
    wire.send(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n")
    assert wire.new_bytes() == b""
    wire.send(b"8\r\n12345678\r\n0\r\n\r\n")
    (reply,) = wire.responses()
    assert reply.status == 413
    assert wire.transport.closed
    assert wire.broker.calls == []


def test_earlier_replies_are_written_before_a_413(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, HttpLimits(max_body_bytes=10))
    wire.broker.gate("g")
    wire.send(post(b"gate:g") + b"POST / HTTP/1.1\r\nContent-Length: 99\r\n\r\n")
    assert wire.new_bytes() == b""
    wire.release("g")
    assert [r.status for r in wire.responses()] == [200, 413]
    assert wire.transport.closed


def test_malformed_request_is_400_and_close(wire: Wire) -> None:
    wire.send(b"NOT HTTP AT ALL\r\n\r\n")
    (reply,) = wire.responses()
    assert reply.status == 400
    assert reply.headers["connection"] == "close"
    assert wire.transport.closed
    wire.send(post(b"ignored"))  # nothing more is parsed
    assert wire.broker.calls == []


def test_too_many_headers_is_431(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, HttpLimits(max_headers=5))
    headers = "".join(f"X-H{i}: v\r\n" for i in range(6))
    wire.send(post(b"x", headers=headers))
    (reply,) = wire.responses()
    assert reply.status == 431
    assert wire.transport.closed


def test_oversized_headers_are_431(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, HttpLimits(max_header_bytes=1024))
    wire.send(post(b"x", headers=f"X-Big: {'a' * 2000}\r\n"))
    (reply,) = wire.responses()
    assert reply.status == 431
    assert wire.transport.closed


def test_connection_close_is_honoured(wire: Wire) -> None:
    wire.send(post(b"bye", headers="Connection: close\r\n"))
    (reply,) = wire.responses()
    assert reply.headers["connection"] == "close"
    assert wire.transport.closed


def test_http_1_0_closes_unless_keep_alive(wire: Wire, loop: asyncio.AbstractEventLoop) -> None:
    wire.send(b"GET /_shoal/health HTTP/1.0\r\n\r\n")
    (reply,) = wire.responses()
    assert reply.status == 200
    assert wire.transport.closed

    kept = Wire(loop)
    kept.send(b"GET /_shoal/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    (reply,) = kept.responses()
    assert reply.headers["connection"] == "keep-alive"
    assert not kept.transport.closed


def test_head_has_no_body(wire: Wire) -> None:
    wire.send(b"HEAD /_shoal/health HTTP/1.1\r\n\r\n")
    raw = wire.new_bytes()
    assert raw.endswith(b"\r\n\r\n")
    assert b"Content-Length: " in raw
    assert b"running" not in raw


def test_connection_lost_cancels_pending_dispatch(wire: Wire) -> None:
    wire.broker.gate("poll")
    wire.send(post(b"gate:poll"))
    wire.conn.connection_lost(ConnectionResetError())
    wire.settle()
    assert wire.broker.cancelled == [b"gate:poll"]
    assert wire.pool.live == set()
    assert wire.new_bytes() == b""


def test_back_pressure_from_the_write_buffer(wire: Wire) -> None:
    wire.conn.pause_writing()
    assert not wire.transport.reading
    wire.conn.resume_writing()
    assert wire.transport.reading


def test_back_pressure_from_pending_requests(loop: asyncio.AbstractEventLoop) -> None:
    wire = Wire(loop, HttpLimits(max_pending=2))
    wire.broker.gate("a")
    wire.broker.gate("b")
    wire.send(post(b"gate:a"))
    assert wire.transport.reading
    wire.send(post(b"gate:b"))
    assert not wire.transport.reading
    wire.release("a")
    assert wire.transport.reading
    wire.release("b")
    assert [r.body for r in wire.responses()] == [b"gate:a", b"gate:b"]


def test_idle_keep_alive_timeout(wire: Wire) -> None:
    wire.send(post(b"x"))
    wire.conn.check_timeouts(wire.now + wire.limits.keep_alive_timeout - 1)
    assert not wire.transport.closed
    wire.conn.check_timeouts(wire.now + wire.limits.keep_alive_timeout + 1)
    assert wire.transport.closed


def test_slow_client_timeout(wire: Wire) -> None:
    wire.send(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    wire.conn.check_timeouts(wire.now + wire.limits.request_timeout + 1)
    assert wire.transport.closed


def test_long_poll_is_not_a_timeout(wire: Wire) -> None:
    wire.broker.gate("poll")
    wire.send(post(b"gate:poll"))
    wire.conn.check_timeouts(wire.now + wire.limits.keep_alive_timeout + wire.limits.request_timeout)
    assert not wire.transport.closed
    wire.release("poll")
    assert [r.body for r in wire.responses()] == [b"gate:poll"]


def test_shutdown_closes_an_idle_connection(wire: Wire) -> None:
    wire.send(post(b"x"))
    wire.responses()
    wire.pool.shutdown()
    assert wire.transport.closed


def test_shutdown_lets_in_flight_requests_finish(wire: Wire) -> None:
    wire.broker.gate("work")
    wire.send(post(b"gate:work"))
    wire.pool.shutdown()
    assert not wire.transport.closed
    wire.send(post(b"too late"))
    assert wire.broker.calls == [b"gate:work"]
    wire.release("work")
    (reply,) = wire.responses()
    assert reply.body == b"gate:work"
    assert reply.headers["connection"] == "close"
    assert wire.transport.closed


def test_client_close_cancels_what_it_was_waiting_for(wire: Wire) -> None:
    wire.broker.gate("g")
    wire.send(post(b"gate:g"))
    assert not wire.conn.eof_received()  # asyncio closes the transport
    wire.conn.connection_lost(None)
    wire.settle()
    assert wire.broker.cancelled == [b"gate:g"]


def test_absolute_form_target(wire: Wire) -> None:
    wire.send(b"GET http://localhost:4566/_shoal/health?x=1 HTTP/1.1\r\n\r\n")
    (reply,) = wire.responses()
    assert reply.status == 200


def test_nothing_is_parsed_or_written_after_a_timeout_close(wire: Wire) -> None:
    wire.broker.gate("g")
    wire.send(post(b"gate:g"))
    wire.conn.check_timeouts(wire.now + wire.limits.request_timeout + wire.limits.keep_alive_timeout)
    assert not wire.transport.closed  # busy, not idle
    wire.send(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")
    wire.conn.check_timeouts(wire.now + wire.limits.request_timeout + 1)
    wire.settle()
    assert wire.transport.closed
    assert wire.broker.cancelled == [b"gate:g"]
    wire.send(b"cde" + post(b"more"))
    assert wire.broker.calls == [b"gate:g"]
    assert wire.new_bytes() == b""
