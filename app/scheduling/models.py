"""Scheduled sends: batch pauses and cancellations, and the deliveries still waiting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base


class ScheduledSend(Base):
    """A `pause` or `cancel` set on a batch (`/v3/user/scheduled_sends`)."""

    __tablename__ = "scheduled_sends"

    batch_id: Mapped[str] = mapped_column(ForeignKey("mail_batches.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScheduledDelivery(Base):
    """One personalization accepted with a future `send_at`; the scheduler delivers it and deletes the row."""

    __tablename__ = "scheduled_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[str] = mapped_column(String(34))
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
