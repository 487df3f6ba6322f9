"""SNS's JSON documents, read and written in this one module: topic policies,
delivery policies, ``MessageStructure=json`` messages, ``String.Array``
attribute values, and the notification envelope SQS and HTTP subscribers get.

Rules: AWS fixes these formats as JSON, so encoding them is document work, not
a wire protocol (the layering test allows JSON here and in
``broker.sqs.documents`` only).  Envelopes keep AWS's field order and layout
(two-space indent, ``"Key" : value``); policies are compact JSON.  Parsers
raise :class:`~broker.errors.InvalidParameter` with AWS's messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from broker.errors import InvalidParameter
from broker.sns import delivery_policy as delivery_policy_module

DEFAULT_ACTIONS = (
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
)


def dumps(value: object) -> str:
    """Compact JSON, as AWS writes its documents."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def default_policy(topic_arn: str, account_id: str) -> str:
    """The Policy AWS gives a new topic: the owner account may do everything."""
    return dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": list(DEFAULT_ACTIONS),
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account_id}},
                }
            ],
        }
    )


def effective_delivery_policy(delivery_policy: str | None) -> str:
    """The topic's EffectiveDeliveryPolicy: its DeliveryPolicy over AWS's defaults."""
    return dumps(delivery_policy_module.topic_document(_policy_object(delivery_policy)))


def subscription_delivery_policy(
    subscription_policy: str | None, topic_policy: str | None, protocol: str
) -> delivery_policy_module.EffectivePolicy:
    """What governs an HTTP/S subscription's deliveries (its policy, the topic's, AWS's defaults)."""
    return delivery_policy_module.resolve(
        _policy_object(subscription_policy), _policy_object(topic_policy), protocol
    )


def effective_subscription_delivery_policy(
    subscription_policy: str | None, topic_policy: str | None, protocol: str
) -> str:
    """An HTTP/S subscription's EffectiveDeliveryPolicy."""
    effective = subscription_delivery_policy(subscription_policy, topic_policy, protocol)
    return dumps(effective.subscription_document())


def check_delivery_policy(text: str, *, topic: bool, prefix: str = "Invalid parameter: ") -> None:
    """A topic's or subscription's DeliveryPolicy, or InvalidParameter with AWS's message."""
    document = check_json_object(text, "DeliveryPolicy")
    try:
        if topic:
            delivery_policy_module.check_topic_policy(document)
        else:
            delivery_policy_module.check_subscription_policy(document)
    except InvalidParameter as error:
        raise InvalidParameter(f"{prefix}DeliveryPolicy: {error.message}") from None


def _policy_object(text: str | None) -> dict[str, object] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def check_json_object(text: str, attribute: str) -> dict[str, object]:
    """A JSON object attribute (Policy, DeliveryPolicy, RedrivePolicy), or InvalidParameter."""
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidParameter(f"Invalid parameter: {attribute}: failed to parse JSON.") from None
    if not isinstance(value, dict):
        raise InvalidParameter(f"Invalid parameter: {attribute}: must be a JSON object.")
    return value


def redrive_target(text: str) -> str:
    """The dead-letter queue ARN of a subscription's RedrivePolicy."""
    policy = check_json_object(text, "RedrivePolicy")
    target = policy.get("deadLetterTargetArn")
    if not isinstance(target, str) or not target.startswith("arn:aws:sqs:"):
        raise InvalidParameter("Invalid parameter: RedrivePolicy: deadLetterTargetArn is invalid")
    return target


def add_statement(
    policy: str, sid: str, topic_arn: str, accounts: Sequence[str], actions: Sequence[str]
) -> str:
    """The topic Policy with AddPermission's statement appended (as AWS writes it)."""
    document = check_json_object(policy, "Policy")
    statements = document.setdefault("Statement", [])
    assert isinstance(statements, list)
    if any(isinstance(s, dict) and s.get("Sid") == sid for s in statements):
        raise InvalidParameter("Invalid parameter: Statement already exists")
    principals = [f"arn:aws:iam::{account}:root" for account in accounts]
    wire_actions = [f"SNS:{action}" for action in actions]
    statements.append(
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": wire_actions[0] if len(wire_actions) == 1 else wire_actions,
            "Resource": topic_arn,
        }
    )
    return dumps(document)


def remove_statement(policy: str, sid: str) -> str:
    """The topic Policy without the statement labelled ``sid``."""
    document = check_json_object(policy, "Policy")
    statements = document.get("Statement", [])
    assert isinstance(statements, list)
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == sid)]
    if len(kept) == len(statements):
        raise InvalidParameter("Invalid parameter: Statement doesn't exist")
    document["Statement"] = kept
    return dumps(document)


def message_structure(message: str) -> dict[str, str]:
    """A ``MessageStructure=json`` message: protocol to message, with the required ``default``."""
    try:
        value = json.loads(message)
    except ValueError:
        raise InvalidParameter(
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        ) from None
    if not isinstance(value, dict) or not isinstance(value.get("default"), str):
        raise InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
    return {key: item for key, item in value.items() if isinstance(item, str)}


def is_json_array(text: str) -> bool:
    """Whether ``text`` is a JSON array (the value of a ``String.Array`` attribute)."""
    try:
        return isinstance(json.loads(text), list)
    except ValueError:
        return False


def envelope(fields: Mapping[str, object]) -> str:
    """The JSON notification envelope, fields in the order given."""
    return json.dumps(dict(fields), ensure_ascii=False, indent=2, separators=(",", " : "))
