"""Numeric ids and integer parameters as the database can hold them (64-bit signed)."""

from __future__ import annotations

from typing import Final

from app.kernel.errors import BadRequest

MAX_INT64: Final = 2**63 - 1


def parse_row_id(text: str) -> int | None:
    """An id in a path: ASCII digits only, within 64 bits; anything else names no row."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_INT64 else None


def parse_int(value: str | None, *, field: str, minimum: int = 1, maximum: int | None = None) -> int | None:
    """An integer query parameter (None when absent), else 400 naming the field and its range.

    Unbounded parameters still end at what the database can compare (64 bits).
    """
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{field} must be an integer", field=field) from None
    if number < minimum:
        limits = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise BadRequest(f"{field} must be {limits}", field=field)
    if number > (maximum if maximum is not None else MAX_INT64):
        raise BadRequest(f"{field} must be between {minimum} and {maximum or MAX_INT64}", field=field)
    return number
