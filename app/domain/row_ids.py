"""Numeric ids and integer parameters as the database can hold them (64-bit signed)."""

from __future__ import annotations

from typing import Final

MAX_INT64: Final = 2**63 - 1


def parse_row_id(text: str) -> int | None:
    """An id in a path: ASCII digits only, within 64 bits; anything else names no row."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_INT64 else None
