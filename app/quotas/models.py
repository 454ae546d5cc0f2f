"""Counters that must hold exactly across processes: daily sends per plan, API requests per key."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base


class DailySendCount(Base):
    """Recipients accepted for an account on one UTC day of the mirror clock (the plan's quota)."""

    __tablename__ = "daily_send_counts"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class RateLimitCounter(Base):
    """Requests of one API key to one endpoint family in the current window (fixed windows)."""

    __tablename__ = "rate_limit_counters"

    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True)
    family: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Unix seconds at which the window began.
    window_start: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
