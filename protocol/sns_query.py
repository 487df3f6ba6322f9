"""The SNS Query protocol: the generic :class:`protocol.query.QueryCodec` with
SNS's model, whose Query traits give the wire names (lists wrapped as
``Name.member.1``, maps as ``Name.entry.1.key``; ``MessageAttributes.entry.1.
Name``), SNS's XML namespace, and SNS's wording for a request that does not fit
the action's shape: ``ValidationError`` with the "1 validation error detected"
message AWS's SNS front end writes, naming the member in lower camel case.
"""

from __future__ import annotations

from broker.errors import ShoalError, SnsValidationError
from protocol.binder import BindError
from protocol.query import QueryCodec
from protocol.query_names import SNS_NAMES

_CONSTRAINTS = {
    "integer": "Member must be an integer",
    "boolean": "Member must be a boolean",
    "blob": "Member must be base64-encoded",
}


def _camel(path: str) -> str:
    return ".".join(part[:1].lower() + part[1:] for part in path.split("."))


def validation_error(error: BindError) -> ShoalError:
    """SNS's ValidationError for a missing member or a value of the wrong type."""
    where = _camel(error.where)
    if error.kind == "missing":
        detail = f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
    else:
        constraint = _CONSTRAINTS.get(error.expected, f"Member must be a {error.expected}")
        detail = f"Value '{error.value}' at '{where}' failed to satisfy constraint: {constraint}"
    return SnsValidationError(f"1 validation error detected: {detail}")


CODEC = QueryCodec("sns-query", SNS_NAMES, validation_error)
