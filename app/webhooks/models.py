"""Event Webhooks: their settings and signing keys, and every batch POSTed (or tried) with its attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base


class EventWebhook(Base):
    """One Event Webhook of an account: where to POST, which events, signing, OAuth, and how far it has read."""

    __tablename__ = "event_webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    url: Mapped[str] = mapped_column(Text)
    friendly_name: Mapped[str | None] = mapped_column(String(256))
    bounce: Mapped[bool] = mapped_column(Boolean)
    click: Mapped[bool] = mapped_column(Boolean)
    deferred: Mapped[bool] = mapped_column(Boolean)
    delivered: Mapped[bool] = mapped_column(Boolean)
    dropped: Mapped[bool] = mapped_column(Boolean)
    group_resubscribe: Mapped[bool] = mapped_column(Boolean)
    group_unsubscribe: Mapped[bool] = mapped_column(Boolean)
    open: Mapped[bool] = mapped_column(Boolean)
    processed: Mapped[bool] = mapped_column(Boolean)
    spam_report: Mapped[bool] = mapped_column(Boolean)
    unsubscribe: Mapped[bool] = mapped_column(Boolean)
    account_status_change: Mapped[bool] = mapped_column(Boolean)
    oauth_client_id: Mapped[str | None] = mapped_column(Text)
    oauth_client_secret: Mapped[str | None] = mapped_column(Text)
    oauth_token_url: Mapped[str | None] = mapped_column(Text)
    signed: Mapped[bool] = mapped_column(Boolean)
    # ECDSA P-256, PKCS#8 DER; made the first time signing is switched on and kept afterwards.
    private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    public_key: Mapped[str | None] = mapped_column(Text)
    # The last message_events.id this webhook has batched (events are read in id order).
    cursor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One batch of events (or a test or replay POST): the exact payload, its state and when to try next."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    webhook_id: Mapped[str | None] = mapped_column(ForeignKey("event_webhooks.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    replay_of: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    event_count: Mapped[int] = mapped_column(Integer)
    # pending (waiting for its next attempt), delivered, failed (gave up), or replayed (a replay took over).
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    give_up_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class WebhookAttempt(Base):
    """One POST of a delivery: when, where, and what came back (status and a snippet, or the error)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    url: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    event_count: Mapped[int] = mapped_column(Integer)
    signed: Mapped[bool] = mapped_column(Boolean)
