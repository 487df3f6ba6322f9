"""Helpers shared by the e2e tests: AWS's documented MD5s, draining a queue.

Written from AWS's documentation, independently of the broker's code, so the
tests check the server rather than agree with it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any


def md5_of_body(body: str) -> str:
    """MD5OfMessageBody: hex MD5 of the body's UTF-8 bytes."""
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def md5_of_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """MD5OfMessageAttributes / MD5OfMessageSystemAttributes as AWS documents it.

    Names sorted; for each: length-prefixed (4-byte big-endian) name, length-prefixed
    data type, one transport byte (1 for String/Number, 2 for Binary), then the
    length-prefixed value (UTF-8 for strings, raw bytes for binary).
    """
    digest = hashlib.md5()

    def field(data: bytes) -> None:
        digest.update(struct.pack(">I", len(data)) + data)

    for name in sorted(attributes):
        value = attributes[name]
        data_type = value["DataType"]
        field(name.encode("utf-8"))
        field(data_type.encode("utf-8"))
        if data_type.startswith("Binary"):
            digest.update(b"\x02")
            field(bytes(value["BinaryValue"]))
        else:
            digest.update(b"\x01")
            field(value["StringValue"].encode("utf-8"))
    return digest.hexdigest()


def drain(client: Any, url: str, max_empty: int = 2, **kwargs: Any) -> list[dict[str, Any]]:
    """Receive (and delete) until ``max_empty`` receives in a row come back empty."""
    messages: list[dict[str, Any]] = []
    empty = 0
    while empty < max_empty:
        got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages", [])
        if not got:
            empty += 1
            continue
        empty = 0
        messages.extend(got)
        client.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
        )
    return messages


def error_code(exc: Any) -> str:
    return str(exc.response["Error"]["Code"])


def http_status(exc: Any) -> int:
    return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
