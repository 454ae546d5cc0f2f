"""Building blocks of the mail-send validator: the shared error list, JSON type checks and addresses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from app.kernel.errors import MAIL_ERRORS_HELP, ErrorDetail
from app.mail import rules as mail_rules
from app.mail.message import Address
from app.mail.wording import (
    DUPLICATE_REPLY_TO,
    FROM_INVALID,
    FROM_REQUIRED,
    INVALID_ADDRESS,
    REPLY_TO_EXCLUSIVE,
    REPLY_TO_REQUIRED,
    TOO_MANY_REPLY_TO,
)

T = TypeVar("T")
Errors = list[ErrorDetail]
MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class _AddressRules:
    missing: str
    invalid: str
    too_long: str
    bad_name: str | None = None  # set where names may not contain ';' or ','


def _recipient_rules(kind: str, label: str) -> _AddressRules:
    return _AddressRules(
        missing=f"The {kind} email parameter is required.",
        invalid=INVALID_ADDRESS,
        too_long=f"The {label} email exceeds the maximum total length of 320 characters",
        bad_name=f"The {kind} name cannot contain ';' or ',' characters.",  # ours
    )


RECIPIENT_RULES: Final = {
    "to": _recipient_rules("to", "To"),
    "cc": _recipient_rules("cc", "CC"),
    "bcc": _recipient_rules("bcc", "BCC"),
}
_FROM_RULES: Final = _AddressRules(
    FROM_REQUIRED, FROM_INVALID, "The From email exceeds the maximum total length of 320 characters"
)
_REPLY_TO_RULES: Final = _AddressRules(
    REPLY_TO_REQUIRED,
    INVALID_ADDRESS,
    "The Reply-To email exceeds the maximum total length of 320 characters",
)


def _help(path: str) -> str:
    """The errors-page anchor for a field: indices dropped, an address's email/name folded into it."""
    parts = [part for part in path.split(".") if not part.isdigit()]
    if len(parts) > 1 and parts[-1] in ("email", "name"):
        parts.pop()
    return f"{MAIL_ERRORS_HELP}#message.{'.'.join(parts)}"


def add_error(errs: Errors, message: str, path: str, help_: str | None = None) -> None:
    errs.append(ErrorDetail(message, path, help_ or _help(path)))


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def type_message(expected: str, value: object) -> str:
    return f"Invalid type. Expected: {expected}, given: {_json_type(value)}."


def is_type(value: object, expected: str) -> bool:
    return _json_type(value) == expected


def _type_error(errs: Errors, expected: str, value: object, path: str) -> None:
    add_error(errs, type_message(expected, value), path)


def json_object(errs: Errors, raw: object, path: str) -> dict[Any, Any] | None:
    if isinstance(raw, dict):
        return raw
    _type_error(errs, "object", raw, path)
    return None


def json_array(errs: Errors, raw: object, path: str) -> list[Any] | None:
    if isinstance(raw, list):
        return raw
    _type_error(errs, "array", raw, path)
    return None


def json_string(errs: Errors, raw: object, path: str) -> str | None:
    if isinstance(raw, str):
        return raw
    _type_error(errs, "string", raw, path)
    return None


def json_integer(errs: Errors, raw: object, path: str) -> int | None:
    # JSON has one number type: 5.0 is the integer 5, as JSON Schema (and SendGrid) read it.
    if isinstance(raw, int | float) and is_type(raw, "integer"):
        return int(raw)
    _type_error(errs, "integer", raw, path)
    return None


def optional_field(
    errs: Errors, obj: dict[Any, Any], key: str, parse: Callable[[Errors, Any, str], T], prefix: str = ""
) -> T | None:
    """Parse `obj[key]` at path `prefix + key` if the key is present."""
    raw = obj.get(key, MISSING)
    return None if raw is MISSING else parse(errs, raw, prefix + key)


def has_any(text: str, chars: str) -> bool:
    return any(char in text for char in chars)


def first_duplicate(groups: Iterable[tuple[str, tuple[Address, ...]]]) -> tuple[str, str] | None:
    """The first address repeated across the groups (ignoring case) and the group it repeats in."""
    seen: set[str] = set()
    for field, addresses in groups:
        for address in addresses:
            key = address.email.lower()
            if key in seen:
                return address.email, field
            seen.add(key)
    return None


def read_address(errs: Errors, raw: object, path: str, rules: _AddressRules) -> Address | None:
    obj = json_object(errs, raw, path)
    if obj is None:
        return None
    before = len(errs)
    email = _email(errs, obj.get("email", MISSING), f"{path}.email", rules)
    name = optional_field(errs, obj, "name", json_string, f"{path}.")
    if name is not None and rules.bad_name and has_any(name, ";,"):
        add_error(errs, rules.bad_name, f"{path}.name")
    return Address(email, name) if email is not None and len(errs) == before else None


def _email(errs: Errors, raw: object, path: str, rules: _AddressRules) -> str | None:
    if raw is MISSING:
        add_error(errs, rules.missing, path)
        return None
    email = json_string(errs, raw, path)
    if email is None:
        return None
    if len(email) > mail_rules.MAX_EMAIL:
        add_error(errs, rules.too_long, path)
    elif not mail_rules.EMAIL.fullmatch(email):
        add_error(errs, rules.invalid, path)
    else:
        return email
    return None


def read_sender(errs: Errors, body: dict[Any, Any], prefix: str = "") -> Address | None:
    raw = body.get("from", MISSING)
    if raw is MISSING:
        add_error(errs, FROM_REQUIRED, f"{prefix}from.email")
        return None
    return read_address(errs, raw, f"{prefix}from", _FROM_RULES)


def read_reply_to(errs: Errors, body: dict[Any, Any]) -> tuple[Address | None, tuple[Address, ...]]:
    single = optional_field(errs, body, "reply_to", _reply_to_address)
    many = optional_field(errs, body, "reply_to_list", _reply_to_list) or ()
    if "reply_to" in body and "reply_to_list" in body:
        add_error(errs, REPLY_TO_EXCLUSIVE, "reply_to_list")
    return single, many


def _reply_to_address(errs: Errors, raw: object, path: str) -> Address | None:
    return read_address(errs, raw, path, _REPLY_TO_RULES)


def _reply_to_list(errs: Errors, raw: object, path: str) -> tuple[Address, ...]:
    items = json_array(errs, raw, path)
    if items is None:
        return ()
    if len(items) > mail_rules.LIMIT:
        add_error(errs, TOO_MANY_REPLY_TO, path)
        return ()
    parsed = [read_address(errs, item, f"{path}.{i}", _REPLY_TO_RULES) for i, item in enumerate(items)]
    addresses = tuple(a for a in parsed if a is not None)
    duplicate = first_duplicate(((path, addresses),))
    if duplicate is not None:
        add_error(errs, DUPLICATE_REPLY_TO.format(email=duplicate[0]), path)
    return addresses
