"""Operations of the binary protocol: msgpack maps <-> the typed classes of ``broker.sqs.api``.

Rules: driven by botocore's model through :mod:`protocol.shapes`, never per
action.  Requests bind with :mod:`protocol.binder` under msgpack's scalars
(``str``, ``int``, ``bool``, ``bytes`` for blobs: no base64), so a missing
required member is ``MissingParameter`` and a wrong type is
``SerializationException``, as in the JSON codec.  Results are rendered by a
writer compiled once per shape (``getattr`` per field, None omitted, blobs
left as bytes; a list or map whose values need no change is passed through
as is).  The client uses the same two pieces the other way round: the writer
on the input shape turns a typed request into params, the binder on the
output shape turns a result map into the typed result.  Error frames map back
to the exception class of :mod:`broker.errors` that owns the code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broker.errors import (
    MissingParameter,
    SerializationException,
    ShoalError,
    UnknownOperationException,
    all_errors,
)
from protocol.binder import BindError, Scalars, binder
from protocol.shapes import SERVICES as SHAPES
from protocol.shapes import Operation
from protocol.tree import TreeWriter

SERVICES: dict[str, Callable[[], dict[str, Operation]]] = {
    name: shapes.operations for name, shapes in SHAPES.items()
}
"""Each service's operation table (Kinesis joins here)."""


def _scalar(kind: type, name: str) -> Callable[[object], object]:
    def read(value: object) -> object:
        if type(value) is kind:
            return value
        raise BindError("type", name, value)

    return read


SCALARS = Scalars(
    "msgpack",
    _scalar(str, "string"),
    _scalar(int, "integer"),
    _scalar(bool, "boolean"),
    _scalar(bytes, "blob"),
)

_MSGPACK_TYPES = {str: "str", int: "int", bool: "bool", bytes: "bin", list: "array", dict: "map"}


def find_operation(service: str, name: str) -> Operation:
    """The operation, or ``UnknownOperationException``."""
    table = SERVICES.get(service)
    if table is None:
        raise UnknownOperationException(f"The service {service} is not supported.")
    op = table().get(name)
    if op is None:
        raise UnknownOperationException()
    return op


def bind_request(op: Operation, params: dict[str, Any]) -> object:
    """The typed request of ``op`` from its params map; raises the AWS error for bad input."""
    try:
        return binder(op.input, SCALARS, SHAPES[op.service])(params)
    except BindError as error:
        raise _bind_error(error) from None


def bind_result(op: Operation, result: dict[str, Any]) -> object | None:
    """The typed result of ``op`` from a RESULT map (None for operations without output)."""
    if op.output is None:
        return None
    try:
        return binder(op.output, SCALARS, SHAPES[op.service])(result)
    except BindError as error:
        raise _bind_error(error) from None


def _bind_error(error: BindError) -> ShoalError:
    if error.kind == "missing":
        return MissingParameter(f"The request must contain the parameter {error.where}.")
    got = _MSGPACK_TYPES.get(type(error.value), type(error.value).__name__)
    return SerializationException(f"{error.where or 'value'}: expected {error.expected}, got msgpack {got}")


# -- writers ---------------------------------------------------------------------------------

_TREES = TreeWriter()  # msgpack carries bytes as bin: blobs pass through


def render_result(op: Operation, result: object | None) -> dict[str, Any]:
    """The RESULT map of ``op`` (``{}`` for operations without output)."""
    if op.output is None or result is None:
        return {}
    out: dict[str, Any] = _TREES.write(op.output, result, SHAPES[op.service])
    return out


def render_request(op: Operation, request: object) -> dict[str, Any]:
    """The params map of a typed request (the client's side)."""
    out: dict[str, Any] = _TREES.write(op.input, request, SHAPES[op.service])
    return out


_BY_CLASS: dict[type, tuple[str, Operation]] = {}


def operation_of(request: object) -> tuple[str, Operation]:
    """(service, operation) of a typed request object such as ``api.SendMessage(...)``."""
    if not _BY_CLASS:
        for service, table in SERVICES.items():
            for op in table().values():
                _BY_CLASS[op.request_cls] = (service, op)
    found = _BY_CLASS.get(type(request))
    if found is None:
        raise TypeError(f"{type(request).__name__} is not a request class of any service")
    return found


# -- errors ----------------------------------------------------------------------------------

_ERROR_CLASSES: dict[tuple[str, str | None], type[ShoalError]] = {}


def error_class(code: str, query_code: str | None = None) -> type[ShoalError]:
    """The class of :mod:`broker.errors` for an AWS error (one made on the fly for codes it lacks).

    Codes repeat across services (SQS's and SNS's ``EmptyBatchRequest``), so the
    (code, query code) pair picks the class; the code alone picks SQS's class
    (the SNS twins are named ``Sns...``).
    """
    if not _ERROR_CLASSES:
        for cls in sorted(all_errors(), key=lambda c: c.__name__.startswith("Sns")):
            _ERROR_CLASSES.setdefault((cls.code, cls.query_code), cls)
            _ERROR_CLASSES.setdefault((cls.code, None), cls)
    found = _ERROR_CLASSES.get((code, query_code)) or _ERROR_CLASSES.get((code, None))
    if found is None:
        attributes = {"code": code, "query_code": query_code or code, "__module__": __name__}
        found = type(code, (ShoalError,), attributes)
        _ERROR_CLASSES[(code, query_code)] = found
    return found


def error_from(code: str, message: str, query_code: str | None = None) -> ShoalError:
    """The exception an ERROR frame stands for."""
    return error_class(code, query_code)(message)
