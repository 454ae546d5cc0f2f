"""The limits and formats of a v3 mail-send body, shared by the full validator and its fast path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

LIMIT: Final = 1000  # personalizations, total recipients, reply_to_list entries
MAX_EMAIL: Final = 320
MAX_BYTES: Final = 10_000  # custom_args (global + personalization), substitutions
SCHEDULE_WINDOW: Final = 72 * 3600

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# Dot-atom local part, dotted domain with an alphabetic TLD: what SendGrid's API accepts in practice.
EMAIL: Final = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])")
TEMPLATE_ID: Final = re.compile(r"d-[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def utf8_size(values: Mapping[str, str]) -> int:
    """UTF-8 bytes of keys plus values: how the 10,000-byte limits are measured."""
    return sum(len(utf8(key)) + len(utf8(value)) for key, value in values.items())


def custom_args_too_large(global_args: Mapping[str, str], own: Mapping[str, str]) -> bool:
    """A personalization's custom_args merged over the global ones exceed the limit."""
    return utf8_size({**global_args, **own}) > MAX_BYTES


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates must not crash the validator


def content_rank(content_type: str) -> int:
    """RFC 1341 order: text/plain first, then text/html, then anything else."""
    return {"text/plain": 0, "text/html": 1}.get(content_type.lower(), 2)
