"""A message received over SMTP (RFC 5322 bytes, envelope, X-SMTPAPI) → the canonical OutboundMessage; pure.

Recipients follow the envelope: the To and Cc headers only tell which RCPT TO addresses are `to` and `cc`,
every other RCPT TO address is `bcc`, and a header address nobody sent to is no recipient. Each X-SMTPAPI
`to` address gets a personalization of its own, first and in the header's order; RCPT TO addresses that
list already holds are not repeated. The bytes received are what is stored: the RCPT TO personalization's
MIME is exactly them, and an X-SMTPAPI copy (`personalize`) is derived from them on read.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import mimetypes
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import formataddr, getaddresses
from typing import Final

from app.kernel.errors import BadRequest
from app.mail import wording
from app.mail.message import Address, Attachment, Content, Disposition, OutboundMessage, Personalization
from app.smtp import simple_mime, smtpapi

MAX_RECIPIENTS: Final = 1000
# Parts inside parts (multipart/*, message/*): Postfix's `mime_nesting_limit`. Python's parser recurses once per
# level (past ~990 levels it raises RecursionError) and checks every line against each enclosing boundary.
MAX_NESTING: Final = 100
TOO_DEEP: Final = f"The message's MIME structure is nested more than {MAX_NESTING} levels deep."  # ours

# Reading uses the legacy policy and decodes headers itself: the default policy's header objects cost about
# a millisecond per message. The common shapes are read by app.smtp.simple_mime into the same tree, faster.
# Personalizing edits with EmailMessage's API; on output, headers left alone keep their bytes and changed ones
# are RFC 2047-encoded when not ASCII.
_READ_POLICY: Final = email.policy.compat32
_EDIT_POLICY: Final = email.policy.default
_OUTPUT_POLICY: Final = email.policy.SMTP
_BODY_TYPES: Final = ("text/plain", "text/html")
# Headers the MIME structure, the envelope or X-SMTPAPI own; the rest become the message's custom headers.
_STRUCTURAL: Final = frozenset(
    {"from", "to", "cc", "bcc", "subject", "reply-to", "date", "message-id", "mime-version", "x-smtpapi",
     "received", "dkim-signature", "return-path", "sender", "content-type", "content-transfer-encoding",
     "content-disposition", "content-id", "content-description"}
)  # fmt: skip
_FOLD: Final = re.compile(r"\r?\n(?=[ \t])")
# The forms nearly every client writes, `Name <local@domain>` and `local@domain` with plain words and
# atoms only, are read by one regular expression (the stdlib's address parser costs ~15 µs per address);
# anything else (quotes, comments, groups, dots or 8-bit text in names) goes to the stdlib.
_ATOM: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC: Final = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
_WORDS: Final = rf"(?:{_ATOM}[ \t]+)*{_ATOM}"
_PLAIN_MAILBOX: Final = re.compile(rf"[ \t]*(?:({_WORDS})?[ \t]*<({_ADDR_SPEC})>|({_ADDR_SPEC}))[ \t]*")


class _NestingLimited(Message):
    """A part that knows how deep it sits; the parser attaching one past MAX_NESTING stops the parse."""

    depth = 0

    def attach(self, payload: Message) -> None:  # type: ignore[override]
        # The parser attaches each part to its container as soon as the part begins, so an over-deep
        # message is refused at its 101st level, before the rest of it is read.
        depth = self.depth + 1
        if depth > MAX_NESTING:
            raise BadRequest(TOO_DEEP)
        if isinstance(payload, _NestingLimited):
            payload.depth = depth
        super().attach(payload)


@dataclass(frozen=True, slots=True)
class Received:
    """The canonical message and, per personalization, its MIME: the bytes received, or None (derived on read)."""

    message: OutboundMessage
    mime: tuple[bytes | None, ...]


def parse_received(raw: bytes, *, mail_from: str, rcpt_tos: Sequence[str], now: int) -> Received:
    """Build the OutboundMessage of one SMTP transaction, or raise BadRequest."""
    msg = simple_mime.read(raw, _NestingLimited) or email.message_from_bytes(raw, _NestingLimited, policy=_READ_POLICY)
    api = smtpapi.parse(_smtpapi_header(msg), now=now)
    copies = tuple(_copy(api, index) for index in range(len(api.to)))
    base = _envelope_personalization(msg, rcpt_tos, skip={a.email.lower() for a in api.to})
    personalizations = copies + ((base,) if base is not None else ())
    if sum(len(p.recipients) for p in personalizations) > MAX_RECIPIENTS:
        raise BadRequest(wording.TOO_MANY_RECIPIENTS, field="personalizations")
    contents, attachments = _body(msg)
    reply_to = _addresses(msg, "Reply-To")
    message = OutboundMessage(
        from_=next(iter(_addresses(msg, "From")), Address(email=mail_from)),
        personalizations=personalizations,
        subject=_first_text(msg, "Subject"),
        content=contents,
        reply_to=reply_to[0] if len(reply_to) == 1 else None,
        reply_to_list=reply_to if len(reply_to) > 1 else (),
        attachments=attachments,
        template_id=api.template_id,
        headers=_custom_headers(msg),
        categories=api.categories,
        custom_args=dict(api.unique_args),
        send_at=api.send_at,
        batch_id=api.batch_id,
        asm=api.asm,
        ip_pool_name=api.ip_pool,
        mail_settings=api.mail_settings,
        tracking_settings=api.tracking_settings,
        sandbox=api.mail_settings.get("sandbox_mode", {}).get("enable") is True,
    )
    # X-SMTPAPI applies legacy templates only (SendGrid: SMTP does not support dynamic ones); one renders
    # every copy anew, as for an HTTP send.
    if message.template_id is not None and not message.is_dynamic_template:
        return Received(message=message, mime=())
    return Received(message=message, mime=(None,) * len(copies) + ((raw,) if base is not None else ()))


def personalize(raw: bytes, position: int) -> bytes:
    """Personalization `position` of a stored SMTP message: an X-SMTPAPI `to` copy, or the bytes received."""
    msg = email.message_from_bytes(raw, policy=_EDIT_POLICY)
    api = smtpapi.parse(_smtpapi_header(msg), now=None)
    if position >= len(api.to):
        return raw
    recipient = api.to[position]
    values = api.substitutions_for(position)
    _set_header(msg, "To", formataddr((recipient.name or "", recipient.email)))
    subject = _first_text(msg, "Subject")
    if subject is not None and values:
        _set_header(msg, "Subject", smtpapi.substitute(subject, values))
    for part in _leaves(msg):
        if values and part.get_content_type() in _BODY_TYPES and part.get_content_disposition() != "attachment":
            _substitute_part(part, values, is_root=part is msg)
    return msg.as_bytes(policy=_OUTPUT_POLICY)


def _raw_values(msg: Message, name: str) -> list[str]:
    """Every `name` header as sent: unfolded, UTF-8 read as UTF-8, RFC 2047 words left alone."""
    lowered = name.lower()
    return [_utf8(_FOLD.sub("", str(value))) for key, value in msg.raw_items() if key.lower() == lowered]


def _utf8(text: str) -> str:
    """Undo the parser's surrogate escapes: 8-bit header bytes are UTF-8 (RFC 6532)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _decoded(text: str) -> str:
    """RFC 2047 words decoded, on one line."""
    # Words in an unknown charset stay as they were sent.
    with contextlib.suppress(HeaderParseError, LookupError, UnicodeError, ValueError):
        text = str(make_header(decode_header(text))) if "=?" in text else text
    return " ".join(text.splitlines())


def _first_text(msg: Message, name: str) -> str | None:
    values = _raw_values(msg, name)
    return _decoded(values[0]) if values else None


def _smtpapi_header(msg: Message) -> str | None:
    """The first X-SMTPAPI header's JSON; RFC 2047 words are decoded first (nodemailer encodes values with quotes)."""
    values = _raw_values(msg, smtpapi.HEADER)
    if not values or "=?" not in values[0]:
        return values[0] if values else None
    try:
        json.loads(values[0])
    except ValueError:
        return _decoded(values[0])
    return values[0]


def _addresses(msg: Message, name: str) -> tuple[Address, ...]:
    """Every address of every `name` header, without duplicates (names decoded after the split)."""
    found: dict[str, Address] = {}
    for display_name, addr in mailboxes(_raw_values(msg, name)):
        if "@" in addr and addr.lower() not in found:
            found[addr.lower()] = Address(email=addr, name=_decoded(display_name) or None)
    return tuple(found.values())


def mailboxes(values: list[str]) -> list[tuple[str, str]]:
    """The (name, address) pairs of address header values, as `email.utils.getaddresses` reads them."""
    plain = _plain_mailboxes(values)
    return getaddresses(values) if plain is None else plain


def _plain_mailboxes(values: list[str]) -> list[tuple[str, str]] | None:
    """Values made only of plain mailboxes, read by a regular expression; None when any part is not one."""
    found: list[tuple[str, str]] = []
    for value in values:
        for part in value.split(","):
            match = _PLAIN_MAILBOX.fullmatch(part)
            if match is None:
                return None
            words, angled, bare = match.groups()
            found.append((" ".join(words.split()) if words else "", angled or bare))
    return found


def _copy(api: smtpapi.SmtpApi, index: int) -> Personalization:
    return Personalization(
        to=(api.to[index],), substitutions=api.substitutions_for(index), send_at=api.send_at_for(index)
    )


def _envelope_personalization(msg: Message, rcpt_tos: Sequence[str], *, skip: set[str]) -> Personalization | None:
    """RCPT TO recipients (minus `skip`) as to/cc by the headers, bcc otherwise; None when none are left."""
    remaining = {r.lower(): r for r in rcpt_tos if r.lower() not in skip}
    if not remaining:
        return None
    to = tuple(a for a in _addresses(msg, "To") if a.email.lower() in remaining)
    taken = {a.email.lower() for a in to}
    cc = tuple(a for a in _addresses(msg, "Cc") if a.email.lower() in remaining and a.email.lower() not in taken)
    taken |= {a.email.lower() for a in cc}
    bcc = tuple(Address(email=r) for key, r in remaining.items() if key not in taken)
    return Personalization(to=to, cc=cc, bcc=bcc)


def _leaves(part: Message) -> Iterator[Message]:
    """Leaf parts in order; an attached message (message/*) is one leaf, not walked into."""
    if part.is_multipart() and part.get_content_type().startswith("multipart/"):
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _leaves(sub)
    else:
        yield part


def _body(msg: Message) -> tuple[tuple[Content, ...], tuple[Attachment, ...]]:
    """The first text/plain and text/html parts are the content; every other leaf is an attachment."""
    texts: dict[str, str] = {}
    attachments: list[Attachment] = []
    for part in _leaves(msg):
        kind = part.get_content_type()
        if kind in _BODY_TYPES and kind not in texts and _is_body(part):
            texts[kind] = _text(part).replace("\r\n", "\n")
        else:
            attachments.append(_attachment(part, len(attachments)))
    return tuple(Content(kind, texts[kind]) for kind in _BODY_TYPES if kind in texts), tuple(attachments)


def _is_body(part: Message) -> bool:
    return part.get_content_disposition() != "attachment" and part.get_filename() is None


def _text(part: Message) -> str:
    payload = _payload(part)
    try:
        return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", errors="replace")


def _payload(part: Message) -> bytes:
    """The decoded bytes of a leaf; an attached message as its own RFC 5322 bytes."""
    if part.is_multipart():
        inner = part.get_payload(0)
        try:
            return inner.as_bytes() if isinstance(inner, Message) else b""
        except Exception:  # an attached message the generator cannot re-serialize
            return b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _attachment(part: Message, index: int) -> Attachment:
    kind = part.get_content_type()
    content_id = _utf8(str(part.get("Content-ID") or "")).strip().strip("<>").strip() or None
    declared = part.get_content_disposition()
    disposition: Disposition = "inline" if declared == "inline" or (declared is None and content_id) else "attachment"
    given = part.get_filename()
    filename = _decoded(_utf8(given)) if given else f"attachment-{index + 1}{mimetypes.guess_extension(kind) or '.bin'}"
    return Attachment(
        content=_payload(part),
        filename=filename,
        type=kind,
        disposition=disposition,
        content_id=content_id,
    )


def _custom_headers(msg: Message) -> dict[str, str]:
    """Headers other than the structural ones; the first of each name wins."""
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in msg.raw_items():
        if name.lower() not in _STRUCTURAL and name.lower() not in seen:
            seen.add(name.lower())
            headers[name] = _decoded(_utf8(_FOLD.sub("", str(value))))
    return headers


def _set_header(msg: Message, name: str, value: str) -> None:
    """Replace the first `name` header where it stands, or add it."""
    if name in msg:
        msg.replace_header(name, value)
    else:
        msg[name] = value


def _substitute_part(part: Message, values: dict[str, str], *, is_root: bool) -> None:
    assert isinstance(part, EmailMessage)
    text = _text(part)
    replaced = smtpapi.substitute(text, values)
    if replaced == text:
        return
    had_version = "MIME-Version" in part
    part.set_content(
        replaced, subtype=part.get_content_subtype(), charset="utf-8", disposition=part.get_content_disposition()
    )
    if not (is_root or had_version):
        del part["MIME-Version"]  # set_content adds one; only the top level carries it
