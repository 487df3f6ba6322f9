"""Dead-letter queues: RedrivePolicy and RedriveAllowPolicy, parsed and checked.

A source queue's ``RedrivePolicy`` names its dead-letter queue by ARN and a
``maxReceiveCount`` (1 to 1000).  The target must exist in the same account,
be of the same type (FIFO to FIFO), and allow the source by its own
``RedriveAllowPolicy`` (``allowAll``, the default; ``denyAll``; or ``byQueue``
with up to 10 source ARNs).  Policies are stored normalised, the way AWS
returns them.  The move itself happens at receive time (see messaging).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.errors import InvalidParameterValue
from broker.sqs import documents

MAX_RECEIVE_COUNT = 1000
MAX_SOURCE_ARNS = 10
PERMISSIONS = ("allowAll", "denyAll", "byQueue")


@dataclass(frozen=True, slots=True)
class RedrivePolicy:
    """Where a source queue's messages go after too many receives."""

    target_arn: str
    max_receive_count: int

    @property
    def target_account(self) -> str:
        return arn_parts(self.target_arn)[0]

    @property
    def target_name(self) -> str:
        return arn_parts(self.target_arn)[1]


@dataclass(frozen=True, slots=True)
class AllowPolicy:
    """Which source queues may use a queue as their dead-letter queue."""

    permission: str
    source_arns: tuple[str, ...] = ()

    def allows(self, source_arn: str) -> bool:
        if self.permission == "allowAll":
            return True
        if self.permission == "denyAll":
            return False
        return any(_same_queue(source_arn, arn) for arn in self.source_arns)


def arn_parts(arn: str) -> tuple[str, str]:
    """(account, queue name) of an SQS queue ARN; ("", "") if it is not one."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"]:
        return "", ""
    return parts[4], parts[5]


def _same_queue(left: str, right: str) -> bool:
    return arn_parts(left) == arn_parts(right) != ("", "")


def _invalid(attribute: str, text: str, reason: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Value {text} for parameter {attribute} is invalid. Reason: {reason}")


def parse_redrive_policy(text: str) -> RedrivePolicy:
    """The policy in a RedrivePolicy attribute value (validated)."""
    document: dict[str, Any] = documents.parse_object(text) or {}
    for member in ("deadLetterTargetArn", "maxReceiveCount"):
        if member not in document:
            raise _invalid(
                "RedrivePolicy", text, f"Redrive policy does not contain mandatory attribute: {member}."
            )
    count = document["maxReceiveCount"]
    try:
        number = int(count)
    except (TypeError, ValueError):
        number = 0
    fraction = isinstance(count, float) and not count.is_integer()  # 2.5 is not a count of 2
    if isinstance(count, bool) or fraction or not 1 <= number <= MAX_RECEIVE_COUNT:
        raise _invalid(
            "RedrivePolicy",
            text,
            f"Invalid value for maxReceiveCount: {count}, valid values are from 1 to {MAX_RECEIVE_COUNT} "
            "both inclusive.",
        )
    target = document["deadLetterTargetArn"]
    if not isinstance(target, str) or arn_parts(target) == ("", ""):
        raise _invalid("RedrivePolicy", text, "Invalid value for deadLetterTargetArn.")
    return RedrivePolicy(target, number)


def write_redrive_policy(policy: RedrivePolicy) -> str:
    return documents.write_object(
        {"deadLetterTargetArn": policy.target_arn, "maxReceiveCount": policy.max_receive_count}
    )


def parse_allow_policy(text: str | None) -> AllowPolicy:
    """The policy in a RedriveAllowPolicy attribute value (validated); allowAll when unset."""
    if not text:
        return AllowPolicy("allowAll")
    document: dict[str, Any] = documents.parse_object(text) or {}
    permission = document.get("redrivePermission")
    if permission not in PERMISSIONS:
        raise _invalid(
            "RedriveAllowPolicy", text, "Redrive permission must be one of allowAll, denyAll or byQueue."
        )
    sources = document.get("sourceQueueArns")
    if permission != "byQueue":
        if sources is not None:
            raise _invalid(
                "RedriveAllowPolicy",
                text,
                "sourceQueueArns can be specified only when redrivePermission is byQueue.",
            )
        return AllowPolicy(permission)
    if (
        not isinstance(sources, list)
        or not 1 <= len(sources) <= MAX_SOURCE_ARNS
        or not all(isinstance(arn, str) for arn in sources)
    ):
        raise _invalid(
            "RedriveAllowPolicy",
            text,
            f"sourceQueueArns must list 1 to {MAX_SOURCE_ARNS} queue ARNs when redrivePermission is byQueue.",
        )
    return AllowPolicy(permission, tuple(sources))


def write_allow_policy(policy: AllowPolicy) -> str:
    document: dict[str, object] = {"redrivePermission": policy.permission}
    if policy.permission == "byQueue":
        document["sourceQueueArns"] = list(policy.source_arns)
    return documents.write_object(document)
