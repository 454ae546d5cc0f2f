"""POST /v3/mail/send body → `OutboundMessage`, or one BadRequest listing every error SendGrid would list.

Pure: no I/O, no clock (the caller passes `now`). The body is walked once; each section appends to a
shared error list under its field path. Strings come from CONTRACT §3 or SendGrid's mail-send errors
page (sendgrid/docs `Mail/errors.md`); the ones we had to word ourselves are marked "ours".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from app.kernel.errors import MAIL_ERRORS_HELP, BadRequest, ErrorDetail
from app.mail import fast_path as mail_fast_path
from app.mail import rules as mail_rules
from app.mail.message import Address, Asm, Attachment, Content, JSONValue, OutboundMessage, Personalization

T = TypeVar("T")
Errors = list[ErrorDetail]

PERSONALIZATIONS_REQUIRED: Final = "The personalizations field is required and must have at least one personalization."
TOO_MANY_PERSONALIZATIONS: Final = (
    "The personalization block is limited to 1000 personalizations per API request. You have provided "
    "{n} personalizations. Please consider splitting this into multiple requests and resending your request."
)
TOO_MANY_RECIPIENTS: Final = "There is a limit of 1000 total recipients (to + cc + bcc) per request."
TO_REQUIRED: Final = (
    "The to array is required for all personalization objects, and must have at least one email object "
    "with a valid email address."
)
INVALID_ADDRESS: Final = "Does not contain a valid address."
DUPLICATE_RECIPIENT: Final = (
    "Each email address in the personalization block should be unique between to, cc, and bcc. "
    "We found the first duplicate instance of [{email}] in the {field} field."
)
FROM_REQUIRED: Final = (
    "The from object must be provided for every email send. It is an object that requires the email "
    'parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or '
    '{"email" : "example@example.com", "name" : "Example Recipient"}.'
)
FROM_INVALID: Final = "The from email does not contain a valid address."
REPLY_TO_REQUIRED: Final = (
    "The reply_to object, when used, must at least have an email parameter with a valid email address "
    'and it may also contain a name parameter. e.g. {"email": "example@example.com"} or '
    '{"email": "example@example.com", "name": "Example Recipient"}'
)
REPLY_TO_EXCLUSIVE: Final = "The reply_to and reply_to_list parameters cannot be used together."  # ours
TOO_MANY_REPLY_TO: Final = "There is a limit of 1000 email addresses in the reply_to_list."  # ours
DUPLICATE_REPLY_TO: Final = (  # ours
    "Each email address in the reply_to_list should be unique. "
    "We found the first duplicate instance of [{email}] in the reply_to_list field."
)
SUBJECT_REQUIRED: Final = (
    "The subject is required. You can get around this requirement if you use a template with a subject "
    "defined or if every personalization has a subject defined."
)
SUBJECT_EMPTY: Final = "The subject of your email must be a string at least one character in length."
CONTENT_REQUIRED: Final = (
    "Unless a valid template_id is provided, the content parameter is required. There must be at least one "
    "defined content block. We typically suggest both text/plain and text/html blocks are included, but "
    "only one block is required."
)
CONTENT_TYPE_REQUIRED: Final = "A content type is required, this tells email clients how to display the email."
CONTENT_TYPE_EMPTY: Final = "Your content type must be a string with length of at least one character."
CONTENT_TYPE_CHARS: Final = "Cannot contain ';', or CRLF characters."
CONTENT_VALUE_REQUIRED: Final = "A content value is required, this is the content of the email you are sending."
CONTENT_VALUE_EMPTY: Final = "The content value must be a string at least one character in length."
CONTENT_ORDER: Final = (
    "Following RFC 1341, section 7.2, if either text/html or text/plain are to be sent in your email: "
    "text/plain needs to be first, followed by text/html, followed by any other content."
)
ATTACHMENT_CONTENT_REQUIRED: Final = "The attachment content is required."
ATTACHMENT_CONTENT_EMPTY: Final = "The attachment content must be a string at least one character in length."
ATTACHMENT_NOT_BASE64: Final = "The attachment content must be base64 encoded."
FILENAME_REQUIRED: Final = "filename is required."
FILENAME_CHARS: Final = "The filename of your attachment cannot contain CRLF characters."
ATTACHMENT_TYPE_EMPTY: Final = "The attachment type must be a string and at least one character in length."
ATTACHMENT_TYPE_CHARS: Final = "The type cannot contain ';', or CRLF characters."
DISPOSITION_INVALID: Final = (
    'The disposition of your attachment can be either "inline" or "attachment". You provided [{value}].'
)
CONTENT_ID_CHARS: Final = "The content ID of your attachment cannot contain CRLF characters."
CONTENT_ID_REQUIRED: Final = 'The content_id is required when the disposition is set to "inline".'  # ours
TEMPLATE_ID_INVALID: Final = "The template_id must be a valid GUID, you provided '{value}'."
HEADER_VALUES: Final = "The header values must be strings."
HEADER_DUPLICATE: Final = "The headers cannot contain duplicate keys."
HEADER_KEYS: Final = "Header keys cannot contain non-ASCII characters and empty spaces."
HEADER_RESERVED: Final = "Header can not be one of the reserved keys."
TOO_MANY_CATEGORIES: Final = (
    "There is a limit of 10 categories for each email that is sent. You provided {n} categories."
)
CATEGORIES_NOT_STRINGS: Final = "Categories must be an array of strings."
CATEGORY_TOO_LONG: Final = "Each category must not be longer than 255 characters. [{value}] exceeds this limit"
CATEGORY_DUPLICATE: Final = "The categories must be a unique list, and you have included [{value}] more than once."
CATEGORIES_NON_ASCII: Final = "Categories can not contain non-ASCII characters."
CUSTOM_ARGS_NOT_STRINGS: Final = "All values of custom arguments object must be strings"
CUSTOM_ARGS_TOO_LARGE: Final = (
    "The combined size of both global and personalization custom arguments may not exceed 10,000 bytes "
    "per personalization."
)
SUBSTITUTIONS_NOT_STRINGS: Final = (
    "The substitution values must be an object of key/value pairs, where the values are all strings."
)
SUBSTITUTIONS_TOO_LARGE: Final = (  # ours
    "The combined size of substitutions may not exceed 10,000 bytes per personalization."
)
SEND_AT_TOO_FAR: Final = "Scheduling more than 72 hours in advance is forbidden."
ASM_GROUP_REQUIRED: Final = "The ASM group ID is required when the asm object is used."  # ours
TOO_MANY_GROUPS: Final = "There is a limit of 25 unsubscribe groups that can be displayed to a user at a time."
IP_POOL_LENGTH: Final = "The name of your IP pool must be between 2 and 64 characters."  # ours
SANDBOX_ENABLE: Final = "The sandbox mode enable param should be a boolean value."

ROOT_HELP: Final = f"{MAIL_ERRORS_HELP}#-Request-Body-Parameters"
PERSONALIZATIONS_HELP: Final = f"{MAIL_ERRORS_HELP}#-Personalizations-Errors"
RECIPIENT_HELP: Final = f"{MAIL_ERRORS_HELP}#message.recipient-errors"

_MISSING: Final = object()

_HEADER_NAME = re.compile(r"[!-9;-~]+")
_RESERVED_HEADERS: Final = frozenset(
    {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding",
     "to", "from", "subject", "reply-to", "cc", "bcc"}
)  # fmt: skip

# Per setting: its typed fields besides `enable` (unknown settings are ignored, as are unknown keys).
_MAIL_SETTINGS: Final[dict[str, dict[str, str]]] = {
    "bypass_list_management": {},
    "bypass_spam_management": {},
    "bypass_bounce_management": {},
    "bypass_unsubscribe_management": {},
    "footer": {"text": "string", "html": "string"},
    "sandbox_mode": {},
    "bcc": {"email": "string"},
    "spam_check": {"threshold": "integer", "post_to_url": "string"},
}
_TRACKING_SETTINGS: Final[dict[str, dict[str, str]]] = {
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


_RECIPIENT_RULES: Final = {
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


def parse_mail_send(payload: object, *, now: int) -> OutboundMessage:
    """Validate a decoded mail-send body (any JSON value) and build the message, or raise BadRequest."""
    common = mail_fast_path.parse(payload)
    return common if common is not None else validate(payload, now=now)


def validate(payload: object, *, now: int) -> OutboundMessage:
    """The full validator: every rule, every error of the body together."""
    if not isinstance(payload, dict):
        raise BadRequest(details=[ErrorDetail(_type_message("object", payload), "(root)", ROOT_HELP)])
    errs: Errors = []
    has_template = payload.get("template_id") is not None
    personalizations = _personalizations(errs, payload, now)
    sender = _sender(errs, payload)
    reply_to, reply_to_list = _reply_to(errs, payload)
    subject = _global_subject(errs, payload, personalizations, has_template)
    content = _contents(errs, payload, has_template)
    attachments = _optional(errs, payload, "attachments", _attachments) or ()
    template_id = _optional(errs, payload, "template_id", _template_id)
    headers = _optional(errs, payload, "headers", _headers) or {}
    categories = _optional(errs, payload, "categories", _categories) or ()
    custom_args = _optional(errs, payload, "custom_args", _custom_args) or {}
    _check_custom_args_size(errs, custom_args, personalizations)
    send_at = _optional(errs, payload, "send_at", lambda e, raw, path: _send_at(e, raw, path, now))
    batch_id = _optional(errs, payload, "batch_id", _string)
    asm = _optional(errs, payload, "asm", _asm)
    ip_pool_name = _optional(errs, payload, "ip_pool_name", _ip_pool_name)
    mail_settings = _settings(errs, payload, "mail_settings", _MAIL_SETTINGS)
    tracking_settings = _settings(errs, payload, "tracking_settings", _TRACKING_SETTINGS)
    if errs or sender is None:
        raise BadRequest(details=errs)
    return OutboundMessage(
        from_=sender,
        personalizations=tuple(p for p in personalizations if p is not None),
        subject=subject,
        content=content,
        reply_to=reply_to,
        reply_to_list=reply_to_list,
        attachments=attachments,
        template_id=template_id,
        headers=headers,
        categories=categories,
        custom_args=custom_args,
        send_at=send_at,
        batch_id=batch_id,
        asm=asm,
        ip_pool_name=ip_pool_name,
        mail_settings=mail_settings,
        tracking_settings=tracking_settings,
        sandbox=mail_settings.get("sandbox_mode", {}).get("enable") is True,
    )


# --- errors and JSON types -----------------------------------------------------------------------------


def _help(path: str) -> str:
    """The errors-page anchor for a field: indices dropped, an address's email/name folded into it."""
    parts = [part for part in path.split(".") if not part.isdigit()]
    if len(parts) > 1 and parts[-1] in ("email", "name"):
        parts.pop()
    return f"{MAIL_ERRORS_HELP}#message.{'.'.join(parts)}"


def _add(errs: Errors, message: str, path: str, help_: str | None = None) -> None:
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


def _type_message(expected: str, value: object) -> str:
    return f"Invalid type. Expected: {expected}, given: {_json_type(value)}."


def _is_type(value: object, expected: str) -> bool:
    return _json_type(value) == expected


def _type_error(errs: Errors, expected: str, value: object, path: str) -> None:
    _add(errs, _type_message(expected, value), path)


def _object(errs: Errors, raw: object, path: str) -> dict[Any, Any] | None:
    if isinstance(raw, dict):
        return raw
    _type_error(errs, "object", raw, path)
    return None


def _array(errs: Errors, raw: object, path: str) -> list[Any] | None:
    if isinstance(raw, list):
        return raw
    _type_error(errs, "array", raw, path)
    return None


def _string(errs: Errors, raw: object, path: str) -> str | None:
    if isinstance(raw, str):
        return raw
    _type_error(errs, "string", raw, path)
    return None


def _integer(errs: Errors, raw: object, path: str) -> int | None:
    # JSON has one number type: 5.0 is the integer 5, as JSON Schema (and SendGrid) read it.
    if isinstance(raw, int | float) and _is_type(raw, "integer"):
        return int(raw)
    _type_error(errs, "integer", raw, path)
    return None


def _optional(
    errs: Errors, obj: dict[Any, Any], key: str, parse: Callable[[Errors, Any, str], T], prefix: str = ""
) -> T | None:
    """Parse `obj[key]` at path `prefix + key` if the key is present."""
    raw = obj.get(key, _MISSING)
    return None if raw is _MISSING else parse(errs, raw, prefix + key)


def _has_any(text: str, chars: str) -> bool:
    return any(char in text for char in chars)


def _first_duplicate(groups: Iterable[tuple[str, tuple[Address, ...]]]) -> tuple[str, str] | None:
    """The first address repeated across the groups (ignoring case) and the group it repeats in."""
    seen: set[str] = set()
    for field, addresses in groups:
        for address in addresses:
            key = address.email.lower()
            if key in seen:
                return address.email, field
            seen.add(key)
    return None


# --- addresses ----------------------------------------------------------------------------------------


def _address(errs: Errors, raw: object, path: str, rules: _AddressRules) -> Address | None:
    obj = _object(errs, raw, path)
    if obj is None:
        return None
    before = len(errs)
    email = _email(errs, obj.get("email", _MISSING), f"{path}.email", rules)
    name = _optional(errs, obj, "name", _string, f"{path}.")
    if name is not None and rules.bad_name and _has_any(name, ";,"):
        _add(errs, rules.bad_name, f"{path}.name")
    return Address(email, name) if email is not None and len(errs) == before else None


def _email(errs: Errors, raw: object, path: str, rules: _AddressRules) -> str | None:
    if raw is _MISSING:
        _add(errs, rules.missing, path)
        return None
    email = _string(errs, raw, path)
    if email is None:
        return None
    if len(email) > mail_rules.MAX_EMAIL:
        _add(errs, rules.too_long, path)
    elif not mail_rules.EMAIL.fullmatch(email):
        _add(errs, rules.invalid, path)
    else:
        return email
    return None


def _sender(errs: Errors, body: dict[Any, Any], prefix: str = "") -> Address | None:
    raw = body.get("from", _MISSING)
    if raw is _MISSING:
        _add(errs, FROM_REQUIRED, f"{prefix}from.email")
        return None
    return _address(errs, raw, f"{prefix}from", _FROM_RULES)


def _reply_to(errs: Errors, body: dict[Any, Any]) -> tuple[Address | None, tuple[Address, ...]]:
    single = _optional(errs, body, "reply_to", _reply_to_address)
    many = _optional(errs, body, "reply_to_list", _reply_to_list) or ()
    if "reply_to" in body and "reply_to_list" in body:
        _add(errs, REPLY_TO_EXCLUSIVE, "reply_to_list")
    return single, many


def _reply_to_address(errs: Errors, raw: object, path: str) -> Address | None:
    return _address(errs, raw, path, _REPLY_TO_RULES)


def _reply_to_list(errs: Errors, raw: object, path: str) -> tuple[Address, ...]:
    items = _array(errs, raw, path)
    if items is None:
        return ()
    if len(items) > mail_rules.LIMIT:
        _add(errs, TOO_MANY_REPLY_TO, path)
        return ()
    parsed = [_address(errs, item, f"{path}.{i}", _REPLY_TO_RULES) for i, item in enumerate(items)]
    addresses = tuple(a for a in parsed if a is not None)
    duplicate = _first_duplicate(((path, addresses),))
    if duplicate is not None:
        _add(errs, DUPLICATE_REPLY_TO.format(email=duplicate[0]), path)
    return addresses


# --- personalizations ---------------------------------------------------------------------------------


def _personalizations(errs: Errors, body: dict[Any, Any], now: int) -> list[Personalization | None]:
    raw = body.get("personalizations", _MISSING)
    if raw is _MISSING or raw == []:
        _add(errs, PERSONALIZATIONS_REQUIRED, "personalizations", PERSONALIZATIONS_HELP)
        return []
    items = _array(errs, raw, "personalizations")
    if items is None:
        return []
    if len(items) > mail_rules.LIMIT:
        # Over the limit nothing else about them matters; don't walk a body that large.
        _add(errs, TOO_MANY_PERSONALIZATIONS.format(n=len(items)), "personalizations")
        return []
    parsed = [_personalization(errs, item, f"personalizations.{i}.", now) for i, item in enumerate(items)]
    if sum(_raw_recipient_count(item) for item in items) > mail_rules.LIMIT:
        _add(errs, TOO_MANY_RECIPIENTS, "personalizations")
    return parsed


def _raw_recipient_count(item: object) -> int:
    if not isinstance(item, dict):
        return 0
    return sum(len(v) for v in (item.get("to"), item.get("cc"), item.get("bcc")) if isinstance(v, list))


def _personalization(errs: Errors, raw: object, prefix: str, now: int) -> Personalization | None:
    obj = _object(errs, raw, prefix[:-1])
    if obj is None:
        return None
    to, cc, bcc = (_recipients(errs, obj, prefix, kind) for kind in ("to", "cc", "bcc"))
    duplicate = _first_duplicate(((prefix + "to", to), (prefix + "cc", cc), (prefix + "bcc", bcc)))
    if duplicate is not None:
        message = DUPLICATE_RECIPIENT.format(email=duplicate[0], field=duplicate[1])
        _add(errs, message, prefix[:-1], RECIPIENT_HELP)
    template_data = _optional(errs, obj, "dynamic_template_data", _object, prefix)
    return Personalization(
        to=to,
        cc=cc,
        bcc=bcc,
        subject=_optional(errs, obj, "subject", _subject, prefix),
        headers=_optional(errs, obj, "headers", _headers, prefix) or {},
        substitutions=_optional(errs, obj, "substitutions", _substitutions, prefix) or {},
        dynamic_template_data=template_data or {},
        custom_args=_optional(errs, obj, "custom_args", _custom_args, prefix) or {},
        send_at=_optional(errs, obj, "send_at", lambda e, raw, path: _send_at(e, raw, path, now), prefix),
        from_=_sender(errs, obj, prefix) if "from" in obj else None,
    )


def _recipients(errs: Errors, obj: dict[Any, Any], prefix: str, kind: str) -> tuple[Address, ...]:
    path = prefix + kind
    raw = obj.get(kind, _MISSING)
    items = [] if raw is _MISSING else _array(errs, raw, path)
    if items is None:
        return ()
    if kind == "to" and not items:
        _add(errs, TO_REQUIRED, path)
    rules = _RECIPIENT_RULES[kind]
    parsed = [_address(errs, item, f"{path}.{i}", rules) for i, item in enumerate(items)]
    return tuple(a for a in parsed if a is not None)


def _subject(errs: Errors, raw: object, path: str) -> str | None:
    subject = _string(errs, raw, path)
    if subject == "":
        _add(errs, SUBJECT_EMPTY, path)
        return None
    return subject


def _send_at(errs: Errors, raw: object, path: str, now: int) -> int | None:
    send_at = _integer(errs, raw, path)
    if send_at is not None and send_at > now + mail_rules.SCHEDULE_WINDOW:
        _add(errs, SEND_AT_TOO_FAR, path)
        return None
    return send_at


def _string_map(errs: Errors, raw: object, path: str, not_strings: str) -> dict[str, str] | None:
    obj = _object(errs, raw, path)
    if obj is None:
        return None
    values = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, str)}
    if len(values) != len(obj):
        _add(errs, not_strings, path)
        return None
    return values


def _substitutions(errs: Errors, raw: object, path: str) -> dict[str, str]:
    values = _string_map(errs, raw, path, SUBSTITUTIONS_NOT_STRINGS)
    if values is not None and mail_rules.utf8_size(values) > mail_rules.MAX_BYTES:
        _add(errs, SUBSTITUTIONS_TOO_LARGE, path)
    return values or {}


def _custom_args(errs: Errors, raw: object, path: str) -> dict[str, str]:
    return _string_map(errs, raw, path, CUSTOM_ARGS_NOT_STRINGS) or {}


def _check_custom_args_size(
    errs: Errors, global_args: dict[str, str], personalizations: list[Personalization | None]
) -> None:
    if mail_rules.utf8_size(global_args) > mail_rules.MAX_BYTES:
        _add(errs, CUSTOM_ARGS_TOO_LARGE, "custom_args")
        return
    for i, p in enumerate(personalizations):
        if p is not None and p.custom_args and mail_rules.custom_args_too_large(global_args, p.custom_args):
            _add(errs, CUSTOM_ARGS_TOO_LARGE, f"personalizations.{i}.custom_args")


def _headers(errs: Errors, raw: object, path: str) -> dict[str, str]:
    obj = _object(errs, raw, path)
    if obj is None:
        return {}
    headers: dict[str, str] = {}
    seen: set[str] = set()
    reported: set[str] = set()
    for key, value in obj.items():
        problem = _header_problem(key, value, seen)
        if problem is None:
            headers[key] = value
        elif problem not in reported:
            reported.add(problem)
            _add(errs, problem, path)
    return headers


def _header_problem(key: object, value: object, seen: set[str]) -> str | None:
    if not isinstance(key, str) or not _HEADER_NAME.fullmatch(key):
        return HEADER_KEYS
    lowered = key.lower()
    if lowered in _RESERVED_HEADERS:
        return HEADER_RESERVED
    if lowered in seen:
        return HEADER_DUPLICATE
    seen.add(lowered)
    return None if isinstance(value, str) else HEADER_VALUES


# --- message-level sections ---------------------------------------------------------------------------


def _global_subject(
    errs: Errors, body: dict[Any, Any], personalizations: list[Personalization | None], has_template: bool
) -> str | None:
    if "subject" in body:
        return _subject(errs, body["subject"], "subject")
    every = bool(personalizations) and all(p is not None and p.subject for p in personalizations)
    if not has_template and not every:
        _add(errs, SUBJECT_REQUIRED, "subject")
    return None


def _contents(errs: Errors, body: dict[Any, Any], has_template: bool) -> tuple[Content, ...]:
    raw = body.get("content", _MISSING)
    if raw is _MISSING or raw == []:
        if not has_template:
            _add(errs, CONTENT_REQUIRED, "content")
        return ()
    items = _array(errs, raw, "content")
    if items is None:
        return ()
    parsed = [_content(errs, item, f"content.{i}") for i, item in enumerate(items)]
    contents = tuple(c for c in parsed if c is not None)
    ranks = [mail_rules.content_rank(c.type) for c in contents]
    if ranks != sorted(ranks):
        _add(errs, CONTENT_ORDER, "content")
    return contents


def _content(errs: Errors, raw: object, path: str) -> Content | None:
    obj = _object(errs, raw, path)
    if obj is None:
        return None
    before = len(errs)
    type_ = _required_string(errs, obj, f"{path}.type", CONTENT_TYPE_REQUIRED, CONTENT_TYPE_EMPTY)
    if type_ is not None and _has_any(type_, ";\r\n"):
        _add(errs, CONTENT_TYPE_CHARS, f"{path}.type")
    value = _required_string(errs, obj, f"{path}.value", CONTENT_VALUE_REQUIRED, CONTENT_VALUE_EMPTY)
    if type_ is None or value is None or len(errs) != before:
        return None
    return Content(type_, value)


def _required_string(errs: Errors, obj: dict[Any, Any], path: str, missing: str, empty: str) -> str | None:
    raw = obj.get(path.rpartition(".")[2], _MISSING)
    if raw is _MISSING:
        _add(errs, missing, path)
        return None
    value = _string(errs, raw, path)
    if value == "":
        _add(errs, empty, path)
        return None
    return value


def _attachments(errs: Errors, raw: object, path: str) -> tuple[Attachment, ...]:
    items = _array(errs, raw, path)
    if items is None:
        return ()
    parsed = [_attachment(errs, item, f"{path}.{i}") for i, item in enumerate(items)]
    return tuple(a for a in parsed if a is not None)


def _attachment(errs: Errors, raw: object, path: str) -> Attachment | None:
    obj = _object(errs, raw, path)
    if obj is None:
        return None
    before = len(errs)
    data = _attachment_content(errs, obj, f"{path}.content")
    filename = _required_string(errs, obj, f"{path}.filename", FILENAME_REQUIRED, FILENAME_REQUIRED)
    if filename is not None and _has_any(filename, ";,\r\n"):
        _add(errs, FILENAME_CHARS, f"{path}.filename")
    type_ = _optional(errs, obj, "type", _attachment_type, f"{path}.")
    disposition = _optional(errs, obj, "disposition", _disposition, f"{path}.")
    checked = len(errs)
    content_id = _optional(errs, obj, "content_id", _content_id, f"{path}.")
    if disposition == "inline" and content_id is None and len(errs) == checked:
        _add(errs, CONTENT_ID_REQUIRED, f"{path}.content_id")
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
        _add(errs, ATTACHMENT_NOT_BASE64, path)
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
    value = _string(errs, raw, path)
    if value == "":
        _add(errs, ATTACHMENT_TYPE_EMPTY, path)
    elif value is not None and _has_any(value, ";\r\n"):
        _add(errs, ATTACHMENT_TYPE_CHARS, path)
    else:
        return value
    return None


def _disposition(errs: Errors, raw: object, path: str) -> str | None:
    value = _string(errs, raw, path)
    if value is not None and value not in ("inline", "attachment"):
        _add(errs, DISPOSITION_INVALID.format(value=value), path)
        return None
    return value


def _content_id(errs: Errors, raw: object, path: str) -> str | None:
    value = _string(errs, raw, path)
    if value is not None and _has_any(value, ";,\r\n"):
        _add(errs, CONTENT_ID_CHARS, path)
        return None
    return value or None


def _template_id(errs: Errors, raw: object, path: str) -> str | None:
    value = _string(errs, raw, path)
    if value is not None and not mail_rules.TEMPLATE_ID.fullmatch(value):
        _add(errs, TEMPLATE_ID_INVALID.format(value=value), path)
        return None
    return value


def _categories(errs: Errors, raw: object, path: str) -> tuple[str, ...]:
    items = _array(errs, raw, path)
    if items is None:
        return ()
    if not all(isinstance(item, str) for item in items):
        _add(errs, CATEGORIES_NOT_STRINGS, path)
        return ()
    if len(items) > 10:
        _add(errs, TOO_MANY_CATEGORIES.format(n=len(items)), path)
    seen: set[str] = set()
    repeated: set[str] = set()
    for category in items:
        if len(category) > 255:
            _add(errs, CATEGORY_TOO_LONG.format(value=category), path)
        if category in seen and category not in repeated:
            repeated.add(category)
            _add(errs, CATEGORY_DUPLICATE.format(value=category), path)
        seen.add(category)
    if not all(category.isascii() for category in items):
        _add(errs, CATEGORIES_NON_ASCII, path)
    return tuple(items)


def _asm(errs: Errors, raw: object, path: str) -> Asm | None:
    obj = _object(errs, raw, path)
    if obj is None:
        return None
    before = len(errs)
    group_id = None
    if "group_id" in obj:
        group_id = _integer(errs, obj["group_id"], f"{path}.group_id")
    else:
        _add(errs, ASM_GROUP_REQUIRED, f"{path}.group_id")
    groups = _optional(errs, obj, "groups_to_display", _groups, f"{path}.") or ()
    return Asm(group_id, groups) if group_id is not None and len(errs) == before else None


def _groups(errs: Errors, raw: object, path: str) -> tuple[int, ...]:
    items = _array(errs, raw, path)
    if items is None:
        return ()
    if len(items) > 25:
        _add(errs, TOO_MANY_GROUPS, path)
    parsed = [_integer(errs, item, f"{path}.{i}") for i, item in enumerate(items)]
    return tuple(group for group in parsed if group is not None)


def _ip_pool_name(errs: Errors, raw: object, path: str) -> str | None:
    value = _string(errs, raw, path)
    if value is not None and not 2 <= len(value) <= 64:
        _add(errs, IP_POOL_LENGTH, path)
        return None
    return value


def _settings(
    errs: Errors, body: dict[Any, Any], key: str, schema: dict[str, dict[str, str]]
) -> dict[str, dict[str, JSONValue]]:
    obj = _optional(errs, body, key, _object)
    if obj is None:
        return {}
    settings: dict[str, dict[str, JSONValue]] = {}
    for name, fields in schema.items():
        raw = obj.get(name, _MISSING)
        setting = None if raw is _MISSING else _object(errs, raw, f"{key}.{name}")
        if setting is not None and _setting_ok(errs, setting, f"{key}.{name}", fields):
            settings[name] = setting
    return settings


def _setting_ok(errs: Errors, setting: dict[Any, Any], path: str, fields: dict[str, str]) -> bool:
    before = len(errs)
    for field, expected in {"enable": "boolean", **fields}.items():
        if field not in setting or _is_type(setting[field], expected):
            continue
        if expected == "boolean":
            name = path.rpartition(".")[2].replace("_", " ")
            default = f"The {name} enable param should be a boolean value."  # ours where docs are silent
            _add(errs, _BOOLEAN_MESSAGES.get(f"{path}.{field}", default), f"{path}.{field}")
        else:
            _add(errs, _type_message(expected, setting[field]), f"{path}.{field}")
    return len(errs) == before
