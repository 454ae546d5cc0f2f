"""Single-sender request rules (`/v3/verified_senders`): required fields and the spec's length limits.

Errors are family C: `field`, `message` and an `error_id`; SendGrid does not document its wording or ids,
so these are the mirror's (docs/deviations.md). Every problem of a body is reported together.
"""

from __future__ import annotations

import re
from typing import Any

from app.kernel.errors import ErrorDetail

REQUIRED = ("nickname", "from_email", "reply_to")
# Field -> maximum length, in the spec's order.
LIMITS: dict[str, int] = {
    "nickname": 100,
    "from_email": 256,
    "from_name": 256,
    "reply_to": 256,
    "reply_to_name": 256,
    "address": 100,
    "address2": 100,
    "state": 2,
    "city": 150,
    "zip": 10,
    "country": 100,
}
EMAIL_FIELDS = ("from_email", "reply_to")

MISSING_ID = "missing_field"
TYPE_ID = "invalid_type"
LENGTH_ID = "too_long"
EMAIL_ID = "invalid_email"
EXISTS_ID = "already_exists"
NOT_FOUND_ID = "not_found"
VERIFIED_ID = "already_verified"
TOKEN_ID = "invalid_token"
LIMIT_ID = "invalid_limit"

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def validate(body: Any, *, partial: bool) -> tuple[dict[str, str], list[ErrorDetail]]:
    """The known fields of a create (`partial=False`) or patch body, with every problem found."""
    if not isinstance(body, dict):
        return {}, [ErrorDetail("request body must be a JSON object", None, error_id=TYPE_ID)]
    clean: dict[str, str] = {}
    errors: list[ErrorDetail] = []
    for name, limit in LIMITS.items():
        if name not in body or body[name] is None:
            if not partial and name in REQUIRED:
                errors.append(ErrorDetail(f"{name} is required", name, error_id=MISSING_ID))
            continue
        problem = _problem(name, body[name], limit)
        if problem is None:
            clean[name] = body[name].strip() if name in EMAIL_FIELDS else body[name]
        else:
            errors.append(problem)
    return clean, errors


def _problem(name: str, value: Any, limit: int) -> ErrorDetail | None:
    if not isinstance(value, str):
        return ErrorDetail(f"{name} must be a string", name, error_id=TYPE_ID)
    if len(value) > limit:
        return ErrorDetail(f"{name} must be at most {limit} characters", name, error_id=LENGTH_ID)
    if name in REQUIRED and not value.strip():
        return ErrorDetail(f"{name} is required", name, error_id=MISSING_ID)
    if name in EMAIL_FIELDS and not _EMAIL.fullmatch(value.strip()):
        return ErrorDetail(f"{name} must be a valid email address", name, error_id=EMAIL_ID)
    return None
