"""Render one personalization of an `OutboundMessage` as an RFC 5322 message (stdlib `email` only).

Structure, each level only when needed: multipart/mixed [ multipart/related [ multipart/alternative
[ text/plain, text/html, other content ], inline attachments ], other attachments ]. Categories and
custom args travel in an `X-SMTPAPI` JSON header, as on SendGrid's SMTP API.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from email.header import Header
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage, MIMEPart
from email.policy import SMTP
from typing import Final

from app.mail.message import Address, Attachment, Content, OutboundMessage, Personalization

MESSAGE_ID_DOMAIN = "sendgrid-mirror.local"

_POLICY = SMTP
# Headers we set raw (user headers, X-SMTPAPI) are folded by `_fold` and must reach the wire as they are;
# the email package would otherwise turn any long unbroken token into RFC 2047 encoded words.
_WIRE_POLICY = SMTP.clone(refold_source="none")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
# The MIME structure and X-SMTPAPI own these; custom headers of the same name are dropped.
_OWNED_HEADERS = frozenset({"mime-version", "x-smtpapi", "content-disposition", "content-id"})


def render_mime(message: OutboundMessage, index: int, *, message_id: str, date: datetime) -> bytes:
    """Personalization `index` of `message` as one RFC 5322 message with CRLF line endings."""
    personalization = message.personalizations[index]
    substitute = _substitute_for(message, personalization)
    msg = EmailMessage(policy=_POLICY)
    _address_headers(msg, message, personalization)
    subject = message.subject_for(personalization)
    if subject is not None:
        msg["Subject"] = _one_line(substitute(subject))
    msg["Date"] = date
    msg["Message-ID"] = f"<{message_id}.{index}@{MESSAGE_ID_DOMAIN}>"
    msg["MIME-Version"] = "1.0"
    _custom_headers(msg, message.headers_for(personalization))
    smtpapi = smtpapi_fields(message, personalization)
    if smtpapi:
        msg.set_raw("X-SMTPAPI", _fold("X-SMTPAPI", json.dumps(smtpapi, separators=(", ", ": "))))
    _adopt(msg, _body(message, substitute))
    return msg.as_bytes(policy=_WIRE_POLICY)


def body_texts(message: OutboundMessage, index: int) -> list[str]:
    """The text/plain and text/html bodies `render_mime` puts in personalization `index`, without rendering it."""
    substitute = _substitute_for(message, message.personalizations[index])
    return [substitute(c.value) for c in message.content if _split_type(c.type, ("text", "plain")) in _BODY_TYPES]


_BODY_TYPES: Final = (("text", "plain"), ("text", "html"))


def _substitute_for(message: OutboundMessage, personalization: Personalization) -> Callable[[str], str]:
    return _substituter({} if message.is_dynamic_template else personalization.substitutions)


def smtpapi_fields(message: OutboundMessage, personalization: Personalization) -> dict[str, object]:
    """The X-SMTPAPI JSON for one personalization: what plain MIME cannot carry (empty if nothing)."""
    fields: dict[str, object] = {}
    if message.categories:
        fields["category"] = list(message.categories)
    unique_args = message.custom_args_for(personalization)
    if unique_args:
        fields["unique_args"] = unique_args
    send_at = message.send_at_for(personalization)
    if send_at is not None:
        fields["send_at"] = send_at
    if message.asm is not None:
        fields["asm_group_id"] = message.asm.group_id
        if message.asm.groups_to_display:
            fields["asm_groups_to_display"] = list(message.asm.groups_to_display)
    if message.ip_pool_name is not None:
        fields["ip_pool"] = message.ip_pool_name
    return fields


def _address_headers(msg: EmailMessage, message: OutboundMessage, personalization: Personalization) -> None:
    msg["From"] = _header_address(message.from_for(personalization))
    msg["To"] = [_header_address(a) for a in personalization.to]
    if personalization.cc:
        msg["Cc"] = [_header_address(a) for a in personalization.cc]
    if message.reply_to_addresses:
        msg["Reply-To"] = [_header_address(a) for a in message.reply_to_addresses]


def _header_address(address: Address) -> HeaderAddress:
    return HeaderAddress(display_name=_one_line(address.name or ""), addr_spec=address.email)


def _one_line(text: str) -> str:
    # The email package refuses any line break in a header value; SendGrid flattens them.
    return " ".join(text.splitlines())


def _custom_headers(msg: EmailMessage, headers: Mapping[str, str]) -> None:
    """Global then personalization headers, set raw so their values reach the wire unchanged."""
    for name, value in headers.items():
        if name.lower() in _OWNED_HEADERS:
            continue
        del msg[name]
        text = _one_line(value)
        if text.isascii():
            msg.set_raw(name, _fold(name, text))
        else:
            msg.set_raw(name, Header(text, "utf-8", header_name=name).encode())


def _fold(name: str, value: str, width: int = 78) -> str:
    """Fold an ASCII value before spaces so lines stay within `width` where the words allow it."""
    words = value.split(" ")
    lines = [words[0]]
    used = len(name) + 2 + len(words[0])
    for word in words[1:]:
        # Never leave a line of only whitespace behind (RFC 5322 §3.2.2).
        if word and used + 1 + len(word) > width and lines[-1].strip():
            lines.append(" " + word)
            used = 1 + len(word)
        else:
            lines[-1] += " " + word
            used += 1 + len(word)
    return "\n".join(lines)


def _substituter(substitutions: Mapping[str, str]) -> Callable[[str], str]:
    """Replace every key with its value in one pass (keys literal, longest first)."""
    keys = sorted((key for key in substitutions if key), key=len, reverse=True)
    if not keys:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(key) for key in keys))
    return lambda text: pattern.sub(lambda match: substitutions[match.group(0)], text)


def _body(message: OutboundMessage, substitute: Callable[[str], str]) -> MIMEPart:
    contents = message.content or (Content("text/plain", ""),)  # a template send with no content of its own
    body = _multipart("alternative", [_content_part(c, substitute) for c in contents])
    inline = [_attachment_part(a) for a in message.attachments if a.is_inline]
    if inline:
        root_type = body.get_content_type()
        body = _multipart("related", [body, *inline])
        body.set_param("type", root_type)  # RFC 2387: related names its root part's type
    attached = [_attachment_part(a) for a in message.attachments if not a.is_inline]
    if attached:
        body = _multipart("mixed", [body, *attached])
    return body


def _multipart(subtype: str, parts: list[MIMEPart]) -> MIMEPart:
    if len(parts) == 1:
        return parts[0]
    container = MIMEPart(policy=_POLICY)
    container["Content-Type"] = f"multipart/{subtype}"
    for part in parts:
        container.attach(part)
    return container


def _content_part(content: Content, substitute: Callable[[str], str]) -> MIMEPart:
    part = MIMEPart(policy=_POLICY)
    maintype, subtype = _split_type(content.type, ("text", "plain"))
    text = substitute(content.value)
    if maintype == "text":
        part.set_content(text, subtype=subtype, charset="utf-8")
    else:
        part.set_content(text.encode("utf-8"), maintype, subtype)
    return part


def _attachment_part(attachment: Attachment) -> MIMEPart:
    part = MIMEPart(policy=_POLICY)
    guessed = mimetypes.guess_type(attachment.filename)[0]
    maintype, subtype = _split_type(attachment.type or guessed or "", ("application", "octet-stream"))
    cid = f"<{_one_line(attachment.content_id).strip('<>')}>" if attachment.content_id else None
    part.set_content(
        attachment.data,
        maintype,
        subtype,
        disposition=attachment.disposition,
        filename=_one_line(attachment.filename),
        cid=cid,
    )
    return part


def _split_type(content_type: str, fallback: tuple[str, str]) -> tuple[str, str]:
    """`type/subtype` lower-cased; the fallback for anything that is not a plain leaf MIME type."""
    maintype, _, subtype = content_type.strip().lower().partition("/")
    if maintype in ("multipart", "message") or not (_TOKEN.fullmatch(maintype) and _TOKEN.fullmatch(subtype)):
        return fallback
    return maintype, subtype


def _adopt(msg: EmailMessage, part: MIMEPart) -> None:
    """Make `part` the body of `msg`: its content headers and payload move to the top level."""
    for name, value in part.items():
        msg[name] = value
    msg.set_payload(part.get_payload())
