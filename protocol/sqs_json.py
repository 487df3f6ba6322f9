"""The SQS AWS JSON 1.0 codec (``X-Amz-Target: AmazonSQS.<Action>``).

Rules: the action comes from ``X-Amz-Target``; the body is one JSON object with
AWS member names, bound to the action's request class by :mod:`protocol.binder`
with strict JSON scalar types (blobs are base64 strings).  A body that is not
JSON, or a value of the wrong JSON type, is a ``SerializationException`` as AWS's
Coral front end answers; a missing required member is ``MissingParameter``; an
unknown target is ``UnknownOperationException``.  Results are rendered by a
writer compiled once per output shape (``getattr`` by field name, None omitted,
blobs base64).  SQS's JSON protocol is query-compatible: every error also
carries ``x-amzn-query-error: <query code>;<Sender|Receiver>``, which the SDKs
read for the error code; ``__type`` uses the fully qualified names AWS sends.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from broker.context import RequestContext
from broker.errors import MissingParameter, SerializationException, ShoalError, UnknownOperationException
from protocol.binder import BindError, Scalars, binder
from protocol.shapes import operation
from protocol.tree import TreeWriter
from protocol.wire import Call, HttpRequest, Reply

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "AmazonSQS."

_CORAL = "com.amazon.coral.service#"
_JSON_TYPES: dict[str, str] = {
    "InvalidParameterValue": _CORAL + "InvalidParameterValueException",
    "MissingParameter": _CORAL + "MissingRequiredParameterException",
    "AccessDenied": _CORAL + "AccessDeniedException",
    "SerializationException": _CORAL + "SerializationException",
    "UnknownOperationException": _CORAL + "UnknownOperationException",
    "InternalFailure": _CORAL + "InternalFailure",
}
"""``__type`` of the errors that AWS reports from its common (Coral) layer."""

_TYPE_NAMES = {
    "string": "a String",
    "integer": "an Integer",
    "boolean": "a Boolean",
    "blob": "a Blob",
    "list": "a List",
    "map": "a Map",
    "structure": "a Structure",
}


def _string(value: object) -> object:
    if type(value) is str:
        return value
    raise BindError("type", "string", value)


def _integer(value: object) -> object:
    if type(value) is int:
        return value
    raise BindError("type", "integer", value)


def _boolean(value: object) -> object:
    if type(value) is bool:
        return value
    raise BindError("type", "boolean", value)


def _blob(value: object) -> object:
    if type(value) is str:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise BindError("type", "blob", value, "Base64 encoded value expected") from None
    raise BindError("type", "blob", value)


SCALARS = Scalars("json", _string, _integer, _boolean, _blob)


def _conversion_message(error: BindError) -> str:
    if error.reason:
        return error.reason
    value = error.value
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected."
    token = {bool: "BOOLEAN_VALUE", str: "STRING_VALUE"}.get(type(value), "NUMBER_VALUE")
    return f"{token} can not be converted to {_TYPE_NAMES.get(error.expected, 'a ' + error.expected)}"


def bind_error(error: BindError) -> ShoalError:
    """The AWS error for a tree that does not fit the action's input shape."""
    if error.kind == "missing":
        return MissingParameter(f"The request must contain the parameter {error.where}.")
    return SerializationException(_conversion_message(error))


# -- result writers ---------------------------------------------------------------------------


def _b64(value: object) -> object:
    assert isinstance(value, bytes | bytearray | memoryview)
    return base64.b64encode(value).decode("ascii")


_TREES = TreeWriter(blob=_b64)


# -- the codec --------------------------------------------------------------------------------


class SqsJsonCodec:
    """AWS JSON 1.0 for SQS."""

    name = "sqs-json"
    service = "sqs"

    def decode(self, http: HttpRequest, ctx: RequestContext) -> Call:
        target = http.headers.get("x-amz-target", "")
        action = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
        op = operation(action) if action else None
        if op is None:
            raise UnknownOperationException()
        try:
            tree = orjson.loads(http.body)
        except orjson.JSONDecodeError:
            raise SerializationException() from None
        if type(tree) is not dict:
            raise SerializationException("Start of structure or map expected.")
        try:
            request = binder(op.input, SCALARS)(tree)
        except BindError as error:
            raise bind_error(error) from None
        return Call(self.service, op.name, request, ctx)

    def encode_result(self, call: Call, result: object | None) -> Reply:
        op = operation(call.action)
        body = b"{}"
        if op is not None and op.output is not None and result is not None:
            body = orjson.dumps(_TREES.write(op.output, result))
        return Reply(200, _headers(call.ctx), body)

    def encode_error(self, error: ShoalError, ctx: RequestContext) -> Reply:
        headers = _headers(ctx)
        headers.append(("x-amzn-query-error", f"{error.query_code};{error.fault}"))
        body = {"__type": json_type(error), "message": error.message}
        return Reply(error.status, headers, orjson.dumps(body))


def json_type(error: ShoalError) -> str:
    """The ``__type`` AWS sends for ``error`` in the JSON protocol."""
    return _JSON_TYPES.get(error.code) or f"com.amazonaws.sqs#{error.code}"


def _headers(ctx: RequestContext) -> list[tuple[str, str]]:
    return [("Content-Type", CONTENT_TYPE), ("x-amzn-RequestId", ctx.request_id)]


CODEC = SqsJsonCodec()
