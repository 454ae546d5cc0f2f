"""API key format: `SG.<22-char id>.<43-char secret>`, stored only as a SHA-256 digest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

# Generated keys are 22 + 43 URL-safe characters; keys given verbatim (seed, SGMIRROR_API_KEY) may differ
# in length as long as they keep the SG.<id>.<secret> shape.
_KEY_PATTERN = re.compile(r"SG\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,128})")


@dataclass(frozen=True, slots=True)
class ParsedKey:
    key_id: str
    digest: str


def _token(nbytes: int) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).rstrip(b"=").decode()


def _key_id() -> str:
    # The official Email Activity schema requires api_key_id to begin with a letter or digit.
    key_id = _token(16)
    while not key_id[0].isalnum():
        key_id = _token(16)
    return key_id


def generate_key() -> str:
    """A new key: 16 random bytes of id (22 chars) and 32 of secret (43 chars)."""
    return f"SG.{_key_id()}.{_token(32)}"


def digest(raw_key: str) -> str:
    # A fast hash is right here: keys carry 256 random bits, so no KDF is needed against guessing.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def parse_key(raw_key: str) -> ParsedKey | None:
    """The id and digest of a well-formed key, or None for anything else."""
    match = _KEY_PATTERN.fullmatch(raw_key)
    if match is None:
        return None
    return ParsedKey(key_id=match.group(1), digest=digest(raw_key))


def digests_match(stored: str, presented: str) -> bool:
    return hmac.compare_digest(stored.encode(), presented.encode())


def new_account_id() -> str:
    return "sg" + secrets.token_hex(16)
