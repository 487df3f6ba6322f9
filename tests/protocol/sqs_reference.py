"""botocore as the reference implementation of the SQS wire, for the codec tests.

The JSON side uses botocore's current SQS model.  The Query side rebuilds the
model the Query wire needs (protocol ``query``, result wrappers, flattened
lists and maps, ``locationName``s from ``protocol.query_names``) so botocore's
own Query serializer and parser speak to our codec.  ``sample`` builds a value
for any shape (AWS member names); ``typed`` turns it into the api dataclass,
``plain`` turns a dataclass back into AWS member names.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import cache
from typing import Any
from urllib.parse import urlencode

import botocore
import botocore.loaders
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from broker.context import RequestContext
from broker.sqs.api import SHAPES
from protocol.query_names import MEMBER_WIRE_NAMES, XML_NAMESPACE, map_entry_names
from protocol.wire import HttpRequest, Reply

CTX = RequestContext(request_id="req-1", host="localhost:4566")


@cache
def json_model() -> ServiceModel:
    raw = botocore.loaders.Loader().load_service_model("sqs", "service-2")
    return ServiceModel(raw, "sqs")


@cache
def query_model() -> ServiceModel:
    raw = copy.deepcopy(botocore.loaders.Loader().load_service_model("sqs", "service-2"))
    raw["metadata"]["protocol"] = "query"
    raw["metadata"]["xmlNamespace"] = XML_NAMESPACE
    for name, op in raw["operations"].items():
        if "output" in op:
            op["output"]["resultWrapper"] = f"{name}Result"
    for shape_name, shape in raw["shapes"].items():
        if shape["type"] == "structure":
            for member_name, member in shape["members"].items():
                target = raw["shapes"][member["shape"]]
                if target["type"] in ("list", "map"):
                    member["flattened"] = True
                wire = MEMBER_WIRE_NAMES.get((shape_name, member_name))
                if wire:
                    member["locationName"] = wire
        elif shape["type"] == "map":
            key, value = map_entry_names(shape_name)
            shape["key"]["locationName"] = key
            shape["value"]["locationName"] = value
    return ServiceModel(raw, "sqs")


def json_request(action: str, params: dict[str, Any]) -> HttpRequest:
    req = create_serializer("json").serialize_to_request(params, json_model().operation_model(action))
    headers = {k.lower(): v for k, v in req["headers"].items()}
    return HttpRequest("POST", "/", "", headers, req["body"])


def query_request(action: str, params: dict[str, Any], path: str = "/") -> HttpRequest:
    req = create_serializer("query").serialize_to_request(params, query_model().operation_model(action))
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    return HttpRequest("POST", path, "", headers, urlencode(req["body"]).encode())


def parse(protocol: str, action: str, reply: Reply) -> dict[str, Any]:
    model = json_model() if protocol == "json" else query_model()
    op = model.operation_model(action)
    response = {"body": reply.body, "headers": dict(reply.headers), "status_code": reply.status}
    parsed: dict[str, Any] = create_parser(protocol).parse(response, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def parse_error(protocol: str, action: str, reply: Reply) -> dict[str, Any]:
    model = json_model() if protocol == "json" else query_model()
    op = model.operation_model(action)
    headers = {k.lower(): v for k, v in reply.headers}
    response = {"body": reply.body, "headers": headers, "status_code": reply.status}
    parsed: dict[str, Any] = create_parser(protocol).parse(response, op.output_shape)
    return parsed


def sample(shape: Shape, seed: int = 1) -> Any:
    """A value for every member of ``shape`` (AWS names), deterministic."""
    if isinstance(shape, StructureShape):
        return {name: sample(member, seed) for name, member in shape.members.items()}
    if isinstance(shape, ListShape):
        return [sample(shape.member, seed), sample(shape.member, seed + 1)]
    if isinstance(shape, MapShape):
        return {f"k{seed}": sample(shape.value, seed), f"k{seed + 1}": sample(shape.value, seed + 1)}
    kind = shape.type_name
    if kind in ("integer", "long"):
        return 40 + seed
    if kind == "boolean":
        return seed % 2 == 1
    if kind == "blob":
        return bytes([0, seed, 255])
    return f"v{seed} <&>\r\n\"'\t\U0001f600"


def typed(shape: Shape, value: Any) -> Any:
    """The api dataclass tree for an AWS-named value."""
    if isinstance(shape, StructureShape):
        fields = {botocore.xform_name(n): typed(shape.members[n], v) for n, v in value.items()}
        return SHAPES[shape.name](**fields)
    if isinstance(shape, ListShape):
        return [typed(shape.member, v) for v in value]
    if isinstance(shape, MapShape):
        return {k: typed(shape.value, v) for k, v in value.items()}
    return value


def plain(shape: Shape, value: Any) -> Any:
    """The AWS-named tree of an api dataclass (None members dropped)."""
    if isinstance(shape, StructureShape):
        out = {}
        for name, member in shape.members.items():
            item = getattr(value, botocore.xform_name(name))
            if item is not None:
                out[name] = plain(member, item)
        return out
    if isinstance(shape, ListShape):
        return [plain(shape.member, v) for v in value]
    if isinstance(shape, MapShape):
        return {k: plain(shape.value, v) for k, v in value.items()}
    assert not dataclasses.is_dataclass(value)
    return value
