"""The common mail-send body, accepted in one pass that builds no error paths.

Most sends are personalizations with to/cc/bcc (and their own subject, custom_args, dynamic_template_data),
from, reply_to, subject, content, categories, custom_args and perhaps a template_id. `parse` builds the
message for such a body when it is valid, and answers None for anything else, valid or not: the full
validator (app.mail.validation) then decides and words the errors. A property test holds the two
equal wherever this one answers.
"""

from __future__ import annotations

from typing import Any, Final, TypeGuard

from app.mail import rules as mail_rules
from app.mail.message import Address, Content, OutboundMessage, Personalization

_BODY_KEYS: Final = frozenset(
    {"personalizations", "from", "reply_to", "subject", "content", "categories", "custom_args", "template_id"}
)
_PERSONALIZATION_KEYS: Final = frozenset({"to", "cc", "bcc", "subject", "custom_args", "dynamic_template_data"})
_ADDRESS_KEYS: Final = frozenset({"email", "name"})
_CONTENT_KEYS: Final = frozenset({"type", "value"})
_NO_RECIPIENTS: Final[tuple[Address, ...]] = ()
_ABSENT: Final = object()


class _Uncommon(Exception):
    """The body leaves the common shape (or breaks a rule): the full validator takes over."""


def parse(payload: object) -> OutboundMessage | None:
    """The message of a valid common-shape body, or None."""
    if type(payload) is not dict or not payload.keys() <= _BODY_KEYS:
        return None
    try:
        return _message(payload)
    except _Uncommon:
        return None


def _message(body: dict[str, Any]) -> OutboundMessage:
    template_id = body.get("template_id", _ABSENT)
    if template_id is _ABSENT:
        template_id = None
    elif not (type(template_id) is str and mail_rules.TEMPLATE_ID.fullmatch(template_id)):
        raise _Uncommon
    personalizations = _personalizations(body.get("personalizations"))
    custom_args = _string_map(body["custom_args"]) if "custom_args" in body else {}
    if mail_rules.utf8_size(custom_args) > mail_rules.MAX_BYTES or any(
        p.custom_args and mail_rules.custom_args_too_large(custom_args, p.custom_args) for p in personalizations
    ):
        raise _Uncommon
    has_template = template_id is not None
    return OutboundMessage(
        from_=_address(body.get("from"), recipient=False),
        personalizations=personalizations,
        subject=_subject(body, personalizations, has_template),
        content=_contents(body.get("content", _ABSENT), has_template),
        reply_to=_address(body["reply_to"], recipient=False) if "reply_to" in body else None,
        template_id=template_id,
        categories=_categories(body["categories"]) if "categories" in body else (),
        custom_args=custom_args,
    )


def _personalizations(raw: object) -> tuple[Personalization, ...]:
    if type(raw) is not list or not 0 < len(raw) <= mail_rules.LIMIT:
        raise _Uncommon
    personalizations = tuple(_personalization(item) for item in raw)
    if sum(len(p.to) + len(p.cc) + len(p.bcc) for p in personalizations) > mail_rules.LIMIT:
        raise _Uncommon
    return personalizations


def _personalization(raw: object) -> Personalization:
    if type(raw) is not dict or not raw.keys() <= _PERSONALIZATION_KEYS:
        raise _Uncommon
    to = _addresses(raw.get("to"))
    cc = _addresses(raw["cc"]) if "cc" in raw else _NO_RECIPIENTS
    bcc = _addresses(raw["bcc"]) if "bcc" in raw else _NO_RECIPIENTS
    if not to or len({a.email.lower() for a in (*to, *cc, *bcc)}) != len(to) + len(cc) + len(bcc):
        raise _Uncommon
    subject = raw.get("subject", _ABSENT)
    if subject is _ABSENT:
        subject = None
    elif not _is_text(subject):
        raise _Uncommon
    template_data = raw.get("dynamic_template_data", {})
    if type(template_data) is not dict:
        raise _Uncommon
    return Personalization(
        to=to,
        cc=cc,
        bcc=bcc,
        subject=subject,
        dynamic_template_data=template_data,
        custom_args=_string_map(raw["custom_args"]) if "custom_args" in raw else {},
    )


def _addresses(raw: object) -> tuple[Address, ...]:
    if type(raw) is not list:
        raise _Uncommon
    return tuple(_address(item, recipient=True) for item in raw)


def _address(raw: object, *, recipient: bool) -> Address:
    if type(raw) is not dict or not raw.keys() <= _ADDRESS_KEYS:
        raise _Uncommon
    email = raw.get("email")
    if type(email) is not str or len(email) > mail_rules.MAX_EMAIL or not mail_rules.EMAIL.fullmatch(email):
        raise _Uncommon
    name = raw.get("name", _ABSENT)
    if name is _ABSENT:
        return Address(email)
    # Recipients' names may not hold ';' or ','; the sender's and reply-to's may.
    if type(name) is not str or (recipient and ("," in name or ";" in name)):
        raise _Uncommon
    return Address(email, name)


def _subject(body: dict[str, Any], personalizations: tuple[Personalization, ...], has_template: bool) -> str | None:
    if "subject" in body:
        subject = body["subject"]
        if not _is_text(subject):
            raise _Uncommon
        return subject
    if not has_template and not all(p.subject for p in personalizations):
        raise _Uncommon
    return None


def _contents(raw: object, has_template: bool) -> tuple[Content, ...]:
    if raw is _ABSENT or raw == []:
        if not has_template:
            raise _Uncommon
        return ()
    if type(raw) is not list:
        raise _Uncommon
    contents = tuple(_content(item) for item in raw)
    ranks = [mail_rules.content_rank(c.type) for c in contents]
    if ranks != sorted(ranks):
        raise _Uncommon
    return contents


def _content(raw: object) -> Content:
    if type(raw) is not dict or raw.keys() != _CONTENT_KEYS:
        raise _Uncommon
    type_, value = raw["type"], raw["value"]
    if not _is_text(type_) or not _is_text(value) or ";" in type_ or "\r" in type_ or "\n" in type_:
        raise _Uncommon
    return Content(type_, value)


def _categories(raw: object) -> tuple[str, ...]:
    if type(raw) is not list or len(raw) > 10:
        raise _Uncommon
    for category in raw:
        if type(category) is not str or len(category) > 255 or not category.isascii():
            raise _Uncommon
    if len(set(raw)) != len(raw):
        raise _Uncommon
    return tuple(raw)


def _string_map(raw: object) -> dict[str, str]:
    if type(raw) is not dict:
        raise _Uncommon
    for value in raw.values():
        if type(value) is not str:
            raise _Uncommon
    return dict(raw)


def _is_text(value: object) -> TypeGuard[str]:
    """A non-empty string."""
    return type(value) is str and value != ""
