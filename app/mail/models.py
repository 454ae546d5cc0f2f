"""Accepted mail: the send (X-Message-Id), one MIME envelope per personalization, recipients, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
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
    # Every listing is newest first: an index per way of narrowing it ends in (created_at, id).
    __table_args__ = (
        Index("ix_messages_created", "created_at", "id"),
        Index("ix_messages_account_created", "account_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
    # Email Activity lists an account's recipients by last event, or by status (addresses go through the
    # sends' labels, written after the send rather than by it).
    __table_args__ = (
        Index("ix_message_recipients_account_last_event", "account_id", "last_event_time"),
        Index("ix_message_recipients_account_status", "account_id", "status", "last_event_time"),
    )

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(34))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(3))
    # Both addresses are stored lowercased (searches compare them without lower(), so indexes serve).
    email: Mapped[str] = mapped_column(String(320), info={"lowercase": True})
    name: Mapped[str | None] = mapped_column(String(256))
    from_email: Mapped[str] = mapped_column(String(320), info={"lowercase": True})
    subject: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    opens_count: Mapped[int] = mapped_column(Integer, default=0)
    clicks_count: Mapped[int] = mapped_column(Integer, default=0)
    last_event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageLabel(Base):
    """One exact value a message can be found by, in creation order: `kind` t (a recipient address), f (the
    from address), k (its API key id), p (its template id), c (a category) or a (a custom argument, key and
    value joined by LABEL_SEPARATOR). The search index pass writes them (app/inspection/indexer.py).

    The key ends in (created_at, message_id), so a search by one value reads its newest matches straight
    off the index, however many other messages there are.
    """

    __tablename__ = "message_labels"
    __table_args__ = (Index("ix_message_labels_message_id", "message_id"), {"sqlite_with_rowid": False})

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)


LABEL_SEPARATOR = "\x1f"


class MessageWords(Base):
    """A message's words (subject and decoded bodies, folded), written by the word indexer some time after
    the send; the migrations put them under each backend's full-text index (see app/inspection/words.py)."""

    __tablename__ = "message_words"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    words: Mapped[str | None] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))


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
