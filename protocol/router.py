"""Pick the codec for a request, and build the request's context.

Rules: routing is two tables, read top to bottom, first match wins.
``TARGET_ROUTES`` matches ``X-Amz-Target`` prefixes (optionally also the
content type, so Kinesis can route ``application/x-amz-cbor-1.1`` and JSON 1.1
to different codecs under one prefix).  Requests without a target are Query:
the SigV4 credential scope's service (``.../<region>/<service>/aws4_request``,
from the ``Authorization`` header or a presigned ``X-Amz-Credential``) selects a
row of ``QUERY_SERVICES``; an unsigned request falls back on
``QUERY_ACTIONS`` (action name to service, for actions only one service has)
and then on SQS Query, whose codec answers missing or unknown actions.  An
unknown target prefix goes to the SQS JSON codec, which answers
``UnknownOperationException``.  Adding SNS or Kinesis is adding rows.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from broker.context import RequestContext
from protocol import sns_query, sqs_json, sqs_query
from protocol.wire import Codec, HttpRequest


@dataclass(frozen=True, slots=True)
class TargetRoute:
    """``X-Amz-Target`` values starting with ``prefix`` (and this content type, if set)."""

    prefix: str
    codec: Codec
    content_type: str | None = None


TARGET_ROUTES: tuple[TargetRoute, ...] = (TargetRoute(sqs_json.TARGET_PREFIX, sqs_json.CODEC),)
QUERY_SERVICES: dict[str, Codec] = {"sqs": sqs_query.CODEC, "sns": sns_query.CODEC}
QUERY_ACTIONS: dict[str, str] = dict.fromkeys(
    sorted(set(sns_query.CODEC.names.service.operations()) - set(sqs_query.CODEC.names.service.operations())),
    "sns",
)
"""Action name to service for unsigned Query requests: every action only SNS has
(``Publish``, ``CreateTopic``...); SQS's and SNS's shared names (``AddPermission``,
``RemovePermission``) stay SQS's unless the request is signed for ``sns``."""

DEFAULT_JSON: Codec = sqs_json.CODEC
DEFAULT_QUERY: Codec = sqs_query.CODEC

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
_ACTION = re.compile(r"(?:^|&)Action=([^&]*)")
_VERSION = re.compile(r"(?:^|&)Version=([^&]*)")
QUERY_VERSIONS: dict[str, str] = {"2010-03-31": "sns"}
"""API version to service, for an unsigned action both services have (SNS's ``AddPermission``)."""
_ACCOUNT = re.compile(r"\d{12}")


@dataclass(frozen=True, slots=True)
class Scope:
    """The SigV4 credential scope a request was signed with."""

    access_key_id: str
    date: str
    region: str
    service: str


def credential_scope(http: HttpRequest) -> Scope | None:
    """The SigV4 scope from ``Authorization`` or a presigned ``X-Amz-Credential``."""
    auth = http.headers.get("authorization", "")
    if auth.startswith("AWS4-HMAC-SHA256"):
        start = auth.find("Credential=")
        if start >= 0:
            end = auth.find(",", start)
            scope = _scope_of(auth[start : end if end >= 0 else len(auth)].strip())
            if scope is not None:
                return scope
    credential = _query_credential(http)
    return _scope_of("Credential=" + credential) if credential is not None else None


@functools.lru_cache(maxsize=1024)
def _scope_of(credential: str) -> Scope | None:
    """Parse ``Credential=AKID/date/region/service/aws4_request`` once per distinct value."""
    found = _CREDENTIAL.fullmatch(credential)
    return Scope(*found.groups()) if found is not None else None


def _query_credential(http: HttpRequest) -> str | None:
    sources = []
    if "X-Amz-Credential" in http.query:
        sources.append(http.query)
    if b"X-Amz-Credential" in http.body:
        sources.append(http.body.decode("utf-8", "replace"))
    for source in sources:
        for key, value in parse_qsl(source, keep_blank_values=True):
            if key == "X-Amz-Credential":
                return value
    return None


def codec_for(http: HttpRequest) -> Codec:
    """The codec that understands ``http``."""
    target = http.headers.get("x-amz-target")
    if target is not None:
        content_type = http.headers.get("content-type", "").partition(";")[0].strip()
        for route in TARGET_ROUTES:
            if target.startswith(route.prefix) and route.content_type in (None, content_type):
                return route.codec
        return DEFAULT_JSON
    scope = credential_scope(http)
    if scope is not None and scope.service in QUERY_SERVICES:
        return QUERY_SERVICES[scope.service]
    if QUERY_ACTIONS:
        service = QUERY_ACTIONS.get(_action(http) or "")
        if service is not None:
            return QUERY_SERVICES[service]
    version = _VERSION.search(http.body.decode("utf-8", "replace")) or _VERSION.search(http.query)
    if version is not None and version.group(1) in QUERY_VERSIONS:
        return QUERY_SERVICES[QUERY_VERSIONS[version.group(1)]]
    return DEFAULT_QUERY


def _action(http: HttpRequest) -> str | None:
    for source in (http.body.decode("utf-8", "replace"), http.query):
        found = _ACTION.search(source)
        if found:
            return found.group(1)
    return None


def context_for(
    http: HttpRequest, *, default_account: str, default_region: str, request_id: str
) -> RequestContext:
    """Who asks and where: account and region from the SigV4 scope, host from ``Host``."""
    account, region = default_account, default_region
    scope = credential_scope(http)
    if scope is not None:
        region = scope.region
        if _ACCOUNT.fullmatch(scope.access_key_id):
            account = scope.access_key_id
    host = http.headers.get("host")
    if not host:
        return RequestContext(account_id=account, region=region, request_id=request_id)
    return RequestContext(account_id=account, region=region, host=host, request_id=request_id)
