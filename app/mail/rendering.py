"""MIME of a stored personalization: rendered once from the committed request, then kept."""

from __future__ import annotations

import orjson
from sqlalchemy.orm import Session

from app.kernel.db.base import as_utc
from app.kernel.errors import NotFound
from app.mail import mime
from app.mail import validation as mail_validation
from app.mail.models import Envelope, Message
from app.smtp import mime_parse


def mime_of(session: Session, envelope: Envelope) -> bytes:
    """The envelope's RFC 5322 bytes, rendering and storing them on first use."""
    if envelope.mime is None:
        message = session.get(Message, envelope.message_id)
        if message is None:
            raise NotFound("message not found")
        envelope.mime = render_stored(message, envelope.position)
    return envelope.mime


def render_stored(message: Message, position: int) -> bytes:
    """Render exactly what was accepted: same request, same message id, same Date."""
    if message.transport == "smtp":
        # SMTP keeps the bytes received (its own envelope already holds them); only an X-SMTPAPI `to` copy
        # is derived from them here.
        return mime_parse.personalize(message.request, position)
    created_at = as_utc(message.created_at)
    outbound = mail_validation.parse_mail_send(orjson.loads(message.request), now=int(created_at.timestamp()))
    return mime.render_mime(outbound, position, message_id=message.id, date=created_at)
