"""The binary protocol end to end: one real server, boto3 and the binary client side by side.

Same scenarios through both front doors on ONE server: what one sends the
other receives and deletes, errors carry identical codes, a parked long poll
does not hold up other requests on the connection, random frames do not hurt
the listener, and the client reconnects after a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import msgpack
import pytest
from shoal_server import ServerProcess, client_for, free_port

from broker import errors
from protocol.client import AsyncClient, Client


@pytest.fixture(scope="module")
def binary_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, int, str]]:
    tmp = tmp_path_factory.mktemp("shoal-binary")
    (tmp / "data").mkdir()
    port = free_port()
    sock = str(tmp / "shoal.sock")
    srv = ServerProcess(
        port=free_port(),
        data_dir=tmp / "data",
        log_dir=tmp,
        extra_args=("--binary-port", str(port), "--binary-socket", sock),
    )
    srv.start()
    yield srv, port, sock
    if srv.running:
        srv.stop()


@pytest.fixture(scope="module")
def boto(binary_server: tuple[ServerProcess, int, str]) -> Any:
    return client_for(binary_server[0])


@pytest.fixture
def binary(binary_server: tuple[ServerProcess, int, str]) -> Iterator[Client]:
    with Client(port=binary_server[1], timeout=10) as client:
        yield client


def _name(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{random.randrange(1 << 30)}"


def test_queue_urls_are_the_same_strings(boto: Any, binary: Client) -> None:
    name = _name("same")
    url = binary.call("CreateQueue", QueueName=name).queue_url
    assert boto.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert boto.create_queue(QueueName=name)["QueueUrl"] == url
    assert binary.call("GetQueueUrl", QueueName=name).queue_url == url
    assert url in binary.call("ListQueues", QueueNamePrefix="same-").queue_urls


def test_sent_by_boto_received_by_binary_and_back(boto: Any, binary: Client) -> None:
    url = boto.create_queue(QueueName=_name("cross"))["QueueUrl"]
    attributes = {
        "s": {"DataType": "String", "StringValue": "v"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    sent = boto.send_message(QueueUrl=url, MessageBody="from boto", MessageAttributes=attributes)
    (got,) = binary.receive_message(url, wait_time_seconds=2, MessageAttributeNames=["All"])
    assert (got.body, got.message_id, got.md5_of_body) == (
        "from boto",
        sent["MessageId"],
        sent["MD5OfMessageBody"],
    )
    assert got.md5_of_message_attributes == sent["MD5OfMessageAttributes"]
    assert got.message_attributes is not None
    assert got.message_attributes["b"].binary_value == b"\x00\x01\xff"
    assert binary.delete_message_batch(url, [got]).failed == []
    assert "Messages" not in boto.receive_message(QueueUrl=url)

    result = binary.send_message_batch(url, ["one", {"Id": "x", "MessageBody": "two", "DelaySeconds": 0}])
    assert [e.id for e in result.successful] == ["0", "x"]
    received = boto.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)["Messages"]
    while len(received) < 2:
        received += boto.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in received) == ["one", "two"]
    by_id = {e.message_id: e.md5_of_message_body for e in result.successful}
    assert {m["MessageId"]: m["MD5OfBody"] for m in received} == by_id
    boto.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
    )
    assert binary.receive_message(url) == []


def test_sns_over_binary_fans_out_to_a_queue_boto_reads(boto: Any, binary: Client) -> None:
    """SNS joins the binary protocol: the same topic, subscription and publish as over Query."""
    url = binary.call("CreateQueue", QueueName=_name("sns-target")).queue_url
    arn = binary.call("GetQueueAttributes", QueueUrl=url, AttributeNames=["QueueArn"]).attributes["QueueArn"]
    topic = binary.call("CreateTopic", service="sns", Name=_name("topic")).topic_arn
    sub = binary.call(
        "Subscribe",
        service="sns",
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    ).subscription_arn
    assert sub.startswith(topic + ":")
    published = binary.call("Publish", service="sns", TopicArn=topic, Message="over the binary port")
    got = boto.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert [m["Body"] for m in got] == ["over the binary port"]
    assert published.message_id
    listed = binary.call("ListSubscriptionsByTopic", service="sns", TopicArn=topic).subscriptions
    assert [s.subscription_arn for s in listed] == [sub]
    with pytest.raises(errors.NotFound):
        binary.call("GetTopicAttributes", service="sns", TopicArn=topic + "-missing")


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("GetQueueUrl", {"QueueName": "does-not-exist"}),
        ("SendMessage", {"QueueUrl": "http://x/000000000000/does-not-exist", "MessageBody": "x"}),
        ("CreateQueue", {"QueueName": "bad name!"}),
        ("ReceiveMessage", {"QueueUrl": "QUEUE", "MaxNumberOfMessages": 11}),
        ("SendMessage", {"QueueUrl": "QUEUE", "MessageBody": ""}),
        ("DeleteMessage", {"QueueUrl": "QUEUE", "ReceiptHandle": "garbage"}),
        ("SendMessageBatch", {"QueueUrl": "QUEUE", "Entries": []}),
    ],
)
def test_errors_have_identical_codes(
    boto: Any, binary: Client, operation: str, params: dict[str, Any]
) -> None:
    url = binary.call("CreateQueue", QueueName="errors-e2e").queue_url
    params = {k: (url if v == "QUEUE" else v) for k, v in params.items()}
    with pytest.raises(botocore.exceptions.ClientError) as http_error:
        getattr(boto, _snake(operation))(**params)
    with pytest.raises(errors.ShoalError) as binary_error:
        binary.call(operation, **params)
    # boto3 reports the query-compatible code (x-amzn-query-error); the error frame carries both.
    assert binary_error.value.query_code == http_error.value.response["Error"]["Code"]
    assert binary_error.value.message == http_error.value.response["Error"]["Message"]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def test_pipelining_with_a_parked_long_poll(binary_server: tuple[ServerProcess, int, str]) -> None:
    async def run() -> None:
        async with AsyncClient(unix_socket=binary_server[2], timeout=10) as client:
            busy = (await client.call("CreateQueue", QueueName=_name("busy"))).queue_url
            idle = (await client.call("CreateQueue", QueueName=_name("idle"))).queue_url
            parked = asyncio.ensure_future(client.receive_message(idle, wait_time_seconds=3))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            results = await asyncio.gather(
                *(client.send_message_batch(busy, [f"m{i}"] * 10) for i in range(50))
            )
            assert time.monotonic() - started < 2.5 and not parked.done()
            assert sum(len(r.successful) for r in results) == 500
            await client.send_message(idle, "wake")
            (message,) = await parked
            assert message.body == "wake"

    asyncio.run(run())


def _random_frames(rng: random.Random) -> bytes:
    out = []
    for _ in range(rng.randrange(1, 6)):
        kind = rng.randrange(3)
        if kind == 0:
            out.append(rng.randbytes(rng.randrange(1, 64)))  # garbage, often an absurd length prefix
            continue
        if kind == 1:
            body = rng.randbytes(rng.randrange(0, 64))
        else:
            operation = rng.choice(["SendMessage", "X", ""])
            body = msgpack.packb([3, rng.randrange(100), "sqs", operation, {"QueueUrl": 1}])
        out.append(len(body).to_bytes(4, "big") + body)
    return b"".join(out)


def test_random_frames_do_not_hurt_the_listener(binary_server: tuple[ServerProcess, int, str]) -> None:
    port = binary_server[1]
    rng = random.Random(4)
    for round in range(40):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            hello = msgpack.packb([1, 1, "fuzz", None, None])
            prefix = len(hello).to_bytes(4, "big") + hello if round % 2 else b""
            try:
                s.sendall(prefix + _random_frames(rng))
                s.shutdown(socket.SHUT_WR)
                while s.recv(65536):
                    pass
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server closed on us: a fair answer to garbage
    with Client(port=port) as client:  # still serving
        url = client.call("CreateQueue", QueueName="after-fuzz").queue_url
        client.send_message(url, "ok")
        assert [m.body for m in client.receive_message(url, wait_time_seconds=2)] == ["ok"]


def test_client_reconnects_after_a_restart(start_server: Any, tmp_path: Path) -> None:
    port = free_port()
    srv = start_server("--binary-port", str(port))
    with Client(port=port, timeout=10, connect_timeout=10, retries=5) as client:
        url = client.call("CreateQueue", QueueName="reconnect").queue_url
        srv.restart()
        # The old connection is dead; an idempotent call reconnects transparently.
        assert client.call("GetQueueUrl", QueueName="reconnect").queue_url == url
        client.send_message(url, "after restart")
        assert [m.body for m in client.receive_message(url, wait_time_seconds=2)] == ["after restart"]


def test_bench_over_the_binary_protocol_checks_exactly_once(
    binary_server: tuple[ServerProcess, int, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``shoal bench --protocol binary``: send-batch counts messages; receive-delete after a
    prefill drains the queue and checks every acknowledged message came exactly once."""
    from bench.cli import main as bench

    srv, port, _ = binary_server
    common = ["--endpoint", srv.endpoint, "--protocol", "binary", "--binary-endpoint", f"127.0.0.1:{port}"]
    common += ["--connections", "2", "--pipeline", "2", "--warmup", "0", "--json", "--quiet"]
    assert bench(["send-batch", *common, "--queue", _name("bench-send"), "--duration", "0.5"]) == 0
    sent = json.loads(capsys.readouterr().out)
    assert sent["messages"] > 0 and not sent["errors"]
    queue = _name("bench-rd")
    assert bench(["receive-delete", *common, "--queue", queue, "--prefill", "300", "--duration", "0.2"]) == 0
    drained = json.loads(capsys.readouterr().out)
    assert drained["check"]["ok"] is True
    assert drained["check"]["acknowledged"] == drained["check"]["received"] == 300
