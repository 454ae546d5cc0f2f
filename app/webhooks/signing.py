"""The Signed Event Webhook's keys and signatures, as SendGrid makes them.

An ECDSA P-256 key pair per webhook; the signature is ECDSA-SHA256 over the timestamp string followed by the
raw body, sent base64 (DER) in `X-Twilio-Email-Event-Webhook-Signature`; the public key is served as base64
of its DER SubjectPublicKeyInfo, which the SDKs' EventWebhook helpers wrap in PEM armour.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_private_key,
)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


def new_key_pair() -> tuple[bytes, str]:
    """A fresh private key (PKCS#8 DER) and its public key as SendGrid serves it (base64 DER SPKI)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(public).decode("ascii")


def sign(private_key: bytes, timestamp: str, payload: bytes) -> str:
    """Base64 of the DER ECDSA-SHA256 signature over timestamp + payload."""
    key = load_der_private_key(private_key, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the stored webhook key is not an elliptic-curve key")
    signature = key.sign(timestamp.encode("ascii") + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode("ascii")


def headers(private_key: bytes | None, timestamp: int, payload: bytes) -> dict[str, str]:
    """The two signature headers (none when the webhook is not signed)."""
    if private_key is None:
        return {}
    stamp = str(timestamp)
    return {SIGNATURE_HEADER: sign(private_key, stamp, payload), TIMESTAMP_HEADER: stamp}
