"""Queue attributes: the table of every attribute, its range and default, and
the validation of CreateQueue / SetQueueAttributes input.

Stored attributes are AWS's own strings (``"30"``, ``"true"``), with defaults
filled in at creation, so GetQueueAttributes renders stored values as they
are and only the computed ones (counts, ARN, timestamps) are derived.  FIFO
attributes exist only on FIFO queues (elsewhere they are unknown names, as on
AWS), and ``FifoQueue`` can be given only at creation.  The JSON documents
(Policy, RedrivePolicy, RedriveAllowPolicy) are checked to be JSON objects
here; what they must contain is checked where the other queues are known.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from broker.errors import InvalidAttributeName, InvalidAttributeValue
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
    choices: tuple[str, ...] = ()
    fifo_only: bool = False


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
    "RedrivePolicy": AttributeSpec(Kind.POLICY),
    "RedriveAllowPolicy": AttributeSpec(Kind.POLICY),
    "FifoQueue": AttributeSpec(Kind.BOOL, "true", fifo_only=True),
    "ContentBasedDeduplication": AttributeSpec(Kind.BOOL, "false", fifo_only=True),
    "DeduplicationScope": AttributeSpec(
        Kind.TEXT, "queue", choices=("messageGroup", "queue"), fifo_only=True
    ),
    "FifoThroughputLimit": AttributeSpec(
        Kind.TEXT, "perQueue", choices=("perMessageGroupId", "perQueue"), fifo_only=True
    ),
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


def defaults(*, fifo: bool) -> dict[str, str]:
    """The stored attributes of a queue created with no attributes."""
    return {
        name: spec.default
        for name, spec in SETTABLE.items()
        if spec.default is not None and (fifo or not spec.fifo_only)
    }


def wants_fifo(requested: dict[str, str]) -> bool:
    """Whether a CreateQueue's attributes ask for a FIFO queue."""
    return requested.get("FifoQueue", "").strip().lower() == "true"


def validate(requested: dict[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """Check names and values of attributes a client wants to set; return them normalised."""
    normalised: dict[str, str] = {}
    for name, value in requested.items():
        spec = SETTABLE.get(name)
        if spec is None or (spec.fifo_only and not fifo and not (name == "FifoQueue" and creating)):
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name == "FifoQueue" and not creating:
            raise InvalidAttributeValue(
                "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."
            )
        text = _validate_value(name, spec, value)
        if name == "FifoQueue" and text == "false":
            continue
        normalised[name] = text
    return normalised


def check_fifo_combination(attributes: dict[str, str]) -> None:
    """High-throughput mode (perMessageGroupId) needs deduplication per message group."""
    if (
        attributes.get("FifoThroughputLimit") == "perMessageGroupId"
        and attributes.get("DeduplicationScope") != "messageGroup"
    ):
        raise InvalidAttributeValue(
            "Invalid value for the parameter FifoThroughputLimit. Reason: The perMessageGroupId value is "
            "allowed only when the value for DeduplicationScope is messageGroup."
        )


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
    if spec.choices and value not in spec.choices:
        raise invalid
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
