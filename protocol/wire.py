"""The contract between the HTTP server and the codecs.

The server parses HTTP (sockets, httptools) and hands each complete request to
:func:`protocol.router.codec_for` to pick a codec, then to that codec's
``decode``; it passes the typed request to the broker and the broker's result
(or :class:`broker.errors.ShoalError`) back to ``encode_result`` /
``encode_error``.  Codecs are sans-IO: bytes and headers in, :class:`Reply` out.

The per-request classes here are slotted but not ``frozen`` (a frozen
dataclass costs several times more to build, once per request); nothing
changes them after they are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from broker.context import RequestContext
from broker.errors import ShoalError


@dataclass(slots=True)
class HttpRequest:
    """A complete HTTP request as the server received it.

    ``headers`` has lower-case names; when a header repeats, the values are
    joined with ``", "``.  ``query`` is the raw query string (no ``?``).
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(slots=True)
class Reply:
    """An HTTP response to write: status, extra headers, body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(slots=True)
class Call:
    """A decoded request: which service and action, the typed request, who asks."""

    service: str
    action: str
    request: object
    ctx: RequestContext


class Codec(Protocol):
    """One wire format (SQS JSON 1.0, SQS Query, ...)."""

    name: str

    def decode(self, http: HttpRequest, ctx: RequestContext) -> Call:
        """Decode and validate; raise a ShoalError for bad input."""
        ...

    def encode_result(self, call: Call, result: object | None) -> Reply:
        """Render the broker's result (a dataclass of ``broker.sqs.api`` or None)."""
        ...

    def encode_error(self, error: ShoalError, ctx: RequestContext) -> Reply:
        """Render an error in this wire format."""
        ...
