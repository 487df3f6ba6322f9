"""Receipt handles: opaque, tamper-evident tokens naming one receive of one message.

A handle is URL-safe base64 of ``version, queue id, sequence, receive count``
followed by a 96-bit keyed BLAKE2b MAC of those bytes under the server's secret
(BLAKE2's keyed mode is a MAC; it costs a third of HMAC-SHA256 here; the
keyed state is built once and copied per handle, which skips hashing the key
block each time).
Queue ids are never reused, so a handle from a deleted queue, from another
queue, or with any byte changed is rejected as ReceiptHandleIsInvalid.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct
from typing import NamedTuple

from broker.errors import ReceiptHandleIsInvalid

_VERSION = 2
_BODY = struct.Struct(">BQQI")
_MAC_BYTES = 12
_HANDLE_BYTES = _BODY.size + _MAC_BYTES  # 33: a multiple of 3, so base64 has no padding
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


class Receipt(NamedTuple):
    """What a handle names."""

    queue_id: int
    seq: int
    receive_count: int


_new_receipt = tuple.__new__


class ReceiptCodec:
    """Mints and checks handles with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._keyed = hashlib.blake2b(key=secret, digest_size=_MAC_BYTES)

    def mint(self, receipt: Receipt) -> str:
        """The handle of ``receipt``."""
        body = _BODY.pack(_VERSION, *receipt)
        encoded: bytes = binascii.b2a_base64(body + self._mac(body), newline=False)
        return encoded.translate(_TO_URLSAFE).decode()

    def parse(self, handle: str, queue_id: int) -> Receipt:
        """The receipt a handle names; ReceiptHandleIsInvalid unless it is ours and for this queue."""
        try:
            raw = binascii.a2b_base64(handle.encode().translate(_FROM_URLSAFE), strict_mode=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise _invalid(handle) from None
        if len(raw) != _HANDLE_BYTES:
            raise _invalid(handle)
        body, mac = raw[: _BODY.size], raw[_BODY.size :]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise _invalid(handle)
        version, owner, seq, count = _BODY.unpack(body)
        if version != _VERSION or owner != queue_id:
            raise _invalid(handle)
        return _new_receipt(Receipt, (owner, seq, count))  # tuple.__new__: no Python-level __new__

    def _mac(self, body: bytes) -> bytes:
        mac = self._keyed.copy()
        mac.update(body)
        return mac.digest()


def _invalid(handle: str) -> ReceiptHandleIsInvalid:
    return ReceiptHandleIsInvalid(f'The input receipt handle "{handle}" is not a valid receipt handle.')
