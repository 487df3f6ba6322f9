"""What makes a message valid, and the MD5 digests AWS returns for it.

The SDKs recompute ``MD5OfMessageBody``, ``MD5OfMessageAttributes`` and
``MD5OfMessageSystemAttributes`` and raise on a mismatch, so these follow AWS's
documented encoding byte for byte: attributes sorted by name, and for each the
name, the data type (each as a 4-byte big-endian length plus UTF-8 bytes), a
transport byte (1 for String and Number, 2 for Binary) and the value (length
plus bytes).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterable, Mapping

from broker.errors import InvalidMessageContents, InvalidParameterValue
from broker.sqs.api import MessageAttributeValue, MessageSystemAttributeValue
from storage.records import MessageAttribute

MAX_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME = 256
MAX_DATA_TYPE = 256
SYSTEM_ATTRIBUTES = frozenset({"AWSTraceHeader"})

_INVALID_BODY = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_\-.]+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_LENGTH = struct.Struct(">I")
_TRANSPORT = {"String": b"\x01", "Number": b"\x01", "Binary": b"\x02"}


def md5_hex(data: bytes) -> str:
    """Hex MD5, as every MD5 field of SQS."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def check_body(body: str) -> None:
    """Reject characters outside the set SQS allows in a body."""
    if body.isascii() and body.isprintable():  # the common case, all allowed: no regex
        return
    bad = _INVALID_BODY.search(body)
    if bad is not None:
        raise InvalidMessageContents(
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message body, the set of "
            "allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
        )


def convert_attributes(
    given: Mapping[str, MessageAttributeValue | MessageSystemAttributeValue] | None, *, system: bool = False
) -> tuple[MessageAttribute, ...]:
    """Validate message (or message system) attributes and turn them into stored attributes."""
    if not given:
        return ()
    kind = "system" if system else "user"
    if len(given) > MAX_ATTRIBUTES and not system:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(given)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}]."
        )
    converted = []
    for name, value in given.items():
        if system and name not in SYSTEM_ATTRIBUTES:
            raise InvalidParameterValue(f"Message system attribute name '{name}' is invalid.")
        _check_attribute_name(name, kind)
        data_type = value.data_type
        base = data_type.split(".", 1)[0]
        if base not in _TRANSPORT or len(data_type) > MAX_DATA_TYPE:
            raise InvalidParameterValue(
                f"The type of message ({kind}) attribute '{name}' is invalid. "
                "You must use only the following "
                "supported type prefixes: Binary, Number, String."
            )
        if base == "Binary":
            if value.binary_value is None or (value.string_value is not None):
                raise _empty_value(kind, name, data_type)
            converted.append(MessageAttribute(name, data_type, None, value.binary_value))
            continue
        text = value.string_value
        if not text or value.binary_value is not None:
            raise _empty_value(kind, name, data_type)
        if base == "Number" and not _NUMBER.match(text):
            raise InvalidParameterValue(f"Could not cast message attribute '{name}' value to number.")
        check_body(text)
        converted.append(MessageAttribute(name, data_type, text, None))
    return tuple(converted)


def _check_attribute_name(name: str, kind: str) -> None:
    lowered = name.lower()
    if (
        not name
        or len(name) > MAX_ATTRIBUTE_NAME
        or not _ATTRIBUTE_NAME.match(name)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
        or (kind == "user" and (lowered.startswith("aws.") or lowered.startswith("amazon.")))
    ):
        raise InvalidParameterValue(f"Message ({kind}) attribute name '{name}' is invalid.")


def _empty_value(kind: str, name: str, data_type: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Message ({kind}) attribute '{name}' must contain a non-empty message attribute value for "
        f"message attribute type '{data_type.split('.', 1)[0]}'."
    )


def attributes_size(attributes: Iterable[MessageAttribute]) -> int:
    """Bytes the attributes count toward the message size limit (name, type and value)."""
    total = 0
    for attribute in attributes:
        total += len(attribute.name.encode()) + len(attribute.data_type.encode())
        if attribute.string_value is not None:
            total += len(attribute.string_value.encode())
        if attribute.binary_value is not None:
            total += len(attribute.binary_value)
    return total


def md5_of_attributes(attributes: Iterable[MessageAttribute]) -> str | None:
    """AWS's MD5OfMessageAttributes over ``attributes``; None when there are none."""
    ordered = sorted(attributes, key=lambda attribute: attribute.name)
    if not ordered:
        return None
    parts: list[bytes] = []
    for attribute in ordered:
        for text in (attribute.name, attribute.data_type):
            encoded = text.encode()
            parts += (_LENGTH.pack(len(encoded)), encoded)
        if attribute.binary_value is not None:
            parts += (_TRANSPORT["Binary"], _LENGTH.pack(len(attribute.binary_value)), attribute.binary_value)
        else:
            encoded = (attribute.string_value or "").encode()
            parts += (_TRANSPORT["String"], _LENGTH.pack(len(encoded)), encoded)
    return md5_hex(b"".join(parts))


def to_api_value(attribute: MessageAttribute) -> MessageAttributeValue:
    """A stored attribute as the API returns it."""
    return MessageAttributeValue(
        data_type=attribute.data_type,
        string_value=attribute.string_value,
        binary_value=attribute.binary_value,
    )


def select_attributes(
    attributes: tuple[MessageAttribute, ...], wanted: list[str] | None
) -> tuple[MessageAttribute, ...]:
    """The attributes a ReceiveMessage's MessageAttributeNames asks for (All, ``.*``, ``prefix.*``, names)."""
    if not wanted or not attributes:
        return ()
    if "All" in wanted or ".*" in wanted:
        return attributes
    exact = {name for name in wanted if not name.endswith(".*")}
    prefixes = tuple(name[:-1] for name in wanted if name.endswith(".*"))
    return tuple(
        attribute
        for attribute in attributes
        if attribute.name in exact or (prefixes and attribute.name.startswith(prefixes))
    )
