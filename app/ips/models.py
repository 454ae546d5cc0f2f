"""Dedicated IP addresses: owned by an account, optionally assigned to its subusers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base, utcnow


class IpAddress(Base):
    """An IP taken from the configured pool; deleting the row returns it to the pool."""

    __tablename__ = "ip_addresses"

    ip: Mapped[str] = mapped_column(String(15), primary_key=True)
    # The address as an integer, so SQL can order IPs numerically.
    number: Mapped[int] = mapped_column(BigInteger, index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    region: Mapped[str] = mapped_column(String(8), default="us")
    warmup: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IpSubuser(Base):
    """An account IP that one of its subusers may send from."""

    __tablename__ = "ip_subusers"

    ip: Mapped[str] = mapped_column(ForeignKey("ip_addresses.ip", ondelete="CASCADE"), primary_key=True)
    subuser_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True)
