"""Long polling against the real server: wake-up latency and concurrent waiters."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from shoal_server import client_for


@pytest.fixture(params=["json", "query"])
def client(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("sqs" if request.param == "json" else "sqs_query")


def test_long_poll_returns_as_soon_as_a_message_is_sent(
    client: Any, server: Any, queue_name: Callable[..., str]
) -> None:
    url = client.create_queue(QueueName=queue_name())["QueueUrl"]
    sender = client_for(server)
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        waiting = pool.submit(client.receive_message, QueueUrl=url, WaitTimeSeconds=10)
        time.sleep(0.2)  # let the receive reach the server and wait
        assert not waiting.done()
        sent_at = time.monotonic()
        sender.send_message(QueueUrl=url, MessageBody="wake up")
        messages = waiting.result(timeout=5)["Messages"]
        returned_at = time.monotonic()
    assert [m["Body"] for m in messages] == ["wake up"]
    assert returned_at - sent_at < 0.5, returned_at - sent_at
    assert returned_at - started < 2


def test_queue_default_wait_time_is_a_long_poll(
    sqs: Any, server: Any, queue_name: Callable[..., str]
) -> None:
    url = sqs.create_queue(QueueName=queue_name(), Attributes={"ReceiveMessageWaitTimeSeconds": "10"})[
        "QueueUrl"
    ]
    sender = client_for(server)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(sqs.receive_message, QueueUrl=url)
        time.sleep(0.2)
        assert not waiting.done()  # the queue's 10 s applied
        sent_at = time.monotonic()
        sender.send_message(QueueUrl=url, MessageBody="x")
        assert len(waiting.result(timeout=5)["Messages"]) == 1
    assert time.monotonic() - sent_at < 0.5
    # WaitTimeSeconds=0 overrides the queue's default: a short poll answers at once
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert time.monotonic() - started < 0.5


def test_empty_long_poll_waits_its_time(sqs: Any, queue_name: Callable[..., str]) -> None:
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 2.0, elapsed


def test_concurrent_long_polls_get_distinct_messages(server: Any, queue_name: Callable[..., str]) -> None:
    waiters = 5
    clients = [client_for(server, query=i % 2 == 1) for i in range(waiters)]
    url = clients[0].create_queue(QueueName=queue_name())["QueueUrl"]
    results: list[list[dict[str, Any]]] = [[] for _ in range(waiters)]
    ready = threading.Barrier(waiters + 1)

    def wait(i: int) -> None:
        ready.wait()
        results[i] = (
            clients[i]
            .receive_message(QueueUrl=url, WaitTimeSeconds=10, MaxNumberOfMessages=1)
            .get("Messages", [])
        )

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(waiters)]
    for thread in threads:
        thread.start()
    ready.wait()
    time.sleep(0.3)  # all receives are parked on the server
    started = time.monotonic()
    sender = client_for(server)
    for i in range(waiters):
        sender.send_message(QueueUrl=url, MessageBody=f"m{i}")
    for thread in threads:
        thread.join(timeout=10)
    assert time.monotonic() - started < 2
    assert all(len(r) == 1 for r in results), results
    bodies = [r[0]["Body"] for r in results]
    assert sorted(bodies) == [f"m{i}" for i in range(waiters)]


def test_long_poll_on_deleted_queue(sqs: Any, server: Any, queue_name: Callable[..., str]) -> None:
    """A waiter on a queue deleted under it answers (empty or QueueDoesNotExist), it does not hang."""
    url = sqs.create_queue(QueueName=queue_name())["QueueUrl"]
    other = client_for(server)
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()

        def receive() -> Any:
            try:
                return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
            except sqs.exceptions.QueueDoesNotExist:
                return "gone"

        waiting = pool.submit(receive)
        time.sleep(0.1)
        other.delete_queue(QueueUrl=url)
        result = waiting.result(timeout=5)
    assert result == "gone" or "Messages" not in result
    assert time.monotonic() - started < 3
