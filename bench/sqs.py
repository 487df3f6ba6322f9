"""SQS over AWS JSON 1.0, as pre-encoded HTTP requests.

Rules: requests are ``POST /`` with ``X-Amz-Target: AmazonSQS.<Action>`` and a
JSON body, the protocol current AWS SDKs speak.  They carry SigV4-*shaped*
``Authorization`` and ``X-Amz-Date`` headers with signature ``0``: enough for
servers that ignore signatures (Shoal by default, LocalStack, ElasticMQ), not
for AWS itself.  Errors are read from the JSON ``__type`` (``com.amazonaws.sqs#
QueueDoesNotExist`` -> ``QueueDoesNotExist``), else from the query-compatible
``x-amzn-query-error`` header, else reported as ``HTTP <status>``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

from bench.http11 import Connection, Response


class SqsError(Exception):
    """An SQS error answer (or transport failure) identified by its code."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    tls: bool
    host_header: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint must be http://host[:port] or https://host[:port], got {url!r}")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        return cls(parts.hostname, port, tls, parts.netloc)


class Dialect(Protocol):
    """A wire protocol: JSON-shaped params to request bytes, answers back to JSON-shaped dicts."""

    def request(self, action: str, params: dict[str, Any]) -> bytes: ...

    def decode(self, action: str, response: Response) -> dict[str, Any]: ...

    def error_code(self, response: Response) -> str: ...


class Signer:
    """Builds AWS JSON 1.0 request bytes for one endpoint, region and access key."""

    def __init__(self, endpoint: Endpoint, region: str, access_key_id: str) -> None:
        now = time.gmtime()
        self._prefix = (
            "POST / HTTP/1.1\r\n"
            f"Host: {endpoint.host_header}\r\n"
            "Content-Type: application/x-amz-json-1.0\r\n"
            f"X-Amz-Date: {time.strftime('%Y%m%dT%H%M%SZ', now)}\r\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential={access_key_id}/{time.strftime('%Y%m%d', now)}/"
            f"{region}/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n"
        ).encode()

    def request(self, action: str, params: dict[str, Any]) -> bytes:
        body = orjson.dumps(params)
        return b"".join(
            (
                self._prefix,
                f"X-Amz-Target: AmazonSQS.{action}\r\nContent-Length: {len(body)}\r\n\r\n".encode(),
                body,
            )
        )

    def decode(self, action: str, response: Response) -> dict[str, Any]:
        return decode(response)

    def error_code(self, response: Response) -> str:
        return error_code(response)


def error_code(response: Response) -> str:
    try:
        payload = orjson.loads(response.body) if response.body else None
    except orjson.JSONDecodeError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("__type"), str):
        return str(payload["__type"]).rpartition("#")[2]
    header = response.headers.get("x-amzn-query-error")
    if header:
        return header.partition(";")[0]
    return f"HTTP {response.status}"


def decode(response: Response) -> dict[str, Any]:
    """The JSON result of a 2xx response; raises SqsError otherwise."""
    if not 200 <= response.status < 300:
        raise SqsError(error_code(response))
    if not response.body:
        return {}
    result = orjson.loads(response.body)
    if not isinstance(result, dict):
        raise SqsError("BadResponse", "result is not a JSON object")
    return result


async def call(conn: Connection, signer: Dialect, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """One unmeasured request (setup, prefill)."""
    return signer.decode(action, await conn.request(signer.request(action, params)))
