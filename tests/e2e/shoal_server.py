"""The server process and clients of the end-to-end tests (imported by
conftest.py and by tests: a uniquely named module, since several test folders
have a conftest.py and ``from conftest import`` would pick whichever came first)."""

from __future__ import annotations

import copy
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
HEALTH_PATH = "/_shoal/health"


def free_port() -> int:
    """A TCP port that was free a moment ago (the kernel picked it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A raw HTTP response: status, lower-cased headers, body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResponse:
    """One request on a new connection to 127.0.0.1:port, with http.client."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = body.encode("utf-8") if isinstance(body, str) else body
        conn.request(method, path, body=payload, headers=dict(headers or {}))
        response = conn.getresponse()
        return HttpResponse(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=response.read(),
        )
    finally:
        conn.close()


@dataclass
class ServerProcess:
    """A ``python -m broker serve`` child process and how to reach it."""

    port: int
    data_dir: Path
    log_dir: Path
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    _starts: int = 0
    _logs: list[Path] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "broker",
            "serve",
            "--port",
            str(self.port),
            "--binary-port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "warning",
            *self.extra_args,
        ]

    def start(self) -> None:
        """Start the process and wait until ``/_shoal/health`` answers 200."""
        assert not self.running, "server already running"
        self._starts += 1
        log = self.log_dir / f"server-{self.port}-{self._starts}.stderr"
        self._logs.append(log)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOAL_")}
        env["PYTHONUNBUFFERED"] = "1"
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                cwd=self.log_dir,
                env=env,
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = "no answer yet"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(
                    f"server exited with code {self.process.returncode} before it was healthy\n"
                    f"command: {' '.join(self.command)}\nstderr:\n{self.stderr()}",
                    pytrace=False,
                )
            try:
                response = http_request(self.port, "GET", HEALTH_PATH, timeout=1.0)
            except OSError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}: {response.body[:200]!r}"
            time.sleep(0.05)
        self.kill()
        pytest.fail(
            f"server not healthy within {START_TIMEOUT:.0f}s (last: {last})\n"
            f"command: {' '.join(self.command)}\nstderr:\n{self.stderr()}",
            pytrace=False,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr(self) -> str:
        """What the current (or last) process wrote to stderr/stdout."""
        if not self._logs or not self._logs[-1].exists():
            return ""
        return self._logs[-1].read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: the crash case. No shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)

    def restart(self) -> None:
        """Start again on the same data dir and port (after kill() or stop())."""
        if self.running:
            self.stop()
        self.start()

    def stop(self) -> None:
        """SIGTERM, and assert a clean exit (code 0) within 10 s."""
        assert self.process is not None, "server never started"
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(
                    f"server did not exit within {STOP_TIMEOUT:.0f}s of SIGTERM\nstderr:\n{self.stderr()}",
                    pytrace=False,
                )
        code = self.process.returncode
        assert code == 0, f"server exited with code {code} after SIGTERM\nstderr:\n{self.stderr()}"


def _new_server(tmp: Path, extra_args: tuple[str, ...] = ()) -> ServerProcess:
    (tmp / "data").mkdir()
    return ServerProcess(port=free_port(), data_dir=tmp / "data", log_dir=tmp, extra_args=extra_args)


# ---------------------------------------------------------------------------
# boto3 clients
# ---------------------------------------------------------------------------

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


def _client_kwargs(endpoint: str) -> dict[str, Any]:
    return {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "config": NO_RETRIES,
    }


# Query serialization names of the SQS model.  Current botocore ships SQS as
# AWS JSON 1.0 only, without the Query-only traits; the Query API (as AWS
# documents it) names flattened list members and map entries singularly.
_QUERY_MEMBER_NAMES = {
    # request lists: shape name -> member's wire name
    "AttributeNameList": "AttributeName",
    "MessageAttributeNameList": "MessageAttributeName",
    "MessageSystemAttributeList": "MessageSystemAttributeName",
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
    "TagKeyList": "TagKey",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "StringList": "StringListValue",
    "BinaryList": "BinaryListValue",
    # response lists
    "QueueUrlList": "QueueUrl",
    "MessageList": "Message",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
}
# maps: shape name -> (entry's wire name, key name, value name)
_QUERY_MAP_NAMES = {
    "QueueAttributeMap": ("Attribute", "Name", "Value"),
    "MessageSystemAttributeMap": ("Attribute", "Name", "Value"),
    "MessageBodyAttributeMap": ("MessageAttribute", "Name", "Value"),
    "MessageBodySystemAttributeMap": ("MessageSystemAttribute", "Name", "Value"),
    "TagMap": ("Tag", "Key", "Value"),
}

# Error codes of the Query protocol where they differ from the shape name, so
# that boto3 raises the modeled exception (``sqs.exceptions.QueueDoesNotExist``).
_QUERY_ERROR_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
}


def query_model(json_model: Mapping[str, Any]) -> dict[str, Any]:
    """botocore's SQS model, re-annotated for the Query protocol.

    Sets ``protocol: query``, wraps each output in ``<Action>Result``, and gives
    flattened lists and maps their singular Query names (``AttributeName.1``,
    ``Attribute.1.Name``, ``<Message>`` ...), and gives modeled errors their
    Query codes (``AWS.SimpleQueueService.NonExistentQueue``).  Members that refer to a list or a
    map shape are flattened, as the Query API has no wrapper elements.
    """
    model = copy.deepcopy(dict(json_model))
    model["metadata"] = {**model["metadata"], "protocol": "query", "protocols": ["query"]}
    model["metadata"].pop("jsonVersion", None)
    model["metadata"].pop("targetPrefix", None)
    model["metadata"].pop("awsQueryCompatible", None)
    model["metadata"]["xmlNamespace"] = "http://queue.amazonaws.com/doc/2012-11-05/"
    shapes: dict[str, Any] = model["shapes"]
    for name, member_name in _QUERY_MEMBER_NAMES.items():
        if name in shapes:
            shapes[name]["member"] = {**shapes[name]["member"], "locationName": member_name}
    for name, (entry, key, value) in _QUERY_MAP_NAMES.items():
        if name in shapes:
            shape = shapes[name]
            shape["locationName"] = entry
            shape["key"] = {**shape["key"], "locationName": key}
            shape["value"] = {**shape["value"], "locationName": value}
    for shape in shapes.values():
        for member in shape.get("members", {}).values():
            target = shapes.get(member["shape"], {})
            if target.get("type") == "list":
                member["flattened"] = True
                if member["shape"] in _QUERY_MEMBER_NAMES:
                    member["locationName"] = _QUERY_MEMBER_NAMES[member["shape"]]
            elif target.get("type") == "map":
                member["flattened"] = True
                if member["shape"] in _QUERY_MAP_NAMES:
                    member["locationName"] = _QUERY_MAP_NAMES[member["shape"]][0]
    for name, code in _QUERY_ERROR_CODES.items():
        if name in shapes:
            shapes[name]["error"] = {"code": code, "httpStatusCode": 400, "senderFault": True}
    for name, operation in model["operations"].items():
        if "output" in operation:
            operation["output"] = {**operation["output"], "resultWrapper": f"{name}Result"}
    return model


class _QueryModelLoader(botocore.loaders.Loader):
    """A loader that serves the Query-annotated SQS model in place of the JSON one."""

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = super().load_service_model(service_name, type_name, api_version)
        if service_name == "sqs" and type_name == "service-2":
            return query_model(model)
        return model


def client_for(srv: ServerProcess, query: bool = False) -> Any:
    """A boto3 SQS client on ``srv``: AWS JSON 1.0, or Query with ``query=True``."""
    if not query:
        return boto3.client("sqs", **_client_kwargs(srv.endpoint))
    session = botocore.session.get_session()
    session.register_component("data_loader", _QueryModelLoader())
    return boto3.Session(botocore_session=session).client("sqs", **_client_kwargs(srv.endpoint))


# ---------------------------------------------------------------------------
# names and raw HTTP
# ---------------------------------------------------------------------------

_counter = itertools.count()


class RawHttp:
    """Raw HTTP requests to one server, for what boto3 cannot send."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    def request(
        self,
        method: str,
        path: str = "/",
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> HttpResponse:
        return http_request(self.server.port, method, path, body, headers, timeout)

    def sqs_json(self, action: str, params: Mapping[str, Any], **headers: str) -> HttpResponse:
        """An AWS JSON 1.0 SQS call (``X-Amz-Target: AmazonSQS.<action>``)."""
        return self.request(
            "POST",
            "/",
            json.dumps(params),
            {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{action}", **headers},
        )

    def sqs_query(self, action: str, params: Mapping[str, str], path: str = "/") -> HttpResponse:
        """A Query SQS call (form-encoded ``Action=...&Version=2012-11-05``)."""
        form = urlencode({"Action": action, "Version": "2012-11-05", **params})
        return self.request("POST", path, form, {"Content-Type": "application/x-www-form-urlencoded"})
