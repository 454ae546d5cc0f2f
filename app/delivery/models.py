"""The delivery simulator's state: events still to come, and the rules set through the API or a seed file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base


class PendingEvent(Base):
    """A simulated event due later; the delivery pass moves it into message_events when the clock reaches it.

    `due_at` is NULL while the send waits for its send_at: the scheduler then sets it to send time + `delay`.
    """

    __tablename__ = "pending_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_id: Mapped[str] = mapped_column(ForeignKey("message_recipients.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    delay: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DeliveryRuleSet(Base):
    """The one row holding the rules set by PUT /_mirror/delivery-rules or a seed file (else the setting's)."""

    __tablename__ = "delivery_rule_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
