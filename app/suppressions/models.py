"""Suppression lists (bounces, blocks, invalid emails, spam reports, unsubscribes) and unsubscribe groups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base


class Suppression(Base):
    """One address on one of an account's lists; `group_id` is 0 except for group unsubscribes."""

    __tablename__ = "suppressions"
    __table_args__ = (
        UniqueConstraint("account_id", "email", "kind", "group_id", name="uq_suppressions_entry"),
        Index("ix_suppressions_list", "account_id", "kind", "group_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    group_id: Mapped[int] = mapped_column(Integer, default=0)
    # Lower-cased, so lookups from mail send compare exactly.
    email: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str | None] = mapped_column(String(32), default=None)
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    classification: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AsmGroup(Base):
    """An unsubscribe (suppression) group, `/v3/asm/groups`."""

    __tablename__ = "asm_groups"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_asm_groups_account_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(256), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    last_email_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
