"""The application edge: one complete HTTP request in, one reply out.

Strategy: Shoal's own routes (``/_shoal/health``, ``/metrics``) are looked up
first in a small table; everything else goes through the codecs:
``router.codec_for`` picks the wire format, ``router.context_for`` says who
asks, ``codec.decode`` yields a typed call, ``broker.dispatch`` runs it and the
codec renders the result or the :class:`~broker.errors.ShoalError`.  There is
no per-action code here.

This is the one place where ``except Exception`` is allowed: an unexpected
error is logged with its traceback and answered as ``InternalFailure`` in the
caller's protocol, so the server never dies of a request.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from importlib import metadata
from typing import Protocol

import orjson

from broker.context import RequestContext
from broker.errors import InternalFailure, ShoalError
from broker.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from broker.metrics import Metrics
from protocol.wire import Codec, HttpRequest, Reply

log = logging.getLogger("shoal.app")

HEALTH_PATH = "/_shoal/health"
METRICS_PATH = "/metrics"
UNKNOWN = "unknown"


class Router(Protocol):
    """How requests find their codec and context (``protocol.router`` implements it)."""

    def codec_for(self, http: HttpRequest) -> Codec: ...

    def context_for(
        self, http: HttpRequest, *, default_account: str, default_region: str, request_id: str
    ) -> RequestContext: ...


class Dispatcher(Protocol):
    """The part of :class:`broker.core.Broker` the edge calls."""

    def dispatch(self, service: str, request: object, ctx: RequestContext) -> Awaitable[object | None]: ...


class RequestIds:
    """UUID-shaped request ids: a random per-process prefix and a counter.

    Unique within a process and, with overwhelming probability, across
    restarts; about ten times cheaper than ``str(uuid.uuid4())`` per request.
    """

    def __init__(self) -> None:
        self._prefix = str(uuid.uuid4())[:24]  # 8-4-4-4- of a random UUID
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


def shoal_version() -> str:
    try:
        return metadata.version("shoal")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _fallback_error(error: ShoalError, request_id: str) -> Reply:
    """For an error raised before any codec was chosen: AWS's fields, as plain JSON."""
    body = orjson.dumps({"__type": error.code, "message": error.message})
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    return Reply(error.status, headers, body)


class HttpApp:
    """Turns HTTP requests into broker calls and their results into replies."""

    def __init__(
        self,
        broker: Dispatcher,
        router: Router,
        metrics: Metrics,
        *,
        default_account: str,
        default_region: str,
        services: tuple[str, ...] = ("sqs",),
        own_routes: Mapping[str, Callable[[], Reply]] | None = None,
    ) -> None:
        self._broker = broker
        self._router = router
        self._metrics = metrics
        self._default_account = default_account
        self._default_region = default_region
        self._ids = RequestIds()
        health = {
            "status": "running",
            "version": shoal_version(),
            "services": dict.fromkeys(services, "running"),
        }
        self._health = Reply(200, [("Content-Type", "application/json")], orjson.dumps(health))
        self._routes: dict[str, Callable[[], Reply]] = {
            HEALTH_PATH: lambda: self._health,
            METRICS_PATH: self._render_metrics,
            **(own_routes or {}),
        }

    async def handle(self, http: HttpRequest) -> Reply:
        """Answer one request; never raises (except ``CancelledError``)."""
        route = self._routes.get(http.path)
        if route is not None and http.method in ("GET", "HEAD"):
            return self._own_route(route)
        started = time.perf_counter()
        request_id = self._ids.next()
        service = action = UNKNOWN
        codec: Codec | None = None
        ctx: RequestContext | None = None
        error_code: str | None = None
        try:
            codec = self._router.codec_for(http)
            ctx = self._router.context_for(
                http,
                default_account=self._default_account,
                default_region=self._default_region,
                request_id=request_id,
            )
            call = codec.decode(http, ctx)
            service, action = call.service, call.action
            result = await self._broker.dispatch(call.service, call.request, call.ctx)
            reply = codec.encode_result(call, result)
        except ShoalError as error:
            error_code = error.code
            reply = self._error(error, codec, ctx, request_id)
        except Exception:
            log.exception("unexpected error in %s %s (request %s)", service, action, request_id)
            error_code = InternalFailure.code
            reply = self._error(InternalFailure(), codec, ctx, request_id)
        self._metrics.observe_request(service, action, time.perf_counter() - started, error_code)
        return reply

    def reject(self, http: HttpRequest, error: ShoalError) -> Reply:
        """Render ``error`` for a request refused before its body was read (e.g. too large)."""
        request_id = self._ids.next()
        codec: Codec | None = None
        ctx: RequestContext | None = None
        try:
            codec = self._router.codec_for(http)
            ctx = self._router.context_for(
                http,
                default_account=self._default_account,
                default_region=self._default_region,
                request_id=request_id,
            )
        except ShoalError:
            pass  # the refusal is the answer; which codec would have said it is secondary
        self._metrics.observe_request(UNKNOWN, UNKNOWN, 0.0, error.code)
        return self._error(error, codec, ctx, request_id)

    def _error(
        self, error: ShoalError, codec: Codec | None, ctx: RequestContext | None, request_id: str
    ) -> Reply:
        if codec is None:
            return _fallback_error(error, request_id)
        if ctx is None:
            ctx = RequestContext(
                account_id=self._default_account, region=self._default_region, request_id=request_id
            )
        return codec.encode_error(error, ctx)

    def _own_route(self, route: Callable[[], Reply]) -> Reply:
        try:
            return route()
        except Exception:
            log.exception("Shoal route failed")
            return Reply(500, [("Content-Type", "text/plain; charset=utf-8")], b"Internal Server Error\n")

    def _render_metrics(self) -> Reply:
        return Reply(200, [("Content-Type", METRICS_CONTENT_TYPE)], self._metrics.render())
