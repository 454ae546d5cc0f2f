"""Accounts: partners, customer accounts and subusers in one table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base, TimestampMixin


class Account(TimestampMixin, Base):
    """A partner, a customer account or a subuser; `state` is read through `app.accounts.state`."""

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
