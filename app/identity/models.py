"""Sender identity: single senders verified by an emailed link, and authenticated domains."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base, TimestampMixin


class VerifiedSender(TimestampMixin, Base):
    """A single sender (`/v3/verified_senders`); mail may come from `from_email` once `verified`."""

    __tablename__ = "verified_senders"
    __table_args__ = (Index("ix_verified_senders_account_email", "account_id", "email_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    nickname: Mapped[str] = mapped_column(String(100))
    from_email: Mapped[str] = mapped_column(String(256))
    # from_email lower-cased: what mail send compares.
    email_key: Mapped[str] = mapped_column(String(256))
    from_name: Mapped[str] = mapped_column(String(256), default="")
    reply_to: Mapped[str] = mapped_column(String(256))
    reply_to_name: Mapped[str] = mapped_column(String(256), default="")
    address: Mapped[str] = mapped_column(String(100), default="")
    address2: Mapped[str] = mapped_column(String(100), default="")
    city: Mapped[str] = mapped_column(String(150), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip: Mapped[str] = mapped_column(String(10), default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # SHA-256 of the emailed verification token; a resend replaces it.
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AuthenticatedDomain(TimestampMixin, Base):
    """A domain (`/v3/whitelabel/domains`); mail from any address @domain is allowed once `valid`."""

    __tablename__ = "authenticated_domains"
    __table_args__ = (Index("ix_authenticated_domains_account_domain", "account_id", "domain"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    subdomain: Mapped[str] = mapped_column(String(63))
    ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_spf: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    automatic_security: Mapped[bool] = mapped_column(Boolean, default=False)
    custom_dkim_selector: Mapped[str | None] = mapped_column(String(3), default=None)
    region: Mapped[str] = mapped_column(String(8), default="global")
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    # The records SendGrid asks for, by name: {type, host, data, valid}.
    dns: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Names of records an admin marked as published (SGMIRROR_DOMAIN_VALIDATION=manual).
    published: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_validation_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
