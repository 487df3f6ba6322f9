"""Bad input at the HTTP level: oversize bodies, garbage, clients that go away.

After each abuse the server must keep serving, and a client that vanished
mid-long-poll must not make a message disappear.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

import pytest

MAX_BODY = 16 * 1024 * 1024  # the server's documented request body limit


def connect(server: Any) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return sock


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Read until the server closes or a full Content-Length body arrived."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, body


def json_request(target: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: AmazonSQS.{target}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def assert_serving(sqs: Any) -> None:
    assert "ResponseMetadata" in sqs.list_queues(MaxResults=1)


def test_oversize_body_by_content_length(server: Any, sqs: Any) -> None:
    with connect(server) as sock:
        head = (
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"X-Amz-Target: AmazonSQS.SendMessage\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n"
        )
        sock.sendall(head.encode())
        status, _ = read_response(sock)
    assert status == 413
    assert_serving(sqs)


def test_oversize_body_streamed(server: Any, sqs: Any, raw_http: Any) -> None:
    """A chunked body that grows past the limit is cut off with 413."""
    with connect(server) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"a" * (1024 * 1024)
        try:
            for _ in range(MAX_BODY // len(chunk) + 2):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server answered and closed
        status, _ = read_response(sock)
    assert status == 413
    assert_serving(sqs)


def test_oversize_sqs_body_under_the_http_limit(
    raw_http: Any, sqs: Any, queue_name: Callable[..., str]
) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    response = raw_http.sqs_json("SendMessage", {"QueueUrl": url, "MessageBody": "x" * (2 * 1024 * 1024)})
    assert response.status == 400
    assert response.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\x01\x02\xff\xfe garbage \r\n\r\n",
        b"GET\r\n\r\n",
        b"POST / HTTP/9.9\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST / HTTP/1.1\r\nBad Header Line\r\n\r\n",
    ],
    ids=["binary", "no-target", "bad-version", "negative-length", "bad-header"],
)
def test_garbage_gets_400_and_server_keeps_serving(server: Any, sqs: Any, garbage: bytes) -> None:
    with connect(server) as sock:
        sock.sendall(garbage)
        status, _ = read_response(sock)
    assert 400 <= status < 500
    assert_serving(sqs)


def test_garbage_json_body_keeps_connection_usable(server: Any) -> None:
    """An SQS-level error is a normal answer: the keep-alive connection goes on."""
    with connect(server) as sock:
        sock.sendall(json_request("ListQueues", b"{nope"))
        status, body = read_response(sock)
        assert status == 400
        assert b"SerializationException" in body
        sock.sendall(json_request("ListQueues", b"{}"))
        status, _ = read_response(sock)
        assert status == 200


def test_unknown_path_and_method(raw_http: Any, sqs: Any) -> None:
    response = raw_http.request("GET", "/no/such/thing")
    assert 400 <= response.status < 500
    response = raw_http.request("DELETE", "/")
    assert 400 <= response.status < 500
    assert_serving(sqs)


def test_many_half_requests_then_disconnect(server: Any, sqs: Any) -> None:
    """Clients that vanish mid-headers or mid-body do no harm."""
    partials = [
        b"POST / HTTP/1.1\r\nHost: local",
        json_request("ListQueues", b"{}")[:-1],
        b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10,
    ]
    for _ in range(5):
        for partial in partials:
            sock = connect(server)
            sock.sendall(partial)
            sock.close()
    sock = connect(server)
    sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
    sock.close()
    assert_serving(sqs)


def test_disconnect_mid_send_loses_nothing_acknowledged(
    server: Any, sqs: Any, queue_name: Callable[..., str]
) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    body = json.dumps({"QueueUrl": url, "MessageBody": "half"}).encode()
    with connect(server) as sock:
        sock.sendall(json_request("SendMessage", body)[:-5])
    # the request never completed: nothing was sent
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert_serving(sqs)


def test_disconnect_mid_long_poll_loses_no_message(
    server: Any, sqs: Any, queue_name: Callable[..., str]
) -> None:
    """A client that closes its socket (FIN) during a long poll, as an SDK does on a read timeout.

    The server treats the close as the client giving up: the parked receive is
    cancelled, so the next message goes straight to the next receiver.
    """
    url = sqs.create_queue(QueueName=queue_name(), Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    body = json.dumps({"QueueUrl": url, "WaitTimeSeconds": 20, "MaxNumberOfMessages": 10}).encode()
    sock = connect(server)
    sock.sendall(json_request("ReceiveMessage", body))
    time.sleep(0.2)  # the receive is parked on the server
    sock.close()
    time.sleep(0.1)
    sent = sqs.send_message(QueueUrl=url, MessageBody="not lost")["MessageId"]
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [m["MessageId"] for m in got] == [sent]
    assert_serving(sqs)


def test_reset_mid_long_poll_loses_no_message(server: Any, sqs: Any, queue_name: Callable[..., str]) -> None:
    """A connection reset (RST) during a long poll cancels the receive: the next message is not taken."""
    url = sqs.create_queue(QueueName=queue_name(), Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    body = json.dumps({"QueueUrl": url, "WaitTimeSeconds": 20}).encode()
    sock = connect(server)
    sock.sendall(json_request("ReceiveMessage", body))
    time.sleep(0.2)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
    sock.close()
    time.sleep(0.1)
    sent = sqs.send_message(QueueUrl=url, MessageBody="not taken")["MessageId"]
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [m["MessageId"] for m in got] == [sent]
    assert_serving(sqs)


def test_pipelined_requests_answer_in_order(server: Any, sqs: Any, queue_name: Callable[..., str]) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    requests = b"".join(
        json_request("SendMessage", json.dumps({"QueueUrl": url, "MessageBody": f"p{i}"}).encode())
        for i in range(5)
    )
    with connect(server) as sock:
        sock.sendall(requests)
        buffered = b""
        statuses = []
        sock.settimeout(5)
        while len(statuses) < 5:
            while b"\r\n\r\n" not in buffered:
                buffered += sock.recv(65536)
            head, _, rest = buffered.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            while len(rest) < length:
                rest += sock.recv(65536)
            statuses.append(int(head.split(b" ")[1]))
            buffered = rest[length:]
    assert statuses == [200] * 5
    bodies = set()
    for _ in range(5):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            bodies.add(m["Body"])
        if len(bodies) == 5:
            break
    assert bodies == {f"p{i}" for i in range(5)}
