"""Accepted mail: the send (X-Message-Id), one MIME envelope per personalization, recipients, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base


class MailBatch(Base):
    """A batch id from POST /v3/mail/batch; sends may carry it."""

    __tablename__ = "mail_batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Message(Base):
    """One accepted send request, identified by its X-Message-Id."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    api_key_id: Mapped[str | None] = mapped_column(String(64))
    transport: Mapped[str] = mapped_column(String(8))
    from_email: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str | None] = mapped_column(String(256))
    subject: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON)
    custom_args: Mapped[dict[str, Any]] = mapped_column(JSON)
    template_id: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sandbox: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    request: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Envelope(Base):
    """One personalization; `mime` is its RFC 5322 message, rendered from the stored request on first read."""

    __tablename__ = "message_envelopes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    from_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    custom_args: Mapped[dict[str, Any]] = mapped_column(JSON)
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mime: Mapped[bytes | None] = mapped_column(LargeBinary)


class Recipient(Base):
    """One recipient of one envelope; `id` is SendGrid's per-recipient `sg_message_id`."""

    __tablename__ = "message_recipients"
    __table_args__ = (Index("ix_message_recipients_account_last_event", "account_id", "last_event_time"),)

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(34))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(3))
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str | None] = mapped_column(String(256))
    from_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    opens_count: Mapped[int] = mapped_column(Integer, default=0)
    clicks_count: Mapped[int] = mapped_column(Integer, default=0)
    last_event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Event(Base):
    """One event in a recipient's history (processed, delivered, ...)."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_id: Mapped[str] = mapped_column(ForeignKey("message_recipients.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    # What SendGrid's event JSON carries beyond the name and reason: bounce type/status, deferral attempt
    # and response, click url, user agent, ip, asm_group_id, bounce_classification.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Mirror time the row was written, when that is later than `occurred_at` (the delivery simulator's pass
    # writes events at their due time); the Event Webhook waits for rows to settle by this time.
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
