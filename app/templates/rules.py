"""Transactional templates and their versions: ids, limits and the checks on request bodies (pure).

Wording marked "ours" is the mirror's where SendGrid's is not public (see docs/deviations.md).
"""

from __future__ import annotations

import base64
import html
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from app.kernel import row_ids
from app.kernel.errors import BadRequest, ErrorDetail

GENERATIONS: Final = ("legacy", "dynamic")
EDITORS: Final = ("code", "design")
MAX_TEMPLATES: Final = 300
MAX_VERSIONS: Final = 300
MAX_NAME: Final = 100
MAX_SUBJECT: Final = 255
MAX_CONTENT_BYTES: Final = 1_048_576
MAX_PAGE_SIZE: Final = 200

MISSING: Final = "missing required argument"
TOO_MANY_TEMPLATES: Final = f"You have reached the limit of {MAX_TEMPLATES} templates."  # ours
TOO_MANY_VERSIONS: Final = f"A template can have at most {MAX_VERSIONS} versions."  # ours

_VERSION_STRINGS: Final = {
    "name": MAX_NAME,
    "subject": MAX_SUBJECT,
    "html_content": None,
    "plain_content": None,
    "test_data": None,
}

# Typed flags of a version body: what each accepts, and the complaint otherwise (ours).
_FLAGS: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "active": (lambda v: type(v) is int and v in (0, 1), "active must be 0 or 1"),
    "generate_plain_content": (lambda v: isinstance(v, bool), "generate_plain_content must be a boolean"),
    "editor": (lambda v: v in EDITORS, "editor must be either code or design"),
}


def new_template_id(generation: str) -> str:
    """Dynamic templates are `d-` and 32 hex digits; legacy ones a GUID, as SendGrid issues them."""
    return f"d-{uuid.uuid4().hex}" if generation == "dynamic" else str(uuid.uuid4())


def new_version_id() -> str:
    return str(uuid.uuid4())


def timestamp(moment: datetime) -> str:
    """`updated_at` as SendGrid writes it: `2021-04-28 13:12:46` (UTC; PostgreSQL hands back its session's zone)."""
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).strftime("%Y-%m-%d %H:%M:%S")


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object", field=None)  # ours
    return body


def _name(errors: list[ErrorDetail], body: dict[str, Any], *, required: bool) -> str | None:
    if "name" not in body:
        if required:
            errors.append(ErrorDetail(MISSING, "name"))
        return None
    name = body["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        errors.append(ErrorDetail(f"name must be a string of 1 to {MAX_NAME} characters", "name"))  # ours
        return None
    return name


def template_create(body: Any) -> tuple[str, str]:
    """`{name, generation}` of POST /v3/templates (generation defaults to legacy, as the spec says)."""
    fields = _object(body)
    errors: list[ErrorDetail] = []
    name = _name(errors, fields, required=True)
    generation = fields.get("generation", "legacy")
    if generation not in GENERATIONS:
        errors.append(ErrorDetail("generation must be either legacy or dynamic", "generation"))  # ours
    if errors or name is None:
        raise BadRequest(details=errors)
    return name, str(generation)


def template_name(body: Any, *, required: bool) -> str | None:
    """The `name` of a PATCH or duplicate body."""
    errors: list[ErrorDetail] = []
    name = _name(errors, _object(body), required=required)
    if errors:
        raise BadRequest(details=errors)
    return name


def generations(value: str | None) -> tuple[str, ...]:
    """`generations=legacy,dynamic` → the generations listed (legacy when absent)."""
    if value is None or value == "":
        return ("legacy",)
    wanted = tuple(part.strip() for part in value.split(","))
    if not wanted or any(part not in GENERATIONS for part in wanted):
        raise BadRequest("generations must be legacy, dynamic or legacy,dynamic", field="generations")  # ours
    return wanted


def page_size(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(f"page_size must be an integer between 1 and {MAX_PAGE_SIZE}", field="page_size")  # ours
    return size


@dataclass(frozen=True, slots=True)
class VersionFields:
    """The fields a version body sets (absent ones are not in `values`)."""

    values: dict[str, Any]


def version_fields(body: Any, *, creating: bool) -> VersionFields:
    """Check a version body: `name` and `subject` required on create, lengths, `active` 0/1, `editor`."""
    fields = _object(body)
    errors: list[ErrorDetail] = []
    values: dict[str, Any] = {}
    for key, limit in _VERSION_STRINGS.items():
        if key not in fields:
            if creating and key in ("name", "subject"):
                errors.append(ErrorDetail(MISSING, key))
            continue
        value = fields[key]
        if key == "test_data" and isinstance(value, dict | list):
            value = _json_text(value)
        problem = _string_problem(key, value, limit)
        if problem:
            errors.append(ErrorDetail(problem, key))
        else:
            values[key] = value
    for key, (accepts, message) in _FLAGS.items():
        if key in fields and accepts(fields[key]):
            values[key] = fields[key]
        elif key in fields:
            errors.append(ErrorDetail(message, key))
    if errors:
        raise BadRequest(details=errors)
    if "active" in values:
        values["active"] = values["active"] == 1
    return VersionFields(values)


def _string_problem(key: str, value: Any, limit: int | None) -> str | None:
    if not isinstance(value, str):
        return f"{key} must be a string"  # ours
    if key == "name" and not value.strip():
        return f"{key} cannot be empty"  # ours
    if limit is not None and len(value) > limit:
        return f"{key} must be at most {limit} characters"  # ours
    if limit is None and len(value.encode()) > MAX_CONTENT_BYTES:
        return f"{key} must be at most {MAX_CONTENT_BYTES} bytes"  # ours
    return None


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- plain text from HTML -------------------------------------------------------------------------------

_DROP = re.compile(r"<(head|style|script|title)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr|table|ul|ol|blockquote|section|article|header|footer)\s*>", re.I)
_LINK = re.compile(r"""<a\b[^>]*?href\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a\s*>""", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<(?!%(?:body|subject)%>)[^>]+>")  # legacy templates' `<%body%>` is no HTML tag
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def plain_from_html(document: str) -> str:
    """The text part SendGrid generates from a version's HTML when `generate_plain_content` is on.

    Tags go, block ends and `<br>` become line breaks, links keep their URL in parentheses, entities are
    decoded; Handlebars expressions and legacy `<%body%>` / `<%subject%>` tags survive untouched, so the text
    renders with the same data and takes the same body.
    """
    text = _COMMENT.sub("", _DROP.sub("", document))
    text = _LINK.sub(lambda m: _link_text(m.group(2), m.group(1)), text)
    text = _BLOCK_END.sub("\n", _BREAK.sub("\n", text))
    text = html.unescape(_TAG.sub("", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _link_text(label: str, url: str) -> str:
    words = _TAG.sub("", label).strip()
    return f"{words} ( {url} )" if words and words != url else url


# --- paging ---------------------------------------------------------------------------------------------


def page_token(offset: int) -> str:
    """An opaque token for the page starting at `offset`."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, number = text.partition(":")
        offset = row_ids.parse_row_id(number) if kind == "o" else None
        if offset is not None:
            return offset
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest("page_token is not valid", field="page_token")  # ours
