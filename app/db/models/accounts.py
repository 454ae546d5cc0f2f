"""Tables of the mirror."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, TimestampMixin


class Account(TimestampMixin, Base):
    """A partner, a customer account or a subuser; `state` is read through `app.domain.account_state`."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(34), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, default=None
    )
    username: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    state: Mapped[str] = mapped_column(String(16), default="activated")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # SendGrid's numeric user id (subusers show it as `id`/`user_id`); the primary key stays the string id.
    user_id: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    region: Mapped[str] = mapped_column(String(8), default="global", server_default="global")
    offerings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))


class ApiKey(Base):
    """An API key; only the SHA-256 digest of the full key is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the account's state switched the key off, so reactivation restores exactly these keys.
    disabled_by_state: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
