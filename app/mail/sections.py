"""The message-level sections of a mail-send body: subject, content, attachments, template, categories,
ASM, IP pool and the mail and tracking settings.
"""

from __future__ import annotations

from typing import Any, Final

from app.mail import rules as mail_rules
from app.mail.checks import (
    MISSING,
    Errors,
    add_error,
    has_any,
    is_type,
    json_array,
    json_integer,
    json_object,
    json_string,
    optional_field,
    type_message,
)
from app.mail.message import Asm, Attachment, Content, JSONValue, Personalization
from app.mail.wording import (
    ASM_GROUP_REQUIRED,
    ATTACHMENT_CONTENT_EMPTY,
    ATTACHMENT_CONTENT_REQUIRED,
    ATTACHMENT_NOT_BASE64,
    ATTACHMENT_TYPE_CHARS,
    ATTACHMENT_TYPE_EMPTY,
    CATEGORIES_NON_ASCII,
    CATEGORIES_NOT_STRINGS,
    CATEGORY_DUPLICATE,
    CATEGORY_TOO_LONG,
    CONTENT_ID_CHARS,
    CONTENT_ID_REQUIRED,
    CONTENT_ORDER,
    CONTENT_REQUIRED,
    CONTENT_TYPE_CHARS,
    CONTENT_TYPE_EMPTY,
    CONTENT_TYPE_REQUIRED,
    CONTENT_VALUE_EMPTY,
    CONTENT_VALUE_REQUIRED,
    DISPOSITION_INVALID,
    FILENAME_CHARS,
    FILENAME_REQUIRED,
    IP_POOL_LENGTH,
    SANDBOX_ENABLE,
    SUBJECT_EMPTY,
    SUBJECT_REQUIRED,
    TEMPLATE_ID_INVALID,
    TOO_MANY_CATEGORIES,
    TOO_MANY_GROUPS,
)

# Per setting: its typed fields besides `enable` (unknown settings are ignored, as are unknown keys).
MAIL_SETTINGS: Final[dict[str, dict[str, str]]] = {
    "bypass_list_management": {},
    "bypass_spam_management": {},
    "bypass_bounce_management": {},
    "bypass_unsubscribe_management": {},
    "footer": {"text": "string", "html": "string"},
    "sandbox_mode": {},
    "bcc": {"email": "string"},
    "spam_check": {"threshold": "integer", "post_to_url": "string"},
}
TRACKING_SETTINGS: Final[dict[str, dict[str, str]]] = {
    "click_tracking": {"enable_text": "boolean"},
    "open_tracking": {"substitution_tag": "string"},
    "subscription_tracking": {"text": "string", "html": "string", "substitution_tag": "string"},
    "ganalytics": {f"utm_{k}": "string" for k in ("source", "medium", "term", "content", "campaign")},
}
_BOOLEAN_MESSAGES: Final = {
    "mail_settings.sandbox_mode.enable": SANDBOX_ENABLE,
    "tracking_settings.ganalytics.enable": "The Google Analytics enable param must be a boolean value.",
    "tracking_settings.click_tracking.enable_text": "The click tracking enable text must be a boolean value.",
}


def read_global_subject(
    errs: Errors, body: dict[Any, Any], personalizations: list[Personalization | None], has_template: bool
) -> str | None:
    if "subject" in body:
        return read_subject(errs, body["subject"], "subject")
    every = bool(personalizations) and all(p is not None and p.subject for p in personalizations)
    if not has_template and not every:
        add_error(errs, SUBJECT_REQUIRED, "subject")
    return None


def read_contents(errs: Errors, body: dict[Any, Any], has_template: bool) -> tuple[Content, ...]:
    raw = body.get("content", MISSING)
    if raw is MISSING or raw == []:
        if not has_template:
            add_error(errs, CONTENT_REQUIRED, "content")
        return ()
    items = json_array(errs, raw, "content")
    if items is None:
        return ()
    parsed = [_content(errs, item, f"content.{i}") for i, item in enumerate(items)]
    contents = tuple(c for c in parsed if c is not None)
    ranks = [mail_rules.content_rank(c.type) for c in contents]
    if ranks != sorted(ranks):
        add_error(errs, CONTENT_ORDER, "content")
    return contents


def _content(errs: Errors, raw: object, path: str) -> Content | None:
    obj = json_object(errs, raw, path)
    if obj is None:
        return None
    before = len(errs)
    type_ = _required_string(errs, obj, f"{path}.type", CONTENT_TYPE_REQUIRED, CONTENT_TYPE_EMPTY)
    if type_ is not None and has_any(type_, ";\r\n"):
        add_error(errs, CONTENT_TYPE_CHARS, f"{path}.type")
    value = _required_string(errs, obj, f"{path}.value", CONTENT_VALUE_REQUIRED, CONTENT_VALUE_EMPTY)
    if type_ is None or value is None or len(errs) != before:
        return None
    return Content(type_, value)


def _required_string(errs: Errors, obj: dict[Any, Any], path: str, missing: str, empty: str) -> str | None:
    raw = obj.get(path.rpartition(".")[2], MISSING)
    if raw is MISSING:
        add_error(errs, missing, path)
        return None
    value = json_string(errs, raw, path)
    if value == "":
        add_error(errs, empty, path)
        return None
    return value


def read_attachments(errs: Errors, raw: object, path: str) -> tuple[Attachment, ...]:
    items = json_array(errs, raw, path)
    if items is None:
        return ()
    parsed = [_attachment(errs, item, f"{path}.{i}") for i, item in enumerate(items)]
    return tuple(a for a in parsed if a is not None)


def _attachment(errs: Errors, raw: object, path: str) -> Attachment | None:
    obj = json_object(errs, raw, path)
    if obj is None:
        return None
    before = len(errs)
    data = _attachment_content(errs, obj, f"{path}.content")
    filename = _required_string(errs, obj, f"{path}.filename", FILENAME_REQUIRED, FILENAME_REQUIRED)
    if filename is not None and has_any(filename, ";,\r\n"):
        add_error(errs, FILENAME_CHARS, f"{path}.filename")
    type_ = optional_field(errs, obj, "type", _attachment_type, f"{path}.")
    disposition = optional_field(errs, obj, "disposition", _disposition, f"{path}.")
    checked = len(errs)
    content_id = optional_field(errs, obj, "content_id", _content_id, f"{path}.")
    if disposition == "inline" and content_id is None and len(errs) == checked:
        add_error(errs, CONTENT_ID_REQUIRED, f"{path}.content_id")
    if data is None or filename is None or len(errs) != before:
        return None
    inline = disposition == "inline"
    return Attachment(data, filename, type_, "inline" if inline else "attachment", content_id)


def _attachment_content(errs: Errors, obj: dict[Any, Any], path: str) -> str | None:
    encoded = _required_string(errs, obj, path, ATTACHMENT_CONTENT_REQUIRED, ATTACHMENT_CONTENT_EMPTY)
    if encoded is None:
        return None
    data = _checked_base64(encoded)
    if data is None:
        add_error(errs, ATTACHMENT_NOT_BASE64, path)
    return data


def _checked_base64(text: str) -> str | None:
    """Standard padded base64 (line breaks and spaces, MIME-style wrapping, are ignored), returned
    unwrapped; checked without decoding it, which the MIME rendering does later."""
    if any(space in text for space in " \t\r\n"):
        text = "".join(text.split())
    if len(text) % 4 or not text.isascii():
        return None
    body = text.rstrip("=")
    if len(text) - len(body) > 2 or body.encode("ascii").translate(None, _BASE64_ALPHABET):
        return None
    return text


_BASE64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _attachment_type(errs: Errors, raw: object, path: str) -> str | None:
    value = json_string(errs, raw, path)
    if value == "":
        add_error(errs, ATTACHMENT_TYPE_EMPTY, path)
    elif value is not None and has_any(value, ";\r\n"):
        add_error(errs, ATTACHMENT_TYPE_CHARS, path)
    else:
        return value
    return None


def _disposition(errs: Errors, raw: object, path: str) -> str | None:
    value = json_string(errs, raw, path)
    if value is not None and value not in ("inline", "attachment"):
        add_error(errs, DISPOSITION_INVALID.format(value=value), path)
        return None
    return value


def _content_id(errs: Errors, raw: object, path: str) -> str | None:
    value = json_string(errs, raw, path)
    if value is not None and has_any(value, ";,\r\n"):
        add_error(errs, CONTENT_ID_CHARS, path)
        return None
    return value or None


def read_template_id(errs: Errors, raw: object, path: str) -> str | None:
    value = json_string(errs, raw, path)
    if value is not None and not mail_rules.TEMPLATE_ID.fullmatch(value):
        add_error(errs, TEMPLATE_ID_INVALID.format(value=value), path)
        return None
    return value


def read_categories(errs: Errors, raw: object, path: str) -> tuple[str, ...]:
    items = json_array(errs, raw, path)
    if items is None:
        return ()
    if not all(isinstance(item, str) for item in items):
        add_error(errs, CATEGORIES_NOT_STRINGS, path)
        return ()
    if len(items) > 10:
        add_error(errs, TOO_MANY_CATEGORIES.format(n=len(items)), path)
    seen: set[str] = set()
    repeated: set[str] = set()
    for category in items:
        if len(category) > 255:
            add_error(errs, CATEGORY_TOO_LONG.format(value=category), path)
        if category in seen and category not in repeated:
            repeated.add(category)
            add_error(errs, CATEGORY_DUPLICATE.format(value=category), path)
        seen.add(category)
    if not all(category.isascii() for category in items):
        add_error(errs, CATEGORIES_NON_ASCII, path)
    return tuple(items)


def read_asm(errs: Errors, raw: object, path: str) -> Asm | None:
    obj = json_object(errs, raw, path)
    if obj is None:
        return None
    before = len(errs)
    group_id = None
    if "group_id" in obj:
        group_id = json_integer(errs, obj["group_id"], f"{path}.group_id")
    else:
        add_error(errs, ASM_GROUP_REQUIRED, f"{path}.group_id")
    groups = optional_field(errs, obj, "groups_to_display", _groups, f"{path}.") or ()
    return Asm(group_id, groups) if group_id is not None and len(errs) == before else None


def _groups(errs: Errors, raw: object, path: str) -> tuple[int, ...]:
    items = json_array(errs, raw, path)
    if items is None:
        return ()
    if len(items) > 25:
        add_error(errs, TOO_MANY_GROUPS, path)
    parsed = [json_integer(errs, item, f"{path}.{i}") for i, item in enumerate(items)]
    return tuple(group for group in parsed if group is not None)


def read_ip_pool_name(errs: Errors, raw: object, path: str) -> str | None:
    value = json_string(errs, raw, path)
    if value is not None and not 2 <= len(value) <= 64:
        add_error(errs, IP_POOL_LENGTH, path)
        return None
    return value


def read_settings(
    errs: Errors, body: dict[Any, Any], key: str, schema: dict[str, dict[str, str]]
) -> dict[str, dict[str, JSONValue]]:
    obj = optional_field(errs, body, key, json_object)
    if obj is None:
        return {}
    settings: dict[str, dict[str, JSONValue]] = {}
    for name, fields in schema.items():
        raw = obj.get(name, MISSING)
        setting = None if raw is MISSING else json_object(errs, raw, f"{key}.{name}")
        if setting is not None and _setting_ok(errs, setting, f"{key}.{name}", fields):
            settings[name] = setting
    return settings


def _setting_ok(errs: Errors, setting: dict[Any, Any], path: str, fields: dict[str, str]) -> bool:
    before = len(errs)
    for field, expected in {"enable": "boolean", **fields}.items():
        if field not in setting or is_type(setting[field], expected):
            continue
        if expected == "boolean":
            name = path.rpartition(".")[2].replace("_", " ")
            default = f"The {name} enable param should be a boolean value."  # ours where docs are silent
            add_error(errs, _BOOLEAN_MESSAGES.get(f"{path}.{field}", default), f"{path}.{field}")
        else:
            add_error(errs, type_message(expected, setting[field]), f"{path}.{field}")
    return len(errs) == before


def read_subject(errs: Errors, raw: object, path: str) -> str | None:
    subject = json_string(errs, raw, path)
    if subject == "":
        add_error(errs, SUBJECT_EMPTY, path)
        return None
    return subject
