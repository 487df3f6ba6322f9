"""The messages SNS sends to subscribers: Notification and SubscriptionConfirmation.

Rules: fields in AWS's order (Type, MessageId, SequenceNumber for FIFO topics,
TopicArn, Subject if any, Message, Timestamp, SignatureVersion, Signature,
SigningCertURL, UnsubscribeURL, MessageAttributes if any); Timestamp is
ISO-8601 UTC with milliseconds and ``Z``; the signature is the topic's
SignatureVersion (1: SHA1withRSA, 2: SHA256withRSA, see
:mod:`broker.sns.signing`).  URLs point at this server as the publisher
addressed it: ``/_shoal/sns/cert.pem`` for the certificate, and the Query
``Action=Unsubscribe`` / ``Action=ConfirmSubscription`` GET URLs, which the
router sends to SNS unsigned.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from urllib.parse import quote

from broker.sns import messages
from broker.sns.signing import CERT_PATH, Signer
from storage.records import MessageAttribute


def iso_timestamp(ms: int) -> str:
    """``2024-01-02T03:04:05.678Z``."""
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Notification:
    """One published message, as every subscription's delivery starts from it."""

    message_id: str
    topic_arn: str
    message: str
    structure: dict[str, str] | None
    """Per-protocol messages of ``MessageStructure=json`` (with ``default``), else None."""
    subject: str | None
    attributes: tuple[MessageAttribute, ...]
    timestamp_ms: int
    group_id: str | None
    dedup_id: str | None
    sequence_number: str | None
    base_url: str
    signature_version: str
    signatures: dict[str, str] = field(default_factory=dict)
    """Signature per delivered message text: the signed fields do not name the subscription,
    so every subscriber of one publish shares it (one RSA signature per publish, not per queue)."""

    def message_for(self, protocol: str) -> str:
        """The message a subscriber of ``protocol`` gets."""
        if self.structure is None:
            return self.message
        return self.structure.get(protocol, self.structure["default"])


def notification(
    note: Notification, protocol: str, subscription_arn: str, signer: Signer
) -> dict[str, object]:
    """The signed Notification fields for one subscriber, in AWS's order."""
    fields: dict[str, object] = {"Type": "Notification", "MessageId": note.message_id}
    if note.sequence_number is not None:
        fields["SequenceNumber"] = note.sequence_number
    fields["TopicArn"] = note.topic_arn
    if note.subject is not None:
        fields["Subject"] = note.subject
    fields["Message"] = note.message_for(protocol)
    fields["Timestamp"] = iso_timestamp(note.timestamp_ms)
    fields["SignatureVersion"] = note.signature_version
    text = str(fields["Message"])
    signature = note.signatures.get(text)
    if signature is None:
        signature = note.signatures[text] = signer.sign(fields, note.signature_version)
    fields["Signature"] = signature
    fields["SigningCertURL"] = note.base_url + CERT_PATH
    fields["UnsubscribeURL"] = unsubscribe_url(note.base_url, subscription_arn)
    if note.attributes:
        fields["MessageAttributes"] = messages.envelope_view(note.attributes)
    return fields


def confirmation(
    *,
    message_id: str,
    token: str,
    topic_arn: str,
    timestamp_ms: int,
    base_url: str,
    signature_version: str,
    signer: Signer,
    unsubscribed: str | None = None,
) -> dict[str, object]:
    """The signed SubscriptionConfirmation fields a pending subscriber gets, or, with
    ``unsubscribed`` (a subscription ARN), the UnsubscribeConfirmation of that
    subscription, whose SubscribeURL restores it."""
    if unsubscribed is None:
        kind = "SubscriptionConfirmation"
        text = (
            f"You have chosen to subscribe to the topic {topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
    else:
        kind = "UnsubscribeConfirmation"
        text = (
            f"You have chosen to deactivate subscription {unsubscribed}.\n"
            "To cancel this operation and restore the subscription, visit the SubscribeURL "
            "included in this message."
        )
    fields: dict[str, object] = {
        "Type": kind,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": text,
        "SubscribeURL": (
            f"{base_url}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe='')}&Token={token}"
        ),
        "Timestamp": iso_timestamp(timestamp_ms),
        "SignatureVersion": signature_version,
    }
    fields["Signature"] = signer.sign(fields, signature_version)
    fields["SigningCertURL"] = base_url + CERT_PATH
    return fields


def unsubscribe_url(base_url: str, subscription_arn: str) -> str:
    return f"{base_url}/?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn, safe='')}"
