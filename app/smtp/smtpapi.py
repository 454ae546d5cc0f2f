"""SendGrid's `X-SMTPAPI` header: the JSON instructions an SMTP message carries beyond MIME.

Keys read (SendGrid's "Building an X-SMTPAPI header"): `to`, `sub`, `section`, `category`, `unique_args`,
`send_at`, `send_each_at`, `asm_group_id`, `asm_groups_to_display`, `ip_pool`, `batch_id` and `filters`,
which map onto v3 `mail_settings` / `tracking_settings` (and `templates` onto `template_id`). Other keys are
ignored, as v3 ignores unknown settings. Pure: the caller passes `now` (None skips the clock checks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, Final

from app.kernel.errors import BadRequest, ErrorDetail
from app.mail import wording
from app.mail.message import Address, Asm, JSONValue

HEADER: Final = "X-SMTPAPI"
NOT_JSON: Final = "The X-SMTPAPI header must be a JSON object."  # ours
TO_INVALID: Final = "Each X-SMTPAPI to entry must be an email address, optionally with a name: {value}"  # ours
NOT_AN_OBJECT: Final = "X-SMTPAPI {key} must be a JSON object."  # ours
NOT_A_LIST: Final = "X-SMTPAPI {key} must be an array."  # ours
NOT_SCALARS: Final = "X-SMTPAPI {key} values must be strings or numbers."  # ours
NOT_AN_INTEGER: Final = "X-SMTPAPI {key} must be an integer."  # ours
NOT_A_STRING: Final = "X-SMTPAPI {key} must be a string."  # ours
FILTER_INVALID: Final = 'X-SMTPAPI filters.{name} must look like {{"settings": {{"enable": 1, ...}}}}.'  # ours

_MAX_UNIQUE_ARGS_BYTES: Final = 10_000
_SCHEDULE_WINDOW: Final = 72 * 3600
_MAX_GROUPS: Final = 25

# filter → (v3 group, v3 setting, {filter setting: v3 field}). `sandbox_mode` is the mirror's addition.
_FILTERS: Final[dict[str, tuple[str, str, dict[str, str]]]] = {
    "bypass_list_management": ("mail_settings", "bypass_list_management", {}),
    "bypass_spam_management": ("mail_settings", "bypass_spam_management", {}),
    "bypass_bounce_management": ("mail_settings", "bypass_bounce_management", {}),
    "bypass_unsubscribe_management": ("mail_settings", "bypass_unsubscribe_management", {}),
    "sandbox_mode": ("mail_settings", "sandbox_mode", {}),
    "footer": ("mail_settings", "footer", {"text/plain": "text", "text/html": "html"}),
    "bcc": ("mail_settings", "bcc", {"email": "email"}),
    "spamcheck": ("mail_settings", "spam_check", {"maxscore": "threshold", "url": "post_to_url"}),
    "clicktrack": ("tracking_settings", "click_tracking", {"enable_text": "enable_text"}),
    "opentrack": ("tracking_settings", "open_tracking", {"replace": "substitution_tag"}),
    "subscriptiontrack": (
        "tracking_settings",
        "subscription_tracking",
        {"text/plain": "text", "text/html": "html", "replace": "substitution_tag"},
    ),
    "ganalytics": (
        "tracking_settings",
        "ganalytics",
        {f"utm_{k}": f"utm_{k}" for k in ("source", "medium", "term", "content", "campaign")},
    ),
}
_BOOLEAN_FIELDS: Final = frozenset({"enable", "enable_text"})
_INTEGER_FIELDS: Final = frozenset({"threshold"})

Errors = list[ErrorDetail]
Settings = dict[str, dict[str, JSONValue]]


@dataclass(frozen=True, slots=True)
class SmtpApi:
    """The header's instructions, validated; empty when the message has no X-SMTPAPI header."""

    to: tuple[Address, ...] = ()
    sub: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    section: Mapping[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    unique_args: Mapping[str, str] = field(default_factory=dict)
    send_at: int | None = None
    send_each_at: tuple[int, ...] = ()
    asm: Asm | None = None
    ip_pool: str | None = None
    batch_id: str | None = None
    template_id: str | None = None
    mail_settings: Settings = field(default_factory=dict)
    tracking_settings: Settings = field(default_factory=dict)

    def substitutions_for(self, index: int) -> dict[str, str]:
        """The `sub` values of recipient `index` of `to`, with `section` tags (and the tags in them) expanded."""
        values = {tag: found[index] for tag, found in self.sub.items() if index < len(found)}
        expanded = {}
        for tag, value in values.items():
            with_sections = substitute(value, self.section)
            expanded[tag] = substitute(with_sections, values) if with_sections != value else value
        return expanded

    def send_at_for(self, index: int) -> int | None:
        return self.send_each_at[index] if index < len(self.send_each_at) else None


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace every key of `values` in `text` in one pass, longest key first."""
    keys = sorted((key for key in values if key), key=len, reverse=True)
    if not keys:
        return text
    pattern = re.compile("|".join(re.escape(key) for key in keys))
    return pattern.sub(lambda match: values[match.group(0)], text)


def parse(header: str | None, *, now: int | None) -> SmtpApi:
    """Validate the header's JSON; one BadRequest lists every problem."""
    if header is None or not header.strip():
        return SmtpApi()
    try:
        body = json.loads(header)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadRequest(NOT_JSON, field=HEADER)
    errs: Errors = []
    mail_settings, tracking_settings = _read(errs, body, "filters", _filters) or ({}, {})
    api = SmtpApi(
        to=_read(errs, body, "to", _to) or (),
        sub=_read(errs, body, "sub", _sub) or {},
        section=_read(errs, body, "section", _string_map) or {},
        categories=_read(errs, body, "category", _categories) or (),
        unique_args=_read(errs, body, "unique_args", _unique_args) or {},
        send_at=_read(errs, body, "send_at", lambda e, v, k: _send_at(e, v, k, now)),
        send_each_at=_read(errs, body, "send_each_at", lambda e, v, k: _send_each_at(e, v, k, now)) or (),
        asm=_asm(errs, body),
        ip_pool=_read(errs, body, "ip_pool", _ip_pool),
        batch_id=_read(errs, body, "batch_id", _string),
        template_id=_template_id(body.get("filters")),
        mail_settings=mail_settings,
        tracking_settings=tracking_settings,
    )
    if errs:
        raise BadRequest(details=errs)
    return api


def _read(errs: Errors, body: dict[str, Any], key: str, reader: Callable[[Errors, Any, str], Any]) -> Any:
    value = body.get(key)
    return None if value is None else reader(errs, value, key)


def _add(errs: Errors, message: str, key: str) -> None:
    errs.append(ErrorDetail(message, f"{HEADER}.{key}"))


def _to(errs: Errors, value: Any, key: str) -> tuple[Address, ...] | None:
    if not isinstance(value, list):
        value = [value]
    addresses = []
    for entry in value:
        name, email = parseaddr(entry) if isinstance(entry, str) else ("", "")
        if "@" not in email or any(c.isspace() for c in email):
            _add(errs, TO_INVALID.format(value=entry), key)
            continue
        addresses.append(Address(email=email, name=name or None))
    return tuple(addresses)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _sub(errs: Errors, value: Any, key: str) -> dict[str, tuple[str, ...]] | None:
    if not isinstance(value, dict):
        _add(errs, NOT_AN_OBJECT.format(key=key), key)
        return None
    sub = {}
    for tag, values in value.items():
        texts = [_scalar_text(v) for v in (values if isinstance(values, list) else [values])]
        if any(text is None for text in texts):
            _add(errs, NOT_SCALARS.format(key=f"{key}.{tag}"), key)
            continue
        sub[str(tag)] = tuple(text for text in texts if text is not None)
    return sub


def _string_map(errs: Errors, value: Any, key: str) -> dict[str, str] | None:
    if not isinstance(value, dict):
        _add(errs, NOT_AN_OBJECT.format(key=key), key)
        return None
    texts = {str(k): _scalar_text(v) for k, v in value.items()}
    if any(text is None for text in texts.values()):
        _add(errs, NOT_SCALARS.format(key=key), key)
        return None
    return {k: v for k, v in texts.items() if v is not None}


def _unique_args(errs: Errors, value: Any, key: str) -> dict[str, str] | None:
    args = _string_map(errs, value, key)
    if args is not None and len(json.dumps(args).encode()) > _MAX_UNIQUE_ARGS_BYTES:
        _add(errs, wording.CUSTOM_ARGS_TOO_LARGE, key)
    return args


def _categories(errs: Errors, value: Any, key: str) -> tuple[str, ...] | None:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        _add(errs, wording.CATEGORIES_NOT_STRINGS, key)
        return None
    if len(values) > 10:
        _add(errs, wording.TOO_MANY_CATEGORIES.format(n=len(values)), key)
    seen: set[str] = set()
    for category in values:
        if len(category) > 255:
            _add(errs, wording.CATEGORY_TOO_LONG.format(value=category), key)
        if not category.isascii():
            _add(errs, wording.CATEGORIES_NON_ASCII, key)
        if category in seen:
            _add(errs, wording.CATEGORY_DUPLICATE.format(value=category), key)
        seen.add(category)
    return tuple(values)


def _integer(errs: Errors, value: Any, key: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        _add(errs, NOT_AN_INTEGER.format(key=key), key)
        return None
    return value


def _send_at(errs: Errors, value: Any, key: str, now: int | None) -> int | None:
    moment = _integer(errs, value, key)
    if moment is not None and now is not None and moment > now + _SCHEDULE_WINDOW:
        _add(errs, wording.SEND_AT_TOO_FAR, key)
    return moment


def _send_each_at(errs: Errors, value: Any, key: str, now: int | None) -> tuple[int, ...] | None:
    if not isinstance(value, list):
        _add(errs, NOT_A_LIST.format(key=key), key)
        return None
    moments = [_send_at(errs, v, key, now) for v in value]
    return tuple(m for m in moments if m is not None)


def _string(errs: Errors, value: Any, key: str) -> str | None:
    if not isinstance(value, str):
        _add(errs, NOT_A_STRING.format(key=key), key)
        return None
    return value


def _ip_pool(errs: Errors, value: Any, key: str) -> str | None:
    pool = _string(errs, value, key)
    if pool is not None and not 2 <= len(pool) <= 64:
        _add(errs, wording.IP_POOL_LENGTH, key)
    return pool


def _asm(errs: Errors, body: dict[str, Any]) -> Asm | None:
    group = _read(errs, body, "asm_group_id", _integer)
    shown = body.get("asm_groups_to_display")
    groups: tuple[int, ...] = ()
    if shown is not None:
        if not isinstance(shown, list) or any(isinstance(g, bool) or not isinstance(g, int) for g in shown):
            _add(errs, NOT_A_LIST.format(key="asm_groups_to_display") + " of integers", "asm_groups_to_display")
        elif len(shown) > _MAX_GROUPS:
            _add(errs, wording.TOO_MANY_GROUPS, "asm_groups_to_display")
        else:
            groups = tuple(shown)
    return None if group is None else Asm(group_id=group, groups_to_display=groups)


def _settings_of(value: Any) -> dict[str, Any] | None:
    """A filter's `settings` object (SendGrid's libraries also write `setting`)."""
    if not isinstance(value, dict):
        return None
    settings = value.get("settings", value.get("setting", {}))
    return settings if isinstance(settings, dict) else None


def _filters(errs: Errors, value: Any, key: str) -> tuple[Settings, Settings] | None:
    if not isinstance(value, dict):
        _add(errs, NOT_AN_OBJECT.format(key=key), key)
        return None
    groups: dict[str, Settings] = {"mail_settings": {}, "tracking_settings": {}}
    for name, filter_ in value.items():
        settings = _settings_of(filter_)
        if settings is None:
            _add(errs, FILTER_INVALID.format(name=name), f"{key}.{name}")
            continue
        if name in _FILTERS:
            group, setting, fields = _FILTERS[name]
            groups[group][setting] = _setting(settings, fields)
    return groups["mail_settings"], groups["tracking_settings"]


def _setting(settings: dict[str, Any], fields: dict[str, str]) -> dict[str, JSONValue]:
    """One filter's settings in v3 shape: `enable` as a boolean, renamed fields, numbers as numbers."""
    converted: dict[str, JSONValue] = {"enable": _flag(settings.get("enable"))}
    for source, target in fields.items():
        if source in settings:
            converted[target] = _typed(target, settings[source])
    return converted


def _typed(target: str, value: Any) -> JSONValue:
    if target in _BOOLEAN_FIELDS:
        return _flag(value)
    if target in _INTEGER_FIELDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    return _scalar_text(value)


def _flag(value: Any) -> bool:
    """SendGrid's filters say 1/0 (numbers or strings); JSON booleans work too."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value is True or (isinstance(value, int | float) and value == 1)


def _template_id(filters: Any) -> str | None:
    settings = _settings_of(filters.get("templates")) if isinstance(filters, dict) else None
    if settings is None or not _flag(settings.get("enable")):
        return None
    template_id = settings.get("template_id")
    return template_id if isinstance(template_id, str) and template_id else None
