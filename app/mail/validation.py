"""POST /v3/mail/send body → `OutboundMessage`, or one BadRequest listing every error SendGrid would list.

Pure: no I/O, no clock (the caller passes `now`). The body is walked once; each section appends to a
shared error list under its field path. This module holds the entry points and the personalizations;
`sections` the message-level fields, `checks` the JSON and address checks, `wording` every message.
"""

from __future__ import annotations

import re
from typing import Any, Final

from app.kernel.errors import BadRequest, ErrorDetail
from app.mail import fast_path as mail_fast_path
from app.mail import rules as mail_rules
from app.mail.checks import (
    MISSING,
    RECIPIENT_RULES,
    Errors,
    add_error,
    first_duplicate,
    json_array,
    json_integer,
    json_object,
    json_string,
    optional_field,
    read_address,
    read_reply_to,
    read_sender,
    type_message,
)
from app.mail.message import Address, OutboundMessage, Personalization
from app.mail.sections import (
    MAIL_SETTINGS,
    TRACKING_SETTINGS,
    read_asm,
    read_attachments,
    read_categories,
    read_contents,
    read_global_subject,
    read_ip_pool_name,
    read_settings,
    read_subject,
    read_template_id,
)
from app.mail.wording import (
    CUSTOM_ARGS_NOT_STRINGS,
    CUSTOM_ARGS_TOO_LARGE,
    DUPLICATE_RECIPIENT,
    HEADER_DUPLICATE,
    HEADER_KEYS,
    HEADER_RESERVED,
    HEADER_VALUES,
    PERSONALIZATIONS_HELP,
    PERSONALIZATIONS_REQUIRED,
    RECIPIENT_HELP,
    ROOT_HELP,
    SEND_AT_TOO_FAR,
    SUBSTITUTIONS_NOT_STRINGS,
    SUBSTITUTIONS_TOO_LARGE,
    TO_REQUIRED,
    TOO_MANY_PERSONALIZATIONS,
    TOO_MANY_RECIPIENTS,
)

_HEADER_NAME = re.compile(r"[!-9;-~]+")
_RESERVED_HEADERS: Final = frozenset(
    {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding",
     "to", "from", "subject", "reply-to", "cc", "bcc"}
)  # fmt: skip


def parse_mail_send(payload: object, *, now: int) -> OutboundMessage:
    """Validate a decoded mail-send body (any JSON value) and build the message, or raise BadRequest."""
    common = mail_fast_path.parse(payload)
    return common if common is not None else validate(payload, now=now)


def validate(payload: object, *, now: int) -> OutboundMessage:
    """The full validator: every rule, every error of the body together."""
    if not isinstance(payload, dict):
        raise BadRequest(details=[ErrorDetail(type_message("object", payload), "(root)", ROOT_HELP)])
    errs: Errors = []
    has_template = payload.get("template_id") is not None
    personalizations = _personalizations(errs, payload, now)
    sender = read_sender(errs, payload)
    reply_to, reply_to_list = read_reply_to(errs, payload)
    subject = read_global_subject(errs, payload, personalizations, has_template)
    content = read_contents(errs, payload, has_template)
    attachments = optional_field(errs, payload, "attachments", read_attachments) or ()
    template_id = optional_field(errs, payload, "template_id", read_template_id)
    headers = optional_field(errs, payload, "headers", _headers) or {}
    categories = optional_field(errs, payload, "categories", read_categories) or ()
    custom_args = optional_field(errs, payload, "custom_args", _custom_args) or {}
    _check_custom_args_size(errs, custom_args, personalizations)
    send_at = optional_field(errs, payload, "send_at", lambda e, raw, path: _send_at(e, raw, path, now))
    batch_id = optional_field(errs, payload, "batch_id", json_string)
    asm = optional_field(errs, payload, "asm", read_asm)
    ip_pool_name = optional_field(errs, payload, "ip_pool_name", read_ip_pool_name)
    mail_settings = read_settings(errs, payload, "mail_settings", MAIL_SETTINGS)
    tracking_settings = read_settings(errs, payload, "tracking_settings", TRACKING_SETTINGS)
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


def _personalizations(errs: Errors, body: dict[Any, Any], now: int) -> list[Personalization | None]:
    raw = body.get("personalizations", MISSING)
    if raw is MISSING or raw == []:
        add_error(errs, PERSONALIZATIONS_REQUIRED, "personalizations", PERSONALIZATIONS_HELP)
        return []
    items = json_array(errs, raw, "personalizations")
    if items is None:
        return []
    if len(items) > mail_rules.LIMIT:
        # Over the limit nothing else about them matters; don't walk a body that large.
        add_error(errs, TOO_MANY_PERSONALIZATIONS.format(n=len(items)), "personalizations")
        return []
    parsed = [_personalization(errs, item, f"personalizations.{i}.", now) for i, item in enumerate(items)]
    if sum(_raw_recipient_count(item) for item in items) > mail_rules.LIMIT:
        add_error(errs, TOO_MANY_RECIPIENTS, "personalizations")
    return parsed


def _raw_recipient_count(item: object) -> int:
    if not isinstance(item, dict):
        return 0
    return sum(len(v) for v in (item.get("to"), item.get("cc"), item.get("bcc")) if isinstance(v, list))


def _personalization(errs: Errors, raw: object, prefix: str, now: int) -> Personalization | None:
    obj = json_object(errs, raw, prefix[:-1])
    if obj is None:
        return None
    to, cc, bcc = (_recipients(errs, obj, prefix, kind) for kind in ("to", "cc", "bcc"))
    duplicate = first_duplicate(((prefix + "to", to), (prefix + "cc", cc), (prefix + "bcc", bcc)))
    if duplicate is not None:
        message = DUPLICATE_RECIPIENT.format(email=duplicate[0], field=duplicate[1])
        add_error(errs, message, prefix[:-1], RECIPIENT_HELP)
    template_data = optional_field(errs, obj, "dynamic_template_data", json_object, prefix)
    return Personalization(
        to=to,
        cc=cc,
        bcc=bcc,
        subject=optional_field(errs, obj, "subject", read_subject, prefix),
        headers=optional_field(errs, obj, "headers", _headers, prefix) or {},
        substitutions=optional_field(errs, obj, "substitutions", _substitutions, prefix) or {},
        dynamic_template_data=template_data or {},
        custom_args=optional_field(errs, obj, "custom_args", _custom_args, prefix) or {},
        send_at=optional_field(errs, obj, "send_at", lambda e, raw, path: _send_at(e, raw, path, now), prefix),
        from_=read_sender(errs, obj, prefix) if "from" in obj else None,
    )


def _recipients(errs: Errors, obj: dict[Any, Any], prefix: str, kind: str) -> tuple[Address, ...]:
    path = prefix + kind
    raw = obj.get(kind, MISSING)
    items = [] if raw is MISSING else json_array(errs, raw, path)
    if items is None:
        return ()
    if kind == "to" and not items:
        add_error(errs, TO_REQUIRED, path)
    rules = RECIPIENT_RULES[kind]
    parsed = [read_address(errs, item, f"{path}.{i}", rules) for i, item in enumerate(items)]
    return tuple(a for a in parsed if a is not None)


def _send_at(errs: Errors, raw: object, path: str, now: int) -> int | None:
    send_at = json_integer(errs, raw, path)
    if send_at is not None and send_at > now + mail_rules.SCHEDULE_WINDOW:
        add_error(errs, SEND_AT_TOO_FAR, path)
        return None
    return send_at


def _string_map(errs: Errors, raw: object, path: str, not_strings: str) -> dict[str, str] | None:
    obj = json_object(errs, raw, path)
    if obj is None:
        return None
    values = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, str)}
    if len(values) != len(obj):
        add_error(errs, not_strings, path)
        return None
    return values


def _substitutions(errs: Errors, raw: object, path: str) -> dict[str, str]:
    values = _string_map(errs, raw, path, SUBSTITUTIONS_NOT_STRINGS)
    if values is not None and mail_rules.utf8_size(values) > mail_rules.MAX_BYTES:
        add_error(errs, SUBSTITUTIONS_TOO_LARGE, path)
    return values or {}


def _custom_args(errs: Errors, raw: object, path: str) -> dict[str, str]:
    return _string_map(errs, raw, path, CUSTOM_ARGS_NOT_STRINGS) or {}


def _check_custom_args_size(
    errs: Errors, global_args: dict[str, str], personalizations: list[Personalization | None]
) -> None:
    if mail_rules.utf8_size(global_args) > mail_rules.MAX_BYTES:
        add_error(errs, CUSTOM_ARGS_TOO_LARGE, "custom_args")
        return
    for i, p in enumerate(personalizations):
        if p is not None and p.custom_args and mail_rules.custom_args_too_large(global_args, p.custom_args):
            add_error(errs, CUSTOM_ARGS_TOO_LARGE, f"personalizations.{i}.custom_args")


def _headers(errs: Errors, raw: object, path: str) -> dict[str, str]:
    obj = json_object(errs, raw, path)
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
            add_error(errs, problem, path)
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
