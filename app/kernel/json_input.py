"""What every JSON request body must respect, whatever its route: a JSON type, and no NUL characters (PostgreSQL
cannot store one)."""

from __future__ import annotations

from typing import Any

from app.kernel.errors import BadRequest

_JSON_TYPES = frozenset({"application/json", "text/json"})
NUL_REFUSED = "The request contains a NUL character (\\u0000), which is not allowed in any field."


def refuse_nul_characters(raw: bytes, value: Any) -> None:
    """400 for a NUL in any string (PostgreSQL cannot store one); the byte scan keeps the common case cheap."""
    if b"\\u0000" in raw and _has_nul(value):
        raise BadRequest(NUL_REFUSED)


def _has_nul(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def is_json_type(content_type: str) -> bool:
    """`application/json`, `text/json` or `application/<x>+json`, with any parameters."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))
