"""Request rules of the suppression and unsubscribe-group APIs: bodies, list filters, their errors.

Messages SendGrid is known to send are used verbatim; the others are recorded in docs/deviations.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from app.kernel import row_ids
from app.kernel.errors import BadRequest

MAX_PAGE: Final = 500
MAX_GROUP_NAME: Final = 30
MAX_GROUP_DESCRIPTION: Final = 100
MAX_GROUPS: Final = 200

BOTH_DELETE_FIELDS: Final = "emails and delete_all cannot both be set"
NO_DELETE_FIELDS: Final = "either delete_all or emails must be set"
MAX_EMAIL: Final = 320
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The last second a datetime can hold: later start/end times are read as "never".
_LAST_SECOND: Final = 253_402_300_799  # 9999-12-31T23:59:59Z


@dataclass(frozen=True, slots=True)
class ListFilter:
    """`start_time`/`end_time` (unix seconds, inclusive), paging and the `email` match of a list request."""

    start_time: int | None = None
    end_time: int | None = None
    limit: int | None = None
    offset: int = 0
    email_like: str | None = None

    @property
    def since(self) -> datetime | None:
        """Entries created at or after this moment."""
        return None if self.start_time is None else _moment(self.start_time)

    @property
    def until(self) -> datetime | None:
        """Entries created at or before this moment (end_time counts whole: up to its last microsecond)."""
        return None if self.end_time is None else _moment(self.end_time) + timedelta(microseconds=999_999)


@dataclass(frozen=True, slots=True)
class DeleteRequest:
    """`{"delete_all": true}` or `{"emails": [...]}` (lower-cased)."""

    everything: bool
    emails: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupFields:
    """The fields of a group create/update body; None where the body leaves them out."""

    name: str | None = None
    description: str | None = None
    is_default: bool | None = None


def list_filter(
    *, start_time: str | None, end_time: str | None, limit: str | None, offset: str | None, email: str | None
) -> ListFilter:
    """Parse the query parameters of a list request."""
    return ListFilter(
        start_time=row_ids.parse_int(start_time, field="start_time", minimum=0),
        end_time=row_ids.parse_int(end_time, field="end_time", minimum=0),
        limit=row_ids.parse_int(limit, field="limit", minimum=1, maximum=MAX_PAGE),
        offset=row_ids.parse_int(offset, field="offset", minimum=0) or 0,
        email_like=like_pattern(email) if email else None,
    )


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(min(seconds, _LAST_SECOND), UTC)


def like_pattern(email: str) -> str:
    """SendGrid's email match as SQL LIKE: a prefix, `%` a wildcard; `_` and `\\` match themselves."""
    escaped = email.strip().lower().replace("\\", "\\\\").replace("_", "\\_")
    return escaped if escaped.endswith("%") else escaped + "%"


def delete_request(body: Any) -> DeleteRequest:
    """Parse the body of a delete-many request."""
    if not isinstance(body, dict):
        raise BadRequest(NO_DELETE_FIELDS)
    if "delete_all" in body and "emails" in body:
        raise BadRequest(BOTH_DELETE_FIELDS)
    if "delete_all" in body:
        if not isinstance(body["delete_all"], bool):
            raise BadRequest("delete_all must be a boolean", field="delete_all")
        if not body["delete_all"]:
            raise BadRequest(NO_DELETE_FIELDS)
        return DeleteRequest(everything=True)
    if "emails" in body:
        return DeleteRequest(everything=False, emails=_strings(body["emails"], "emails"))
    raise BadRequest(NO_DELETE_FIELDS)


def recipient_emails(body: Any) -> tuple[str, ...]:
    """The `recipient_emails` of an add or search body, checked and lower-cased."""
    if not isinstance(body, dict) or "recipient_emails" not in body:
        raise BadRequest("recipient_emails is required", field="recipient_emails")
    emails = _strings(body["recipient_emails"], "recipient_emails")
    if not emails:
        raise BadRequest("recipient_emails must contain at least one email address", field="recipient_emails")
    for email in emails:
        if len(email) > MAX_EMAIL or not _EMAIL.match(email):
            raise BadRequest(f"{email} is not a valid email address", field="recipient_emails")
    return emails


@dataclass(frozen=True, slots=True)
class NewGroup:
    name: str
    description: str
    is_default: bool = False


def new_group(body: Any) -> NewGroup:
    """The body of a group create: name and description required."""
    fields = group_fields(body, creating=True)
    return NewGroup(name=fields.name or "", description=fields.description or "", is_default=bool(fields.is_default))


def group_fields(body: Any, *, creating: bool = False) -> GroupFields:
    """The name, description and is_default of a group create (name and description required) or update."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    name = _text(body, "name", MAX_GROUP_NAME, required=creating)
    description = _text(body, "description", MAX_GROUP_DESCRIPTION, required=creating)
    is_default = body.get("is_default")
    if is_default is not None and not isinstance(is_default, bool):
        raise BadRequest("is_default must be a boolean", field="is_default")
    return GroupFields(name=name, description=description, is_default=is_default)


def day(value: str | None, field: str) -> date | None:
    """A YYYY-MM-DD query parameter."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{field} must be a date in YYYY-MM-DD format", field=field) from None


def group_id(value: str) -> int | None:
    """A group id from the path, or None when it cannot name a group."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _text(body: dict[str, Any], name: str, maximum: int, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name} is required", field=name)
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", field=name)
    if (required or name == "name") and not value.strip():
        raise BadRequest(f"{name} is required", field=name)
    if len(value) > maximum:
        raise BadRequest(f"{name} must be at most {maximum} characters", field=name)
    return value


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"{field} must be an array of strings", field=field)
    return tuple(dict.fromkeys(item.strip().lower() for item in value))
