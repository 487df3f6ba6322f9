"""Signing SNS messages as AWS does, with a key and certificate of our own.

Rules: one RSA-2048 key and a self-signed X.509 certificate are generated on
first start and kept in the store (meta keys ``sns:signing-key`` and
``sns:signing-cert``, PEM), so a restart signs with the same key and old
signatures stay verifiable.  The certificate is served at the SigningCertURL
(``/_shoal/sns/cert.pem`` on the HTTP port).

:meth:`Signer.sign` implements AWS's documented scheme: the string to sign is
the message's fields, each name and value on its own line, in AWS's fixed
order (for a Notification: Message, MessageId, Subject if present, Timestamp,
TopicArn, Type; for a SubscriptionConfirmation or UnsubscribeConfirmation:
Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type), signed
with SHA1withRSA for SignatureVersion 1 and SHA256withRSA for version 2, and
base64-encoded.  HTTP delivery reuses this module as is.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from storage.store import Db, LmdbStore, Write, put

KEY_KEY = b"sns:signing-key"
CERT_KEY = b"sns:signing-cert"
CERT_PATH = "/_shoal/sns/cert.pem"

SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


def string_to_sign(fields: Mapping[str, object]) -> bytes:
    """AWS's canonical string of a message: ``name\\nvalue\\n`` for each signed field present."""
    order = SIGNED_FIELDS[str(fields["Type"])]
    return "".join(f"{name}\n{fields[name]}\n" for name in order if fields.get(name) is not None).encode()


class Signer:
    """The server's SNS signing key and certificate."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate_pem: bytes) -> None:
        self._key = key
        self.certificate_pem = certificate_pem

    @classmethod
    def load(cls, store: LmdbStore) -> tuple[Signer, list[Write]]:
        """The stored signer, or a new one and the writes that keep it."""
        key_pem, cert_pem = store.get(Db.META, KEY_KEY), store.get(Db.META, CERT_KEY)
        if key_pem is not None and cert_pem is not None:
            key = serialization.load_pem_private_key(key_pem, password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return cls(key, cert_pem), []
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert_pem = _self_signed(key)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(key, cert_pem), [put(Db.META, KEY_KEY, key_pem), put(Db.META, CERT_KEY, cert_pem)]

    def sign(self, fields: Mapping[str, object], version: str) -> str:
        """The base64 Signature of a message for SignatureVersion ``version`` (``1`` or ``2``)."""
        digest = _HASHES.get(version, hashes.SHA1)
        signature = self._key.sign(string_to_sign(fields), padding.PKCS1v15(), digest())
        return base64.b64encode(signature).decode("ascii")


def _self_signed(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.shoal.local")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)
