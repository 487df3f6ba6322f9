"""The Query codec: form-encoded ``Action=...`` requests, XML responses, for any
service whose model and names it is given (one class, one instance per
service: :mod:`protocol.sqs_query`, :mod:`protocol.sns_query`).

Rules: parameters come from the query string and the form body together (the
body wins on a repeated name).  The flat names (``MessageAttribute.1.Value.
StringValue``) are split on dots into a trie once per request, then a reader
compiled per (service, shape) walks the trie by the service's Query wire names
(:mod:`protocol.query_names`: flattened ``Name.1`` or wrapped
``Name.member.1`` / ``Name.entry.1.key``) and yields the same member-keyed tree the JSON codec gets, which
:mod:`protocol.binder` binds with Query scalars (everything is a string:
integers and booleans are parsed, blobs are base64).  A member is looked up by
its wire name, then by its member name.  Older SDKs post to the queue URL
itself: when the action takes a ``QueueUrl`` and none is given, the request
path ``/<12-digit account>/<queue>`` supplies it.  Errors: no ``Action`` is
``MissingAction``, an unknown one ``InvalidAction``; a value that is not of its
type or a missing member is the service's own error (:data:`BindErrors`: SQS's
``InvalidParameterValue`` / ``MissingParameter``, SNS's ``ValidationError``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from botocore.model import ListShape, MapShape, Shape, StructureShape

from broker.context import RequestContext
from broker.errors import (
    InvalidAction,
    InvalidParameterValue,
    MalformedQueryString,
    MissingAction,
    MissingParameter,
    ShoalError,
)
from protocol.binder import BindError, Scalars, binder
from protocol.query_names import QueryNames
from protocol.wire import Call, HttpRequest, Reply
from protocol.xml_writer import escape, writer

CONTENT_TYPE = "text/xml"
_QUEUE_PATH = re.compile(r"/\d{12}/[^/]+")
_INTEGER = re.compile(r"[+-]?\d+")

Trie = dict[str, "Trie | str"]
Read = Callable[[object], object]


def parse_params(http: HttpRequest) -> list[tuple[str, str]]:
    """The request's parameters, query string first, then the form body."""
    try:
        pairs = parse_qsl(http.query, keep_blank_values=True, errors="strict") if http.query else []
        if http.body:
            pairs += parse_qsl(http.body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise MalformedQueryString() from None
    return pairs


def trie(pairs: list[tuple[str, str]]) -> Trie:
    """Split dotted names into nested dicts; a name that is also a prefix keeps its value under ``""``."""
    root: Trie = {}
    for key, value in pairs:
        node = root
        *parents, last = key.split(".")
        for part in parents:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif type(child) is str:
                child = node[part] = {"": child}
            node = child  # type: ignore[assignment]
        existing = node.get(last)
        if type(existing) is dict:
            existing[""] = value
        else:
            node[last] = value
    return root


# -- scalars ----------------------------------------------------------------------------------


def _string(value: object) -> object:
    return value


def _integer(value: object) -> object:
    if type(value) is str and _INTEGER.fullmatch(value):
        return int(value)
    raise BindError("type", "integer", value)


def _boolean(value: object) -> object:
    lowered = value.lower() if type(value) is str else ""
    if lowered in ("true", "false"):
        return lowered == "true"
    raise BindError("type", "boolean", value)


def _blob(value: object) -> object:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise BindError("type", "blob", value) from None


SCALARS = Scalars("query", _string, _integer, _boolean, _blob)
_REASONS = {"integer": "Must be an integer.", "boolean": "Must be a boolean.", "blob": "Must be base64."}


BindErrors = Callable[[BindError], ShoalError]
"""How a service words a request that does not fit the action's input shape."""


def bind_error(error: BindError) -> ShoalError:
    """The AWS error for parameters that do not fit the action's input shape."""
    if error.kind == "missing":
        return MissingParameter(f"The request must contain the parameter {error.where}.")
    reason = _REASONS.get(error.expected, f"Must be a {error.expected}.")
    message = f"Value {error.value} for parameter {error.where} is invalid. Reason: {reason}"
    return InvalidParameterValue(message)


# -- readers: trie -> member-keyed tree -------------------------------------------------------

_READERS: dict[tuple[str, str], Read] = {}


def reader(shape: Shape, names: QueryNames) -> Read:
    """The compiled reader of a service's shape (trie node in, member-keyed tree out)."""
    key = (names.service.name, shape.name)
    found = _READERS.get(key)
    if found is None:
        found = _compile(shape, names)
        _READERS[key] = found
    return found


def _indexed(node: object) -> list[object]:
    if type(node) is str:
        return []
    assert type(node) is dict
    keys = sorted((int(k), k) for k in node if k.isdigit())
    return [node[k] for _, k in keys]


def _scalar(node: object) -> object:
    return node.get("") if type(node) is dict else node


def _unwrap(node: object, wrapper: str | None) -> object:
    """The node holding the indexed items: the node itself, or its ``member``/``entry`` child."""
    if wrapper is None or type(node) is not dict:
        return node
    return node.get(wrapper, "")


def _compile(shape: Shape, names: QueryNames) -> Read:
    if isinstance(shape, StructureShape):
        fields = tuple(
            (names.member(shape.name, m.name, m.shape), m.name, reader(m.shape, names))
            for m in names.service.members(shape)
        )

        def structure(node: object) -> object:
            if type(node) is not dict:
                return {}
            out: dict[str, object] = {}
            for wire, name, sub in fields:
                item = node.get(wire)
                if item is None and wire != name:
                    item = node.get(name)
                if item is not None:
                    try:
                        value = sub(item)
                    except BindError as error:
                        error.path.append(wire)
                        raise
                    if value is not None:
                        out[name] = value
            return out

        return structure
    if isinstance(shape, ListShape):
        item = reader(shape.member, names)
        wrapper = names.list_item(shape)
        return lambda node: [item(x) for x in _indexed(_unwrap(node, wrapper))]
    if isinstance(shape, MapShape):
        return _map_reader(shape, names)
    return _scalar


def _map_reader(shape: MapShape, names: QueryNames) -> Read:
    wrapper, key_name, value_name = names.map_entry(shape)
    value_reader = reader(shape.value, names)

    def read(node: object) -> object:
        out: dict[str, object] = {}
        for index, entry in enumerate(_indexed(_unwrap(node, wrapper)), 1):
            key = _scalar(entry.get(key_name)) if type(entry) is dict else None
            value = entry.get(value_name) if type(entry) is dict else None
            for part, present in ((key_name, key), (value_name, value)):
                if present is None:
                    error = BindError("missing", "")
                    error.path += [part, str(index)]
                    raise error
            out[str(key)] = value_reader(value)
        return out

    return read


# -- the codec --------------------------------------------------------------------------------


class QueryCodec:
    """The Query protocol (form in, XML out) of one service."""

    def __init__(self, name: str, names: QueryNames, errors: BindErrors = bind_error) -> None:
        self.name = name
        self.service = names.service.name
        self.names = names
        self._errors = errors
        self._namespace = names.namespace

    def decode(self, http: HttpRequest, ctx: RequestContext) -> Call:
        params = trie(parse_params(http))
        action = _scalar(params.get("Action"))
        if not action:
            raise MissingAction()
        shapes = self.names.service
        op = shapes.operation(str(action))
        if op is None:
            raise InvalidAction(f"The action {action} is not valid for this endpoint.")
        try:
            tree = reader(op.input, self.names)(params)
            assert isinstance(tree, dict)
            if "QueueUrl" not in tree and "QueueUrl" in op.input.members and _QUEUE_PATH.fullmatch(http.path):
                tree["QueueUrl"] = ctx.base_url + http.path
            request = binder(op.input, SCALARS, shapes)(tree)
        except BindError as error:
            raise self._errors(error) from None
        return Call(self.service, op.name, request, ctx)

    def encode_result(self, call: Call, result: object | None) -> Reply:
        action = call.action
        out = [f'<?xml version="1.0"?><{action}Response xmlns="{self._namespace}">']
        op = self.names.service.operation(action)
        if op is not None and op.output is not None and result is not None:
            content: list[str] = []
            writer(op.output, self.names)(result, content)
            if content:
                out.append(f"<{action}Result>")
                out += content
                out.append(f"</{action}Result>")
            else:
                out.append(f"<{action}Result/>")
        elif result is not None:  # an empty result shape (SNS's TagResource): botocore wants the wrapper
            out.append(f"<{action}Result/>")
        out.append(f"<ResponseMetadata><RequestId>{escape(call.ctx.request_id)}</RequestId>")
        out.append(f"</ResponseMetadata></{action}Response>")
        return Reply(200, _headers(call.ctx), "".join(out).encode("utf-8"))

    def encode_error(self, error: ShoalError, ctx: RequestContext) -> Reply:
        body = (
            f'<?xml version="1.0"?><ErrorResponse xmlns="{self._namespace}"><Error>'
            f"<Type>{error.fault}</Type><Code>{escape(error.query_code)}</Code>"
            f"<Message>{escape(error.message)}</Message><Detail/></Error>"
            f"<RequestId>{escape(ctx.request_id)}</RequestId></ErrorResponse>"
        )
        return Reply(error.status, _headers(ctx), body.encode("utf-8"))


def _headers(ctx: RequestContext) -> list[tuple[str, str]]:
    return [("Content-Type", CONTENT_TYPE), ("x-amzn-RequestId", ctx.request_id)]
