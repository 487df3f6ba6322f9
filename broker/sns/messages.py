"""What makes a published message valid, and the views of it each consumer needs.

Rules (AWS's): the message is non-empty; at most 10 message attributes; an
attribute's type is ``String``, ``String.Array``, ``Number`` or ``Binary``
(String, Number and Binary may carry a custom ``.suffix``); a String.Array is
a JSON array; a Number parses as a number; the size of the body plus every
attribute's name, type and value is at most the topic's MaximumMessageSize
(256 KiB unless raised).  Attributes are kept as storage
:class:`~storage.records.MessageAttribute` (raw delivery hands them to SQS as
is), the filter engine sees ``name -> (type, value)``, the envelope ``name ->
{"Type", "Value"}`` with Binary values base64.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

from broker.errors import InvalidParameter, SnsInvalidParameterValue
from broker.sns import api, documents
from broker.sqs import message as sqs_message
from storage.records import MessageAttribute

MAX_ATTRIBUTES = 10
DEFAULT_MAX_SIZE = 262_144
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,256}$")


def convert_attributes(given: Mapping[str, api.MessageAttributeValue] | None) -> tuple[MessageAttribute, ...]:
    """Validate published message attributes; return them as stored attributes."""
    if not given:
        return ()
    if len(given) > MAX_ATTRIBUTES:
        raise InvalidParameter(
            f"Invalid parameter: MessageAttributes Reason: Number of message attributes [{len(given)}] "
            f"exceeds the allowed maximum [{MAX_ATTRIBUTES}]."
        )
    out = []
    for name, value in given.items():
        if not _NAME.match(name) or name.startswith((".", "AWS.", "Amazon.")) or ".." in name:
            raise SnsInvalidParameterValue(f"The message attribute '{name}' has an invalid name.")
        data_type = value.data_type
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise SnsInvalidParameterValue(
                f"The message attribute '{name}' has an invalid message attribute type, the set of "
                "supported type prefixes is Binary, Number, and String."
            )
        if base == "Binary":
            if value.binary_value is None:
                raise SnsInvalidParameterValue(
                    f"The message attribute '{name}' must contain non-empty message attribute value "
                    "for message attribute type 'Binary'."
                )
            out.append(MessageAttribute(name, data_type, None, value.binary_value))
            continue
        text = value.string_value
        if text is None or text == "":
            raise SnsInvalidParameterValue(
                f"The message attribute '{name}' must contain non-empty message attribute value "
                f"for message attribute type '{base}'."
            )
        if base == "Number" and not _NUMBER.match(text):
            raise SnsInvalidParameterValue(
                f"The message attribute '{name}' with type 'Number' must have a value of type number."
            )
        if data_type == "String.Array" and not documents.is_json_array(text):
            raise SnsInvalidParameterValue(
                f"The message attribute '{name}' with type 'String.Array' has to be a valid JSON array."
            )
        out.append(MessageAttribute(name, data_type, text, None))
    return tuple(out)


def check_size(message: str, attributes: tuple[MessageAttribute, ...], max_size: int) -> None:
    """InvalidParameter when body plus attributes exceed ``max_size`` bytes."""
    if len(message.encode()) + attributes_size(attributes) > max_size:
        raise InvalidParameter("Invalid parameter: Message too long")


def attributes_size(attributes: tuple[MessageAttribute, ...]) -> int:
    """Bytes the attributes count toward the size limit (name, type and value), as in SQS."""
    return sqs_message.attributes_size(attributes)


def filter_view(attributes: tuple[MessageAttribute, ...]) -> dict[str, tuple[str, str]]:
    """The attributes as the filter engine takes them: name to (DataType, StringValue)."""
    return {
        a.name: (a.data_type, a.string_value if a.string_value is not None else _b64(a.binary_value))
        for a in attributes
    }


def envelope_view(attributes: tuple[MessageAttribute, ...]) -> dict[str, dict[str, str]]:
    """The attributes as the JSON envelope writes them."""
    return {
        a.name: {
            "Type": a.data_type,
            "Value": a.string_value if a.string_value is not None else _b64(a.binary_value),
        }
        for a in attributes
    }


def _b64(value: bytes | None) -> str:
    return base64.b64encode(value or b"").decode("ascii")


LARGE_MESSAGE_PROTOCOLS = frozenset({"sqs", "lambda", "firehose"})
LARGE_MESSAGE_MAX_SUBSCRIPTIONS = 100


def check_large_message_topic(max_size: int, protocols: list[str]) -> None:
    """AWS's rule for topics whose MaximumMessageSize is above 256 KiB: only SQS, Lambda
    and Firehose subscriptions, at most 100 of them (InvalidParameter otherwise)."""
    if max_size <= DEFAULT_MAX_SIZE:
        return
    if len(protocols) > LARGE_MESSAGE_MAX_SUBSCRIPTIONS:
        raise InvalidParameter(
            f"Invalid parameter: A topic with a MaximumMessageSize above {DEFAULT_MAX_SIZE} bytes supports "
            f"at most {LARGE_MESSAGE_MAX_SUBSCRIPTIONS} subscriptions"
        )
    unsupported = sorted(set(protocols) - LARGE_MESSAGE_PROTOCOLS)
    if unsupported:
        raise InvalidParameter(
            f"Invalid parameter: A topic with a MaximumMessageSize above {DEFAULT_MAX_SIZE} bytes supports "
            f"only sqs, lambda and firehose subscriptions, not {unsupported[0]}"
        )


def max_size(attributes: Mapping[str, str]) -> int:
    """A topic's MaximumMessageSize (256 KiB unless raised)."""
    raw = attributes.get("MaximumMessageSize")
    return int(raw) if raw else DEFAULT_MAX_SIZE
