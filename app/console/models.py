"""Console tables: sign-ups, emailed single-use links, sign-in throttling, SSO codes and browser sessions.

Codes, links and sessions are kept only as SHA-256 digests.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base, utcnow


class SsoCode(Base):
    """A one-time code from POST /v3/partners/accounts/{id}/sso; redeeming it deletes the row."""

    __tablename__ = "sso_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ConsoleSession(Base):
    """A signed-in console browser (the cookie holds the token, the row its digest)."""

    __tablename__ = "console_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsoleSignup(Base):
    """A sign-up waiting for its emailed confirmation link; no account exists until the link is followed."""

    __tablename__ = "console_signups"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The id the account will get, so the confirmation email shows in that account's inbox afterwards.
    account_id: Mapped[str] = mapped_column(String(34))
    username: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ConsoleToken(Base):
    """A single-use emailed link (password reset); using it deletes the row."""

    __tablename__ = "console_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginThrottle(Base):
    """Failed sign-ins per username and per client address, within a window; a lock once over the limit."""

    __tablename__ = "console_login_throttles"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
