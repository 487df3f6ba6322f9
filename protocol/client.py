"""Python clients of the binary protocol: :class:`Client` (blocking) and :class:`AsyncClient` (asyncio).

This is protocol/'s one I/O module (the layering test names it as such): it
opens sockets and runs the sans-IO codec of :mod:`protocol.binary_frames`
and :mod:`protocol.binary_ops` over them.  Nothing else in protocol/ may.

Usage::

    with Client(port=4567) as sqs:
        url = sqs.call("CreateQueue", QueueName="jobs").queue_url
        sqs.send_message_batch(url, ["a", "b", "c"])
        messages = sqs.receive_message(url, wait_time_seconds=5)
        sqs.delete_message_batch(url, messages)

    async with AsyncClient(port=4567) as sqs:
        results = await asyncio.gather(*(sqs.send_message_batch(url, batch) for batch in batches))

Rules and traps:

- Parameters are AWS's member names exactly as botocore spells them
  (``QueueUrl``, ``MaxNumberOfMessages``); results are the typed classes of
  ``broker.sqs.api`` (``SendMessageBatchResult``, ``Message``...), fields in
  snake_case.  ``execute(api.SendMessage(...))`` takes a typed request.
- Errors raise the class of :mod:`broker.errors` that owns the AWS code
  (``QueueDoesNotExist``...); codes that module lacks get a ``ShoalError``
  subclass named after the code.  Per-entry batch failures are not raised:
  they are the result's ``failed`` entries, as with boto3.
- One connection per client, reused; :class:`AsyncClient` pipelines every
  concurrent call on it (answers matched by request id, in any order), and
  :meth:`Client.call_many` pipelines a list of calls.  :class:`Client` is
  safe to share between threads (a lock serializes calls), but one client
  per thread is faster.
- Timeouts: ``timeout`` seconds per call, extended by a receive's
  ``WaitTimeSeconds``; a call that times out raises ``TimeoutError`` and its
  late answer is dropped.  ``connect_timeout`` bounds (re)connecting.
- Reconnect and retry: a broken connection is replaced on the next call.  A
  call is retried (up to ``retries`` more times) when its request was never
  written (connecting failed), whatever the operation; when the connection
  broke after the request was written, it is retried only for the operations
  in :data:`IDEMPOTENT` (repeating them is harmless: reads, creating a queue
  with the same attributes, deletes by receipt handle, setting attributes or
  tags).  Sends, receives and the rest raise :class:`ConnectionLost`: the
  request may or may not have run.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, cast

from broker.errors import RequestEntityTooLarge, ShoalError
from broker.sqs import api
from protocol.binary_frames import (
    DEFAULT_MAX_FRAME,
    Error,
    FrameDecoder,
    FrameTooLarge,
    Malformed,
    NeedData,
    Result,
    Welcome,
    pack_hello,
    pack_request,
)
from protocol.binary_ops import bind_result, error_from, find_operation, operation_of, render_request
from protocol.shapes import Operation

DEFAULT_PORT = 4567
CLIENT_NAME = "shoal-py/1"
_READ_SIZE = 256 * 1024

IDEMPOTENT = frozenset(
    {
        "GetQueueUrl",
        "GetQueueAttributes",
        "ListQueues",
        "ListQueueTags",
        "ListDeadLetterSourceQueues",
        "ListMessageMoveTasks",
        "CreateQueue",
        "SetQueueAttributes",
        "TagQueue",
        "UntagQueue",
        "DeleteMessage",
        "DeleteMessageBatch",
    }
)
"""Operations a client repeats after the connection broke with the request already written."""


class ConnectionLost(ConnectionError):
    """The connection broke; ``sent`` says whether the request had been written (outcome unknown)."""

    def __init__(self, message: str, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class _Prepared:
    """One call ready to go: its operation, frame bytes and timeout."""

    __slots__ = ("frame", "id", "op", "timeout")

    def __init__(self, op: Operation, id: int, frame: bytes, timeout: float) -> None:
        self.op = op
        self.id = id
        self.frame = frame
        self.timeout = timeout


class _Calls:
    """The sans-IO part both clients share: ids, request frames, answers to results or errors."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.max_frame = DEFAULT_MAX_FRAME
        self._next_id = 0

    def prepare(self, service: str, operation: str, params: Mapping[str, Any]) -> _Prepared:
        op = find_operation(service, operation)
        self._next_id += 1
        frame = pack_request(self._next_id, service, op.name, dict(params))
        if len(frame) - 4 > self.max_frame:
            raise RequestEntityTooLarge(
                f"The request is {len(frame) - 4} bytes; the maximum is {self.max_frame}."
            )
        wait = params.get("WaitTimeSeconds")
        timeout = self.timeout + (wait if type(wait) is int and wait > 0 else 0)
        return _Prepared(op, self._next_id, frame, timeout)

    def typed(self, request: object) -> tuple[str, str, dict[str, Any]]:
        service, op = operation_of(request)
        return service, op.name, render_request(op, request)

    @staticmethod
    def outcome(op: Operation, answer: Result | Error) -> object | None:
        if type(answer) is Error:
            raise error_from(answer.code, answer.message, answer.query_code)
        assert type(answer) is Result
        return bind_result(op, answer.result)


def _batch_entries(bodies: Sequence[str | Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"Id": str(i), "MessageBody": entry} if isinstance(entry, str) else dict(entry)
        for i, entry in enumerate(bodies)
    ]


def _delete_entries(messages: Sequence[str | api.Message | Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(messages):
        if isinstance(item, str):
            out.append({"Id": str(i), "ReceiptHandle": item})
        elif isinstance(item, api.Message):
            out.append({"Id": str(i), "ReceiptHandle": item.receipt_handle})
        else:
            out.append(dict(item))
    return out


def _receive_params(
    max_messages: int, wait_time_seconds: int | None, extra: dict[str, Any]
) -> dict[str, Any]:
    params = {"MaxNumberOfMessages": max_messages, **extra}
    if wait_time_seconds is not None:
        params["WaitTimeSeconds"] = wait_time_seconds
    return params


# -- asyncio ---------------------------------------------------------------------------------


class _AsyncConnection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.decoder = FrameDecoder()
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, asyncio.Future[Result | Error]] = {}
        self.welcome: asyncio.Future[Welcome] = loop.create_future()
        self.closed = False
        self.reason = "connection closed"
        self._drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        decoder = self.decoder
        decoder.receive_data(data)
        while True:
            try:
                event = decoder.next_event()
            except FrameTooLarge as error:
                self._abort(str(error))
                return
            if type(event) is NeedData:
                return
            if type(event) is Result or (type(event) is Error and event.id is not None):
                future = self.pending.pop(event.id, None)  # type: ignore[arg-type]
                if future is not None and not future.done():
                    future.set_result(event)
            elif type(event) is Welcome:
                if not self.welcome.done():
                    self.welcome.set_result(event)
            elif type(event) is Error:
                self.reason = f"{event.code}: {event.message}"
                if not self.welcome.done():
                    self.welcome.set_exception(error_from(event.code, event.message, event.query_code))
            elif type(event) is Malformed:
                self._abort(f"malformed frame from the server: {event.reason}")
                return

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if exc is not None:
            self.reason = str(exc) or type(exc).__name__
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(self.reason))
        self.pending.clear()
        if not self.welcome.done():
            self.welcome.set_exception(ConnectionLost(self.reason, sent=False))
        self.resume_writing()

    def pause_writing(self) -> None:
        self._drained = self.loop.create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    async def send(self, frame: bytes) -> None:
        while self._drained is not None and not self.closed:
            await self._drained
        if self.closed or self.transport is None:
            raise ConnectionLost(self.reason, sent=False)
        self.transport.write(frame)

    def _abort(self, reason: str) -> None:
        self.reason = reason
        if self.transport is not None:
            self.transport.abort()


class _Settings:
    """Where and how both clients connect (their shared constructor)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        unix_socket: str | None = None,
        account_id: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        retries: int = 2,
        client_name: str = CLIENT_NAME,
    ) -> None:
        self.host, self.port, self.unix_socket = host, port, unix_socket
        self.account_id = account_id
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.client_name = client_name
        self._calls = _Calls(timeout)
        self._setup()

    def _setup(self) -> None:
        """The connection state of the concrete client."""


class AsyncClient(_Settings):
    """An asyncio client of the binary protocol (see the module docstring)."""

    def _setup(self) -> None:
        self._conn: _AsyncConnection | None = None
        self._connecting: asyncio.Future[_AsyncConnection] | None = None

    async def __aenter__(self) -> AsyncClient:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect now (calls connect on demand anyway)."""
        await self._connection()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and conn.transport is not None:
            conn.transport.close()

    async def _connection(self) -> _AsyncConnection:
        conn = self._conn
        if conn is not None and not conn.closed:
            return conn
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
        connecting = self._connecting
        try:
            return await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None

    async def _open(self) -> _AsyncConnection:
        loop = asyncio.get_running_loop()

        async def open_and_greet() -> _AsyncConnection:
            conn = _AsyncConnection(loop)
            if self.unix_socket is not None:
                await loop.create_unix_connection(lambda: conn, self.unix_socket)
            else:
                await loop.create_connection(lambda: conn, self.host, self.port)
            await conn.send(pack_hello(self.client_name, self.account_id))
            welcome = await conn.welcome
            self._calls.max_frame = welcome.max_frame
            return conn

        try:
            conn = await asyncio.wait_for(open_and_greet(), self.connect_timeout)
        except (OSError, TimeoutError) as error:
            raise ConnectionLost(f"cannot connect: {error}", sent=False) from error
        self._conn = conn
        return conn

    async def _send(self, service: str, operation: str, params: Mapping[str, Any]) -> object | None:
        prepared = self._calls.prepare(service, operation, params)
        attempt = 0
        while True:
            try:
                conn = await self._connection()
                future: asyncio.Future[Result | Error] = conn.loop.create_future()
                conn.pending[prepared.id] = future
                try:
                    await conn.send(prepared.frame)
                    answer = await asyncio.wait_for(future, prepared.timeout)
                finally:
                    conn.pending.pop(prepared.id, None)
            except ConnectionLost as lost:
                attempt += 1
                retry = not lost.sent or prepared.op.name in IDEMPOTENT
                if not retry or attempt > self.retries:
                    raise
                if not lost.sent:
                    await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
                continue
            return self._calls.outcome(prepared.op, answer)

    async def call(self, operation: str, /, service: str = "sqs", **params: Any) -> Any:
        """Any operation by AWS name and AWS member names: ``await c.call("GetQueueUrl", QueueName="q")``."""
        return await self._send(service, operation, params)

    async def execute(self, request: object) -> Any:
        """A typed request (``api.SendMessage(queue_url=..., message_body=...)``) -> its typed result."""
        return await self._send(*self._calls.typed(request))

    async def send_message(self, queue_url: str, body: str, **params: Any) -> api.SendMessageResult:
        result = await self._send(
            "sqs", "SendMessage", {"QueueUrl": queue_url, "MessageBody": body, **params}
        )
        return cast(api.SendMessageResult, result)

    async def send_message_batch(
        self, queue_url: str, entries: Sequence[str | Mapping[str, Any]]
    ) -> api.SendMessageBatchResult:
        """Bodies (ids "0", "1"...) or entries with AWS member names."""
        params = {"QueueUrl": queue_url, "Entries": _batch_entries(entries)}
        return cast(api.SendMessageBatchResult, await self._send("sqs", "SendMessageBatch", params))

    async def receive_message(
        self, queue_url: str, max_messages: int = 10, wait_time_seconds: int | None = None, **params: Any
    ) -> list[api.Message]:
        """The messages received (none: an empty list)."""
        full = {"QueueUrl": queue_url, **_receive_params(max_messages, wait_time_seconds, params)}
        result = cast(api.ReceiveMessageResult | None, await self._send("sqs", "ReceiveMessage", full))
        return list(result.messages or []) if result is not None else []

    async def delete_message_batch(
        self, queue_url: str, messages: Sequence[str | api.Message | Mapping[str, Any]]
    ) -> api.DeleteMessageBatchResult:
        """Receipt handles, received messages, or entries with AWS member names."""
        params = {"QueueUrl": queue_url, "Entries": _delete_entries(messages)}
        return cast(api.DeleteMessageBatchResult, await self._send("sqs", "DeleteMessageBatch", params))


# -- blocking --------------------------------------------------------------------------------


class Client(_Settings):
    """A blocking client of the binary protocol (see the module docstring)."""

    def _setup(self) -> None:
        self._sock: socket.socket | None = None
        self._decoder = FrameDecoder()
        self._answers: dict[int, Result | Error] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Client:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> None:
        with self._lock:
            self._socket()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        self._answers.clear()

    def _socket(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        try:
            if self.unix_socket is not None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.connect_timeout)
                sock.connect(self.unix_socket)
            else:
                sock = socket.create_connection((self.host, self.port), self.connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as error:
            raise ConnectionLost(f"cannot connect: {error}", sent=False) from error
        self._sock = sock
        self._decoder = FrameDecoder()
        self._welcome = None
        try:
            sock.sendall(pack_hello(self.client_name, self.account_id))
            welcome = self._read_until(lambda: self._welcome, time.monotonic() + self.connect_timeout)
        except ConnectionLost as lost:
            lost.sent = False
            raise
        self._calls.max_frame = welcome.max_frame
        return sock

    _welcome: Welcome | None = None

    def _read_until(self, ready: Any, deadline: float) -> Any:
        """Read frames until ``ready()`` is not None; raises ConnectionLost/TimeoutError."""
        sock = self._sock
        assert sock is not None
        while (found := ready()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                self._drop()  # answers still due would come back on a connection nobody reads in order
                raise TimeoutError("no answer from the server in time")
            sock.settimeout(left)
            try:
                data = sock.recv(_READ_SIZE)
            except TimeoutError:
                continue
            except OSError as error:
                self._drop()
                raise ConnectionLost(str(error)) from error
            if not data:
                self._drop()
                raise ConnectionLost("the server closed the connection")
            self._feed(data)
        return found

    def _feed(self, data: bytes) -> None:
        decoder = self._decoder
        decoder.receive_data(data)
        while True:
            try:
                event = decoder.next_event()
            except FrameTooLarge as error:
                self._drop()
                raise ConnectionLost(str(error)) from error
            if type(event) is NeedData:
                return
            if type(event) is Result or (type(event) is Error and event.id is not None):
                self._answers[event.id] = event  # type: ignore[index]
            elif type(event) is Welcome:
                self._welcome = event
            elif type(event) is Error:
                reason = error_from(event.code, event.message, event.query_code)
                self._drop()
                if self._welcome is None:
                    raise reason
                raise ConnectionLost(f"{event.code}: {event.message}")
            elif type(event) is Malformed:
                self._drop()
                raise ConnectionLost(f"malformed frame from the server: {event.reason}")

    def _run(self, prepared: Sequence[_Prepared]) -> list[Result | Error]:
        """Write every request, then read their answers (one attempt)."""
        sock = self._socket()
        try:
            sock.sendall(b"".join(p.frame for p in prepared))
        except OSError as error:
            self._drop()
            raise ConnectionLost(str(error)) from error
        deadline = time.monotonic() + max(p.timeout for p in prepared)
        answers = self._answers
        return [self._read_until(lambda id=p.id: answers.pop(id, None), deadline) for p in prepared]

    def _attempts(self, prepared: Sequence[_Prepared]) -> list[Result | Error]:
        attempt = 0
        while True:
            try:
                with self._lock:
                    return self._run(prepared)
            except ConnectionLost as lost:
                attempt += 1
                retry = not lost.sent or all(p.op.name in IDEMPOTENT for p in prepared)
                if not retry or attempt > self.retries:
                    raise
                if not lost.sent:
                    time.sleep(min(0.05 * 2**attempt, 1.0))

    def _send(self, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        prepared = self._calls.prepare(service, operation, params)
        (answer,) = self._attempts([prepared])
        return self._calls.outcome(prepared.op, answer)

    def call(self, operation: str, /, service: str = "sqs", **params: Any) -> Any:
        """Any operation by AWS name, with AWS member names: ``c.call("GetQueueUrl", QueueName="q")``."""
        return self._send(service, operation, params)

    def execute(self, request: object) -> Any:
        """A typed request (``api.SendMessage(queue_url=..., message_body=...)``) -> its typed result."""
        return self._send(*self._calls.typed(request))

    def call_many(
        self, calls: Iterable[tuple[str, Mapping[str, Any]]], service: str = "sqs"
    ) -> list[object | ShoalError]:
        """Pipeline ``(operation, params)`` calls on the connection: results or errors, in order."""
        prepared = [self._calls.prepare(service, operation, params) for operation, params in calls]
        if not prepared:
            return []
        out: list[object | ShoalError] = []
        for p, answer in zip(prepared, self._attempts(prepared), strict=True):
            try:
                out.append(self._calls.outcome(p.op, answer))
            except ShoalError as error:
                out.append(error)
        return out

    def send_message(self, queue_url: str, body: str, **params: Any) -> api.SendMessageResult:
        result = self._send("sqs", "SendMessage", {"QueueUrl": queue_url, "MessageBody": body, **params})
        return cast(api.SendMessageResult, result)

    def send_message_batch(
        self, queue_url: str, entries: Sequence[str | Mapping[str, Any]]
    ) -> api.SendMessageBatchResult:
        """Bodies (ids "0", "1"...) or entries with AWS member names."""
        params = {"QueueUrl": queue_url, "Entries": _batch_entries(entries)}
        return cast(api.SendMessageBatchResult, self._send("sqs", "SendMessageBatch", params))

    def receive_message(
        self, queue_url: str, max_messages: int = 10, wait_time_seconds: int | None = None, **params: Any
    ) -> list[api.Message]:
        """The messages received (none: an empty list)."""
        full = {"QueueUrl": queue_url, **_receive_params(max_messages, wait_time_seconds, params)}
        result = cast(api.ReceiveMessageResult | None, self._send("sqs", "ReceiveMessage", full))
        return list(result.messages or []) if result is not None else []

    def delete_message_batch(
        self, queue_url: str, messages: Sequence[str | api.Message | Mapping[str, Any]]
    ) -> api.DeleteMessageBatchResult:
        """Receipt handles, received messages, or entries with AWS member names."""
        params = {"QueueUrl": queue_url, "Entries": _delete_entries(messages)}
        return cast(api.DeleteMessageBatchResult, self._send("sqs", "DeleteMessageBatch", params))
