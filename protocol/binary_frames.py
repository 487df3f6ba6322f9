"""Frames of the binary protocol (``protocol/PROTOCOL.md``): bytes in, frames out, and back.

Rules: sans-IO, like h11.  :class:`FrameDecoder` takes whatever bytes arrived
(``receive_data``) and hands out one event at a time (``next_event``): a frame,
:data:`NEED_DATA` while the next frame is incomplete (partial input is a value,
not an exception), or :class:`Malformed` for a frame whose length prefix was
fine but whose body is not a valid frame (the framing is intact, so the peer
answers an error and carries on).  Only a length over the maximum is fatal:
:class:`FrameTooLarge` is raised and the decoder is unusable afterwards, since
where the next frame starts is no longer trustworthy.

Frames are msgpack arrays whose first element is the type; each type has one
reader in ``_READERS`` (a table, not an ``if`` chain) that checks element
types and builds a frozen dataclass.  Readers never see invalid msgpack: the
body is unpacked first, with ``strict_map_key`` (map keys are strings) and no
extension types accepted where a value is expected.  Encoders are plain
functions returning the whole frame (prefix included); the hot ones
(:func:`pack_result`, :func:`pack_error`, :func:`pack_request`) take the
parts, not a dataclass, so the server does not build objects just to pack them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import msgpack

from broker.errors import ShoalError

VERSION: Final = 1
DEFAULT_MAX_FRAME: Final = 16 * 1024 * 1024
PREFIX: Final = 4
_COMPACT_AT = 64 * 1024  # consumed bytes kept at the buffer's head before it is compacted


class FrameType(enum.IntEnum):
    HELLO = 1
    WELCOME = 2
    REQUEST = 3
    RESULT = 4
    ERROR = 5
    PING = 6
    PONG = 7
    CHALLENGE = 8


class NeedData(enum.Enum):
    """The next frame is not complete yet: feed more bytes."""

    NEED_DATA = "NEED_DATA"


NEED_DATA: Final = NeedData.NEED_DATA


class ProtocolError(Exception):
    """The byte stream cannot go on (framing lost); close the connection."""


class FrameTooLarge(ProtocolError):
    """A length prefix over the maximum frame size."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"frame of {length} bytes is over the maximum of {limit}")
        self.length = length
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Hello:
    version: int
    client_name: str
    account_id: str | None = None
    auth: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Welcome:
    version: int
    server_name: str
    max_frame: int
    max_in_flight: int


@dataclass(slots=True)
class Request:
    id: int
    service: str
    operation: str
    params: dict[str, Any]


@dataclass(slots=True)
class Result:
    id: int
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Error:
    id: int | None
    code: str
    query_code: str
    message: str
    sender_fault: bool


@dataclass(frozen=True, slots=True)
class Ping:
    id: int


@dataclass(frozen=True, slots=True)
class Pong:
    id: int


@dataclass(frozen=True, slots=True)
class Challenge:
    nonce: bytes


@dataclass(frozen=True, slots=True)
class Malformed:
    """A frame with a sound length prefix but a body that is not a valid frame."""

    id: int | None
    reason: str


Frame = Hello | Welcome | Request | Result | Error | Ping | Pong | Challenge
Event = Frame | Malformed | NeedData


class _Bad(Exception):
    def __init__(self, reason: str, id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.id = id


def _uint(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise _Bad(f"{what} must be an unsigned integer")
    return value


def _str(value: object, what: str, id: int | None = None) -> str:
    if type(value) is not str:
        raise _Bad(f"{what} must be a string", id)
    return value


def _read_hello(body: list[Any]) -> Hello:
    if len(body) < 3:
        raise _Bad("HELLO needs version and client name")
    account, auth = (body[3] if len(body) > 3 else None), (body[4] if len(body) > 4 else None)
    if account is not None and type(account) is not str:
        raise _Bad("HELLO account id must be a string or nil")
    if auth is not None and type(auth) is not dict:
        raise _Bad("HELLO auth must be a map or nil")
    return Hello(_uint(body[1], "version"), _str(body[2], "client name"), account, auth)


def _read_welcome(body: list[Any]) -> Welcome:
    if len(body) < 5:
        raise _Bad("WELCOME needs version, server name, max frame and max in flight")
    return Welcome(
        _uint(body[1], "version"),
        _str(body[2], "server name"),
        _uint(body[3], "max frame"),
        _uint(body[4], "max in flight"),
    )


def _read_request(body: list[Any]) -> Request:
    if len(body) < 5:
        raise _Bad("REQUEST needs id, service, operation and params")
    id = _uint(body[1], "request id")
    params = body[4]
    if type(params) is not dict:
        raise _Bad("REQUEST params must be a map", id)
    return Request(id, _str(body[2], "service", id), _str(body[3], "operation", id), params)


def _read_result(body: list[Any]) -> Result:
    if len(body) < 3:
        raise _Bad("RESULT needs id and result")
    id = _uint(body[1], "request id")
    if type(body[2]) is not dict:
        raise _Bad("RESULT result must be a map", id)
    return Result(id, body[2])


def _read_error(body: list[Any]) -> Error:
    if len(body) < 6:
        raise _Bad("ERROR needs id, code, query code, message and sender fault")
    id = None if body[1] is None else _uint(body[1], "request id")
    if type(body[5]) is not bool:
        raise _Bad("ERROR sender fault must be a boolean", id)
    return Error(
        id, _str(body[2], "code", id), _str(body[3], "query code", id), _str(body[4], "message", id), body[5]
    )


def _read_ping(body: list[Any]) -> Ping:
    if len(body) < 2:
        raise _Bad("PING needs an id")
    return Ping(_uint(body[1], "ping id"))


def _read_pong(body: list[Any]) -> Pong:
    if len(body) < 2:
        raise _Bad("PONG needs an id")
    return Pong(_uint(body[1], "ping id"))


def _read_challenge(body: list[Any]) -> Challenge:
    if len(body) < 2 or type(body[1]) is not bytes:
        raise _Bad("CHALLENGE needs a binary nonce")
    return Challenge(body[1])


_READERS: dict[int, Callable[[list[Any]], Frame]] = {
    FrameType.HELLO: _read_hello,
    FrameType.WELCOME: _read_welcome,
    FrameType.REQUEST: _read_request,
    FrameType.RESULT: _read_result,
    FrameType.ERROR: _read_error,
    FrameType.PING: _read_ping,
    FrameType.PONG: _read_pong,
    FrameType.CHALLENGE: _read_challenge,
}


def _no_ext(code: int, data: bytes) -> object:
    raise _Bad("msgpack extension types are not used")


def parse_body(body: bytes) -> Frame | Malformed:
    """One frame body (without its length prefix) as a frame, or why it is not one."""
    try:
        value = msgpack.unpackb(body, raw=False, strict_map_key=True, ext_hook=_no_ext)
    except _Bad as bad:
        return Malformed(None, bad.reason)
    except ValueError as error:  # msgpack's errors (and bad UTF-8) are all ValueErrors
        return Malformed(None, f"not a msgpack value: {error}")
    if type(value) is not list or not value:
        return Malformed(None, "a frame is a non-empty msgpack array")
    reader = _READERS.get(value[0]) if type(value[0]) is int else None
    if reader is None:
        return Malformed(None, f"unknown frame type {value[0]!r}")
    try:
        return reader(value)
    except _Bad as bad:
        return Malformed(bad.id, bad.reason)


class FrameDecoder:
    """Length-prefixed frames out of a byte stream, fed in arbitrary pieces."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._pos = 0
        self._broken: FrameTooLarge | None = None

    @property
    def buffered(self) -> int:
        """Bytes received and not yet handed out as frames (a partial frame at EOF)."""
        return len(self._buf) - self._pos

    def receive_data(self, data: bytes) -> None:
        buf = self._buf
        if self._pos:
            if self._pos == len(buf):
                buf.clear()
                self._pos = 0
            elif self._pos >= _COMPACT_AT:
                del buf[: self._pos]
                self._pos = 0
        buf += data

    def next_event(self) -> Frame | Malformed | NeedData:
        """The next frame, :data:`NEED_DATA`, or :class:`Malformed`; raises :class:`FrameTooLarge`."""
        if self._broken is not None:
            raise self._broken
        buf, pos = self._buf, self._pos
        available = len(buf) - pos
        if available < PREFIX:
            return NEED_DATA
        length = int.from_bytes(buf[pos : pos + PREFIX], "big")
        if length > self.max_frame:
            self._broken = FrameTooLarge(length, self.max_frame)
            raise self._broken
        end = pos + PREFIX + length
        if end > len(buf):
            return NEED_DATA
        self._pos = end
        if length == 0:
            return Malformed(None, "empty frame")
        return parse_body(bytes(buf[pos + PREFIX : end]))


# -- encoders --------------------------------------------------------------------------------


def frame(body: list[Any]) -> bytes:
    """A frame (length prefix and msgpack body) of an already-built body array."""
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return len(packed).to_bytes(PREFIX, "big") + packed


def pack_hello(client_name: str, account_id: str | None = None, auth: dict[str, Any] | None = None) -> bytes:
    return frame([FrameType.HELLO, VERSION, client_name, account_id, auth])


def pack_welcome(server_name: str, max_frame: int, max_in_flight: int) -> bytes:
    return frame([FrameType.WELCOME, VERSION, server_name, max_frame, max_in_flight])


def pack_request(id: int, service: str, operation: str, params: dict[str, Any]) -> bytes:
    return frame([FrameType.REQUEST, id, service, operation, params])


def pack_result(id: int, result: dict[str, Any]) -> bytes:
    return frame([FrameType.RESULT, id, result])


def pack_error(id: int | None, error: ShoalError) -> bytes:
    return frame([FrameType.ERROR, id, error.code, error.query_code, error.message, error.sender_fault])


def pack_ping(id: int) -> bytes:
    return frame([FrameType.PING, id])


def pack_pong(id: int) -> bytes:
    return frame([FrameType.PONG, id])


def encode(event: Frame) -> bytes:
    """Any frame dataclass as bytes (tests, tools; the hot paths call ``pack_*``)."""
    match event:
        case Hello():
            return frame([FrameType.HELLO, event.version, event.client_name, event.account_id, event.auth])
        case Welcome():
            return frame(
                [FrameType.WELCOME, event.version, event.server_name, event.max_frame, event.max_in_flight]
            )
        case Request():
            return pack_request(event.id, event.service, event.operation, event.params)
        case Result():
            return pack_result(event.id, event.result)
        case Error():
            body = [event.code, event.query_code, event.message, event.sender_fault]
            return frame([FrameType.ERROR, event.id, *body])
        case Ping():
            return pack_ping(event.id)
        case Pong():
            return pack_pong(event.id)
        case Challenge():
            return frame([FrameType.CHALLENGE, event.nonce])
