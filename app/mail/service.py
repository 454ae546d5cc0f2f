"""The one send path for every transport: may this account send, is the batch real, then store it all.

HTTP (`/v3/mail/send`) and the SMTP relay both build an OutboundMessage and call `accept`; nothing here
knows which transport it serves. The answer (202 / 250) follows only after the COMMIT holding the message.
"""

from __future__ import annotations

import binascii
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Table, select

from app.clock import service as clock
from app.delivery import service as delivery
from app.kernel.db.base import table_of, utcnow
from app.kernel.db.session import Database
from app.kernel.db.writer import BulkInsert
from app.kernel.errors import MAIL_ERRORS_HELP, BadRequest
from app.kernel.principal import Principal
from app.mail import gate as send_gate
from app.mail import policy as send_policy
from app.mail.message import OutboundMessage, Personalization
from app.mail.models import Envelope, Event, MailBatch, Message, Recipient
from app.mail.policy import SendPolicy
from app.scheduling import scheduler
from app.templates import service as templates


@dataclass
class _Rows:
    """Everything one accepted send writes, prepared before the group commit."""

    message: dict[str, Any]
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    recipients: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def by_table(self) -> dict[Table, list[dict[str, Any]]]:
        return {
            table_of(Message): [self.message],
            table_of(Envelope): self.envelopes,
            table_of(Recipient): self.recipients,
            table_of(Event): self.events,
        }


# The URL-safe base64 characters in ASCII order, so that ids sort as the numbers they encode; the
# translation maps the standard base64 digits (the C encoder's) onto them, digit value for digit value.
_SORTED_ALPHABET = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_TO_SORTED = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", _SORTED_ALPHABET)


DEFAULT_POLICY = SendPolicy()

# Ids must be unique, not secret: one generator seeded from the OS (a syscall per id measured as 5% of a
# request), seeded again in a forked child so that parent and child never share a sequence.
_RANDOM = random.Random(os.urandom(16))
os.register_at_fork(after_in_child=lambda: _RANDOM.seed(os.urandom(16)))


def new_message_id(at_ms: int | None = None) -> str:
    """22 URL-safe characters, like SendGrid's X-Message-Id: 48 bits of milliseconds, then 84 random bits.

    Time-ordered ids keep every index keyed by message id growing at its right edge, so a commit dirties
    a few pages instead of one random page per index per message. `at_ms` (unix milliseconds, default now)
    lets the store-size benchmark give back-dated messages the ids they would have had.
    """
    millis = time.time_ns() // 1_000_000 if at_ms is None else at_ms
    return _id_of(millis, _RANDOM.getrandbits(84))


def first_message_id_of(at_ms: int) -> str:
    """The lowest id a message sent at `at_ms` can have: every id below it was sent earlier."""
    return _id_of(at_ms, 0)


def _id_of(millis: int, low_bits: int) -> str:
    # The offset only makes ids start with a letter ('J') rather than '-' for the next century.
    number = (millis + (20 << 42)) << 84 | low_bits
    # 132 bits in 18 bytes: the first two of the 24 digits are always zero and dropped.
    digits = binascii.b2a_base64(number.to_bytes(18, "big"), newline=False)[2:]
    return digits.translate(_TO_SORTED).decode("ascii")


async def accept(
    db: Database,
    principal: Principal,
    message: OutboundMessage,
    *,
    transport: str,
    raw_request: bytes,
    policy: SendPolicy = DEFAULT_POLICY,
    mime: Sequence[bytes | None] = (),
) -> str:
    """Store an accepted message for the principal's account and return its X-Message-Id.

    `mime` gives personalizations whose RFC 5322 form is already known (SMTP: the bytes received).
    """
    send_gate.require_can_send(principal)
    now = clock.now(db)
    reservation = send_policy.check(db, principal, message, policy, day=now.date())
    message_id = new_message_id()
    dropped = None
    if message.template_id is not None and not mime:  # rendered once here; the rendered result is stored
        message, mime, dropped = templates.apply(db, principal, message, message_id=message_id, date=now)
    rows = prepare_rows(
        principal, message, message_id=message_id, transport=transport, raw_request=raw_request, now=now, mime=mime
    )
    templates.drop(rows, dropped)
    check = (
        partial(_require_batch, account_id=principal.account_id, batch_id=message.batch_id)
        if message.batch_id
        else None
    )
    tables = scheduler.with_deliveries(rows.by_table(), rows.message, rows.envelopes, now)
    simulated = None if dropped else delivery.simulate(db, principal.account_id, message, tables, now)
    await db.writer.run(BulkInsert(rows=tables, check=delivery.then(send_policy.chain(check, reservation), simulated)))
    return message_id


def prepare_rows(
    principal: Principal,
    message: OutboundMessage,
    *,
    message_id: str,
    transport: str,
    raw_request: bytes,
    now: datetime | None = None,
    mime: Sequence[bytes | None] = (),
) -> _Rows:
    now = now or utcnow()
    rows = _Rows(message=_message_row(principal, message, message_id, transport, raw_request, now))
    for position, personalization in enumerate(message.personalizations):
        send_at = _as_time(message.send_at_for(personalization))
        rows.envelopes.append(
            {
                "message_id": message_id,
                "position": position,
                "from_email": message.from_for(personalization).email,
                "subject": message.subject_for(personalization),
                "custom_args": message.custom_args_for(personalization),
                "send_at": send_at,
                # Rendering costs milliseconds with the stdlib; it happens on first read (app.mail.rendering)
                # from the request committed here, so nothing the 202 acknowledged depends on it.
                "mime": mime[position] if position < len(mime) else None,
            }
        )
        _add_recipients(rows, principal, message, personalization, position, scheduled=_is_future(send_at, now))
    return rows


def _message_row(
    principal: Principal, message: OutboundMessage, message_id: str, transport: str, raw: bytes, now: datetime
) -> dict[str, Any]:
    first = message.personalizations[0]
    send_at = _as_time(message.send_at_for(first))
    return {
        "id": message_id,
        "account_id": principal.account_id,
        "api_key_id": principal.key_id,
        "transport": transport,
        "from_email": message.from_.email,
        "from_name": message.from_.name,
        "subject": message.subject_for(first),
        "categories": list(message.categories),
        "custom_args": dict(message.custom_args),
        "template_id": message.template_id,
        "batch_id": message.batch_id,
        "send_at": send_at,
        "sandbox": message.sandbox,
        "status": "sandbox" if message.sandbox else ("scheduled" if _is_future(send_at, now) else "sent"),
        "request": raw,
        "created_at": now,
    }


def _add_recipients(
    rows: _Rows,
    principal: Principal,
    message: OutboundMessage,
    personalization: Personalization,
    position: int,
    *,
    scheduled: bool,
) -> None:
    """Recipient rows with their first events; sandbox recipients are kept for inspection, eventless."""
    now = rows.message["created_at"]
    sandbox = rows.message["sandbox"]
    kinds = [("to", a) for a in personalization.to] + [("cc", a) for a in personalization.cc]
    kinds += [("bcc", a) for a in personalization.bcc]
    for index, (kind, address) in enumerate(kinds):
        recipient_id = f"{rows.message['id']}.filter0001.{position}.{index}.0"
        rows.recipients.append(
            {
                "id": recipient_id,
                "message_id": rows.message["id"],
                "account_id": principal.account_id,
                "position": position,
                "kind": kind,
                "email": address.email.lower(),
                "name": address.name,
                "from_email": message.from_for(personalization).email.lower(),
                "subject": message.subject_for(personalization),
                "status": "sandbox" if sandbox else ("processed" if scheduled else "delivered"),
                "opens_count": 0,
                "clicks_count": 0,
                "last_event_time": now,
            }
        )
        if sandbox:
            continue
        rows.events.append(
            {"recipient_id": recipient_id, "event": "processed", "occurred_at": now, "reason": None, "detail": None}
        )
        if not scheduled:
            rows.events.append(
                {"recipient_id": recipient_id, "event": "delivered", "occurred_at": now, "reason": None, "detail": None}
            )


def _require_batch(conn: Connection, *, account_id: str, batch_id: str) -> None:
    found = conn.scalar(select(MailBatch.id).where(MailBatch.id == batch_id, MailBatch.account_id == account_id))
    if found is None:
        raise BadRequest(
            "The batch_id is not valid. Create one with POST /v3/mail/batch before using it.",
            field="batch_id",
            help=f"{MAIL_ERRORS_HELP}#message.batch_id",
        )


def _as_time(unix: int | None) -> datetime | None:
    return None if unix is None else datetime.fromtimestamp(unix, UTC)


def _is_future(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment > now
