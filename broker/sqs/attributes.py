"""Queue attributes: the table of every attribute, its range and default, and
the validation of CreateQueue / SetQueueAttributes input.

Stored attributes are AWS's own strings (``"30"``, ``"true"``), with defaults
filled in at creation, so GetQueueAttributes renders stored values as they
are and only the computed ones (counts, ARN, timestamps) are derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from broker.errors import InvalidAttributeName, InvalidAttributeValue, UnsupportedOperation
from broker.sqs import documents


class Kind(Enum):
    """How an attribute's value is validated."""

    INT = "int"
    BOOL = "bool"
    POLICY = "policy"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One settable attribute."""

    kind: Kind
    default: str | None = None
    low: int = 0
    high: int = 0
    supported: bool = True


SETTABLE: dict[str, AttributeSpec] = {
    "DelaySeconds": AttributeSpec(Kind.INT, "0", 0, 900),
    "MaximumMessageSize": AttributeSpec(Kind.INT, "1048576", 1024, 1_048_576),
    "MessageRetentionPeriod": AttributeSpec(Kind.INT, "345600", 60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": AttributeSpec(Kind.INT, "0", 0, 20),
    "VisibilityTimeout": AttributeSpec(Kind.INT, "30", 0, 43_200),
    "Policy": AttributeSpec(Kind.POLICY),
    "KmsMasterKeyId": AttributeSpec(Kind.TEXT),
    "KmsDataKeyReusePeriodSeconds": AttributeSpec(Kind.INT, None, 60, 86_400),
    "SqsManagedSseEnabled": AttributeSpec(Kind.BOOL, "true"),
    "RedrivePolicy": AttributeSpec(Kind.POLICY, supported=False),
    "RedriveAllowPolicy": AttributeSpec(Kind.POLICY, supported=False),
    "FifoQueue": AttributeSpec(Kind.BOOL, supported=False),
    "ContentBasedDeduplication": AttributeSpec(Kind.BOOL, supported=False),
    "DeduplicationScope": AttributeSpec(Kind.TEXT, supported=False),
    "FifoThroughputLimit": AttributeSpec(Kind.TEXT, supported=False),
}
"""Every attribute a client may set, with AWS's range and default."""

COMPUTED = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
"""Read-only attributes derived at request time."""

ALL_NAMES = frozenset(SETTABLE) | frozenset(COMPUTED)
MAX_POLICY_BYTES = 8192


def defaults() -> dict[str, str]:
    """The stored attributes of a queue created with no attributes."""
    return {
        name: spec.default for name, spec in SETTABLE.items() if spec.default is not None and spec.supported
    }


def validate(requested: dict[str, str]) -> dict[str, str]:
    """Check names and values of attributes a client wants to set; return them normalised.

    FIFO attributes with a false value are accepted as no-ops, as on a standard
    queue on AWS; the ones that need FIFO or redrive support answer
    UnsupportedOperation until those features exist.
    """
    normalised: dict[str, str] = {}
    for name, value in requested.items():
        spec = SETTABLE.get(name)
        if spec is None:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        text = _validate_value(name, spec, value)
        if not spec.supported:
            if spec.kind is Kind.BOOL and text == "false":
                continue
            raise UnsupportedOperation(f"The attribute {name} is not supported by this Shoal version yet.")
        normalised[name] = text
    return normalised


def _validate_value(name: str, spec: AttributeSpec, value: str) -> str:
    invalid = InvalidAttributeValue(f"Invalid value for the parameter {name}.")
    if spec.kind is Kind.INT:
        try:
            number = int(value.strip())
        except ValueError:
            raise invalid from None
        if not spec.low <= number <= spec.high:
            raise invalid
        return str(number)
    if spec.kind is Kind.BOOL:
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise invalid
        return lowered
    if spec.kind is Kind.POLICY:
        if value == "":
            return value
        if len(value.encode()) > MAX_POLICY_BYTES:
            raise InvalidAttributeValue(
                f"Invalid value for the parameter {name}. Reason: Policy is too long."
            )
        if documents.parse_object(value) is None:
            raise invalid
        return value
    return value


def without_unset(values: dict[str, str]) -> dict[str, str]:
    """``values`` minus the empty strings that mean "not set" (Policy, KmsMasterKeyId, ...)."""
    return {
        name: value for name, value in values.items() if value != "" or SETTABLE[name].default is not None
    }


def int_attribute(attributes: dict[str, str], name: str) -> int:
    """A stored integer attribute, falling back to its default."""
    value = attributes.get(name) or SETTABLE[name].default or "0"
    return int(value)


def expand_names(names: list[str] | None) -> list[str]:
    """Attribute names a GetQueueAttributes asks for, with ``All`` expanded, in AWS's order."""
    if not names:
        return []
    for name in names:
        if name != "All" and name not in ALL_NAMES:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
    if "All" in names:
        return sorted(ALL_NAMES)
    return list(dict.fromkeys(names))
