"""Transactional templates (`/v3/templates`) and their versions; one version per template may be active."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base


class Template(Base):
    """A template of an account (or subuser): `d-` + 32 hex for dynamic ones, a GUID for legacy ones."""

    __tablename__ = "templates"
    __table_args__ = (Index("ix_templates_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    generation: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TemplateVersion(Base):
    """One version of a template: subject, HTML and text (Handlebars for dynamic templates)."""

    __tablename__ = "template_versions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(Text)
    html_content: Mapped[str] = mapped_column(Text)
    plain_content: Mapped[str] = mapped_column(Text)
    generate_plain_content: Mapped[bool] = mapped_column(Boolean)
    editor: Mapped[str] = mapped_column(String(8))
    test_data: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
