"""SQS and SNS over the AWS Query protocol, as pre-encoded HTTP requests.

Rules: a request is ``POST /`` with a form-encoded body (``Action``,
``Version``, then the parameters flattened the way Query SDKs flatten them).
Parameters come in the same JSON-shaped dicts the JSON dialect takes, so the
scenarios don't know which protocol they speak; answers come back in the same
JSON shape too: :func:`parse_result` reads the ``<ActionResult>`` element and
turns the few list and map elements the bench reads into the JSON names
(``<Message>`` -> ``Messages``, ``<BatchResultErrorEntry>`` -> ``Failed``,
``<Attribute><Name/><Value/></Attribute>`` -> ``Attributes``).  Everything
else is a scalar child (text) or a nested element (dict).  Errors are read
from ``<Error><Code>``, else reported as ``HTTP <status>``.

The parse is minimal (it knows only what the bench reads) but real XML
(``xml.etree``), so entities, CDATA and namespaces are handled correctly.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

from bench.http11 import Response
from bench.sqs import Endpoint, SqsError

VERSIONS = {"sqs": "2012-11-05", "sns": "2010-03-31"}

# JSON list members to the Query prefix of their entries, per action.
_ENTRY_PREFIX = {
    "SendMessageBatch": "SendMessageBatchRequestEntry",
    "DeleteMessageBatch": "DeleteMessageBatchRequestEntry",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibilityBatchRequestEntry",
}
_LIST_PREFIX = {"AttributeNames": "AttributeName", "MessageAttributeNames": "MessageAttributeName"}

# Result elements that repeat, to the JSON list they make.
_REPEATED = {
    "Message": "Messages",
    "SendMessageBatchResultEntry": "Successful",
    "DeleteMessageBatchResultEntry": "Successful",
    "ChangeMessageVisibilityBatchResultEntry": "Successful",
    "BatchResultErrorEntry": "Failed",
    "QueueUrl": "QueueUrls",  # only in ListQueues, where QueueUrl repeats
}


def flatten(service: str, action: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """Query pairs for JSON-shaped ``params`` (the subset of shapes the bench sends)."""
    pairs = [("Action", action), ("Version", VERSIONS[service])]
    for name, value in params.items():
        if name == "Entries":
            prefix = _ENTRY_PREFIX[action]
            for n, entry in enumerate(value, 1):
                pairs.extend((f"{prefix}.{n}.{k}", _scalar(v)) for k, v in entry.items())
        elif name == "Attributes" and isinstance(value, dict):
            for n, (k, v) in enumerate(value.items(), 1):
                if service == "sns":
                    pairs += [(f"Attributes.entry.{n}.key", k), (f"Attributes.entry.{n}.value", _scalar(v))]
                else:
                    pairs += [(f"Attribute.{n}.Name", k), (f"Attribute.{n}.Value", _scalar(v))]
        elif name in _LIST_PREFIX:
            pairs.extend((f"{_LIST_PREFIX[name]}.{n}", _scalar(v)) for n, v in enumerate(value, 1))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs).encode()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _element(node: ET.Element) -> object:
    children = list(node)
    if not children:
        return node.text or ""
    out: dict[str, Any] = {}
    for child in children:
        name = _local(child.tag)
        if name == "Attribute" and child.find("./{*}Name") is not None:
            attrs = out.setdefault("Attributes", {})
            attrs[child.findtext("./{*}Name") or ""] = child.findtext("./{*}Value") or ""
        elif name in _REPEATED and (name != "QueueUrl" or _local(node.tag) == "ListQueuesResult"):
            out.setdefault(_REPEATED[name], []).append(_element(child))
        else:
            out[name] = _element(child)
    return out


def parse_result(action: str, body: bytes) -> dict[str, Any]:
    """The ``<{action}Result>`` of a Query answer in JSON shape; ``{}`` when it has none."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise SqsError("BadResponse", f"not XML: {exc}") from None
    result = root.find(f"./{{*}}{action}Result")
    if result is None:
        return {}
    parsed = _element(result)
    return parsed if isinstance(parsed, dict) else {}


def error_code(response: Response) -> str:
    """``<Error><Code>`` of an error answer, else ``HTTP <status>``."""
    try:
        root = ET.fromstring(response.body) if response.body else None
    except ET.ParseError:
        root = None
    code = root.findtext(".//{*}Error/{*}Code") if root is not None else None
    if code:
        return code
    header = response.headers.get("x-amzn-query-error")
    return header.partition(";")[0] if header else f"HTTP {response.status}"


class QuerySigner:
    """Builds Query request bytes for one endpoint, service, region and access key."""

    content_type = "application/x-www-form-urlencoded; charset=utf-8"

    def __init__(self, endpoint: Endpoint, region: str, access_key_id: str, service: str = "sqs") -> None:
        now = time.gmtime()
        self.service = service
        self._prefix = (
            "POST / HTTP/1.1\r\n"
            f"Host: {endpoint.host_header}\r\n"
            f"Content-Type: {self.content_type}\r\n"
            f"X-Amz-Date: {time.strftime('%Y%m%dT%H%M%SZ', now)}\r\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential={access_key_id}/{time.strftime('%Y%m%d', now)}/"
            f"{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n"
        ).encode()

    def request(self, action: str, params: dict[str, Any]) -> bytes:
        body = form(flatten(self.service, action, params))
        return b"".join((self._prefix, f"Content-Length: {len(body)}\r\n\r\n".encode(), body))

    def decode(self, action: str, response: Response) -> dict[str, Any]:
        """The result of a 2xx answer in JSON shape; raises SqsError otherwise."""
        if not 200 <= response.status < 300:
            raise SqsError(error_code(response))
        return parse_result(action, response.body) if response.body else {}

    def error_code(self, response: Response) -> str:
        return error_code(response)
