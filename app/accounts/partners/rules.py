"""Account Provisioning (partner API) rules: the offerings catalog and request validation.

Errors are family B: a message, a field ("" when none) and an error id. SendGrid documents 10-40002
(email, IP), 10-40008 (URL) and 10-40010 (phone); the other ids are the mirror's (docs/deviations.md).
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from app.kernel.errors import BadRequest, ErrorDetail

REQUIRED = "10-40001"
FORMAT = "10-40002"
TYPE = "10-40003"
CHOICE = "10-40004"
RANGE = "10-40005"
URL = "10-40008"
PHONE = "10-40010"
TIMEZONE = "10-40011"
OFFERING = "10-40012"
STATE_CHANGE = "10-40020"
NOT_FOUND = "10-40400"

ACCOUNT_NOT_FOUND = "Account not found"
PHONE_MESSAGE = (
    "Field must be formatted using the E.164 standard consisting of [+] [country code] "
    "[subscriber number including area code] and can have a maximum of fifteen digits."
)
PROFILE_FIELDS = ("first_name", "last_name", "company_name", "email", "phone", "company_website", "timezone")
IP_REGIONS = ("us", "eu")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


@dataclass(frozen=True, slots=True)
class Offering:
    """A catalog entry; the entitlements are informative (quotas arrive with their own issue)."""

    name: str
    type: str
    email_sends_max_monthly: int
    ip_count: int = 0
    teammates_max_total: int = 0
    users_max_total: int = 0


CATALOG: tuple[Offering, ...] = (
    Offering("org.ei.free.v1", "package", 10_000),
    Offering("org.ei.essentials40k.v1", "package", 40_000, teammates_max_total=1),
    Offering("org.ei.essentials100k.v1", "package", 100_000, teammates_max_total=1),
    Offering("org.ei.pro100k.v1", "package", 100_000, 1, 1000, 15),
    Offering("org.ei.pro300k.v1", "package", 300_000, 1, 1000, 15),
    Offering("org.ei.addon.ip.v1", "addon", 0, ip_count=1),
    Offering("org.ei.addon.ease.v1", "addon", 0),
)
_BY_NAME = {offering.name: offering for offering in CATALOG}


def error(message: str, field: str, error_id: str) -> ErrorDetail:
    return ErrorDetail(message, field, error_id=error_id)


def raise_if_any(errors: list[ErrorDetail]) -> None:
    """All problems of a request are reported together."""
    if errors:
        raise BadRequest(details=errors)


def validate_profile(profile: Any) -> tuple[dict[str, str], list[ErrorDetail]]:
    """The known profile fields, checked for email, URL, E.164 phone and IANA time zone."""
    if profile is None:
        return {}, []
    if not isinstance(profile, dict):
        return {}, [error("Field must be an object", "profile", TYPE)]
    clean: dict[str, str] = {}
    errors: list[ErrorDetail] = []
    for name in PROFILE_FIELDS:
        value = profile.get(name)
        if value is None:
            continue
        problem = _profile_problem(name, value)
        if problem is None:
            clean[name] = value
        else:
            errors.append(problem)
    return clean, errors


def _profile_problem(name: str, value: Any) -> ErrorDetail | None:
    if not isinstance(value, str):
        return error("Field must be a string", name, TYPE)
    if name == "email" and not _EMAIL.fullmatch(value):
        return error("Field must be a valid email", name, FORMAT)
    if name == "company_website" and not _is_url(value):
        return error("Field must be a valid URL", name, URL)
    if name == "phone" and not _E164.fullmatch(value):
        return error(PHONE_MESSAGE, name, PHONE)
    if name == "timezone" and value not in _timezones():
        return error("Field must be a valid IANA time zone, such as America/New_York", name, TIMEZONE)
    return None


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_offerings(value: Any) -> tuple[list[dict[str, Any]], list[ErrorDetail]]:
    """Offerings from the catalog, each `{name, type, quantity}`; at most one package."""
    if value is None:
        return [], [error("Field is required", "offerings", REQUIRED)]
    if not isinstance(value, list):
        return [], [error("Field must be an array", "offerings", TYPE)]
    clean: list[dict[str, Any]] = []
    errors: list[ErrorDetail] = []
    for index, entry in enumerate(value):
        offering, problems = _offering(entry, f"offerings.{index}")
        errors += problems
        if offering is not None:
            clean.append(offering)
    packages = [o for o in clean if o["type"] == "package"]
    if len(packages) > 1:
        errors.append(error("An account can have only one package offering", "offerings", OFFERING))
    names = [o["name"] for o in clean]
    if len(set(names)) != len(names):
        errors.append(error("Each offering may be listed only once", "offerings", OFFERING))
    return clean, errors


def _offering(entry: Any, path: str) -> tuple[dict[str, Any] | None, list[ErrorDetail]]:
    if not isinstance(entry, dict):
        return None, [error("Field must be an object", path, TYPE)]
    name, kind, quantity = entry.get("name"), entry.get("type"), entry.get("quantity", 1)
    if not isinstance(name, str) or not isinstance(kind, str):
        missing = [("name", name), ("type", kind)]
        return None, [_required_or_type(value, f"{path}.{key}") for key, value in missing if not isinstance(value, str)]
    known = _BY_NAME.get(name)
    if known is None:
        return None, [error(f"Unknown offering: {name}", f"{path}.name", OFFERING)]
    if kind != known.type:
        return None, [error(f"Offering {name} is of type {known.type}", f"{path}.type", CHOICE)]
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        return None, [error("Field must be an integer of at least 1", f"{path}.quantity", RANGE)]
    if kind == "package" and quantity != 1:
        return None, [error("Quantity must be 1 for a package", f"{path}.quantity", RANGE)]
    return {"name": name, "type": kind, "quantity": quantity}, []


def _required_or_type(value: Any, field: str) -> ErrorDetail:
    if value is None:
        return error("Field is required", field, REQUIRED)
    return error("Field must be a string", field, TYPE)


def parse_limit(value: str | None, *, default: int, maximum: int) -> int:
    """A `limit` query parameter: an integer from 1 to `maximum`."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= maximum:
        raise BadRequest(details=[error(f"Field must be an integer between 1 and {maximum}", "limit", RANGE)])
    return number


def parse_ipv4(value: Any, field: str) -> str:
    """A dotted IPv4 address in canonical form."""
    try:
        return str(ipaddress.IPv4Address(value))
    except (ipaddress.AddressValueError, ValueError, TypeError):
        raise BadRequest(details=[error("Field must be a valid IP address", field, FORMAT)]) from None


def required_choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    """A required string that must be one of `choices`."""
    if value is None:
        raise BadRequest(details=[error("Field is required", field, REQUIRED)])
    if value not in choices:
        raise BadRequest(details=[error(f"Field must be one of: {', '.join(choices)}", field, CHOICE)])
    return str(value)


def required_int(value: Any, field: str, *, maximum: int) -> int:
    """A required integer from 1 to `maximum`."""
    if value is None:
        raise BadRequest(details=[error("Field is required", field, REQUIRED)])
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise BadRequest(details=[error(f"Field must be an integer between 1 and {maximum}", field, RANGE)])
    return value


def account_not_found() -> ErrorDetail:
    return error(ACCOUNT_NOT_FOUND, "", NOT_FOUND)
