"""The load tool end to end against a tiny fake SQS endpoint on localhost.

The fake speaks just enough AWS JSON 1.0 (keep-alive HTTP/1.1) to exercise
each scenario, error accounting and the summary; it runs on its own event
loop in a thread because ``bench.cli.main`` runs its own.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bench.cli import main

_ERROR = b"<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>"
NO_QUERY = b"HTTP/1.1 400 X\r\nContent-Length: %d\r\n\r\n%s" % (len(_ERROR), _ERROR)


class FakeSqs:
    """A list-backed queue; in queue ``flaky``, batch entries with Id "9" fail (``FakeFailure``)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []  # (MessageId, body)
        self.duplicate_next = 0  # the next N receives return their first message twice
        self.next_id = 0
        self.host = ""

    def new_id(self) -> str:
        self.next_id += 1
        return f"m{self.next_id}"

    def handle(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if action == "CreateQueue":
            if params["QueueName"] == "forbidden":
                return 400, {"__type": "com.amazonaws.sqs#InvalidParameterValue", "message": "no"}
            return 200, {"QueueUrl": f"http://{self.host}/000000000000/{params['QueueName']}"}
        if action == "SendMessage":
            self.messages.append((self.new_id(), params["MessageBody"]))
            return 200, {"MessageId": self.messages[-1][0], "MD5OfMessageBody": "x"}
        if action == "SendMessageBatch":
            flaky = params["QueueUrl"].endswith("/flaky")
            ok = [e for e in params["Entries"] if not (flaky and e["Id"] == "9")]
            added = [(self.new_id(), e["MessageBody"]) for e in ok]
            self.messages.extend(added)
            failed = [{"Id": "9", "Code": "FakeFailure", "SenderFault": True}] * (
                len(ok) < len(params["Entries"])
            )
            successful = [{"Id": e["Id"], "MessageId": m} for e, (m, _) in zip(ok, added, strict=True)]
            return 200, {"Successful": successful, "Failed": failed}
        if action == "ReceiveMessage":
            taken, self.messages = self.messages[:10], self.messages[10:]
            if taken and self.duplicate_next > 0:
                self.duplicate_next -= 1
                taken.append(taken[0])
            messages = [
                {"MessageId": m, "ReceiptHandle": f"r{i}", "Body": b} for i, (m, b) in enumerate(taken)
            ]
            return 200, {"Messages": messages}
        if action == "DeleteMessageBatch":
            return 200, {"Successful": [{"Id": e["Id"]} for e in params["Entries"]], "Failed": []}
        return 400, {"__type": "com.amazonaws.sqs#UnknownOperationException"}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode().split("\r\n")
                headers = {
                    k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=test/")
                assert "x-amz-date" in headers
                raw = await reader.readexactly(int(headers["content-length"]))
                if headers["content-type"].startswith("application/x-www-form-urlencoded"):
                    writer.write(NO_QUERY)  # this fake speaks JSON only (so: no SNS either)
                    continue
                params = json.loads(raw)
                status, result = self.handle(headers["x-amz-target"].removeprefix("AmazonSQS."), params)
                body = json.dumps(result).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.0\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs()


@pytest.fixture
def fake(sqs: FakeSqs) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        holder["server"] = server = await asyncio.start_server(sqs.serve, "127.0.0.1", 0)
        sqs.host = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
        ready.set()

    thread = threading.Thread(
        target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True
    )
    thread.start()
    assert ready.wait(5)
    yield f"http://{sqs.host}"

    async def stop() -> None:
        holder["server"].close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


SHORT = ["--duration", "0.5", "--warmup", "0.2", "--connections", "4", "--quiet"]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main([*SHORT, *argv, "--json"]) == 0, capsys.readouterr().err
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_send(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    s = run_json(capsys, "send", "--endpoint", fake)
    assert s["messages"] > 0 and s["messages"] == s["requests"] == s["latency_ms"]["SendMessage"]["count"]
    assert s["errors"] == {}
    row = s["latency_ms"]["SendMessage"]
    assert 0 < row["p50"] <= row["p90"] <= row["p99"] <= row["p99.9"] <= row["max"]
    assert s["msgs_per_s"] > 0 and 0 < s["bench_cpu_percent"] <= 400


def test_send_batch_counts_failed_entries(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    s = run_json(capsys, "send-batch", "--endpoint", fake, "--queue", "flaky")
    assert s["messages"] == 9 * s["requests"] > 0
    assert s["errors"] == {"FakeFailure": s["requests"]}


def test_receive_delete_drains_the_prefill(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    s = run_json(capsys, "receive-delete", "--endpoint", fake, "--prefill", "205", "--warmup", "0")
    assert s["messages"] == 205
    assert s["latency_ms"]["DeleteMessageBatch"]["count"] == 21
    assert s["empty_receives"] > 0


def test_fifo_queue_and_text_summary(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--endpoint", fake, "--queue", "jobs.fifo", *SHORT]) == 0
    out = capsys.readouterr().out
    assert "msgs/s" in out and "latency    SendMessage: p50" in out
    assert "bench CPU: " in out and "% of one core" in out


def test_setup_failures_exit_2(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--endpoint", fake, "--queue", "forbidden", *SHORT]) == 2
    assert "InvalidParameterValue" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert main(["send", "--endpoint", f"http://127.0.0.1:{closed}", *SHORT]) == 2
    assert "cannot connect" in capsys.readouterr().err
    assert main(["nonsense"]) == 2


def test_receive_delete_check_finds_duplicates(
    fake: str, sqs: FakeSqs, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs.duplicate_next = 2
    argv = ["receive-delete", "--endpoint", fake, "--prefill", "50", "--warmup", "0", *SHORT, "--json"]
    assert main(argv) == 3
    captured = capsys.readouterr()
    check = json.loads(captured.out)["check"]
    assert (check["acknowledged"], check["received"], check["duplicates"], check["missing"]) == (50, 50, 2, 0)
    assert "check failed" in captured.err and "2 DUPLICATED" in captured.err


def test_receive_delete_check_off(fake: str, sqs: FakeSqs, capsys: pytest.CaptureFixture[str]) -> None:
    sqs.duplicate_next = 2
    s = run_json(capsys, "receive-delete", "--endpoint", fake, "--prefill", "50", "--no-check")
    assert s["check"] is None


def test_latency_open_loop(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    s = run_json(capsys, "latency", "--endpoint", fake, "--rate", "200")
    e2e = s["latency_ms"]["end-to-end"]
    assert 80 <= e2e["count"] <= 120  # 0.5 s at 200 msgs/s, by intended send time
    assert s["check"]["ok"] and s["check"]["acknowledged"] >= 130  # warmup too (0.7 s)
    assert s["rate"] == 200 and s["latency_ms"]["SendMessage"]["count"] > 0


def test_fifo_groups_and_batches(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    s = run_json(capsys, "fifo", "--endpoint", fake, "--groups", "3")
    assert s["queue_url"].endswith("/shoal-bench.fifo") and s["messages"] == s["requests"] > 0
    s = run_json(capsys, "fifo", "--endpoint", fake, "--batch", "--spread")
    assert s["messages"] == 10 * s["requests"] > 0


def test_fanout_needs_sns(fake: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fanout", "--endpoint", fake, *SHORT]) == 2
    assert "fanout needs SNS: the endpoint answered InvalidAction to CreateTopic" in capsys.readouterr().err
