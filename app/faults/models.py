"""Fault-injection rules, shared by every process through the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base, utcnow


class FaultRule(Base):
    """One rule as its JSON form (`app.faults.parsing.parse_rule` reads it), in the order rules are tried."""

    __tablename__ = "fault_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    # api, settings (SGMIRROR_FAULTS, installed again at each start) or seed.
    source: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FaultRulesVersion(Base):
    """One row whose token changes with every change of the rules: processes poll it to refresh their copy."""

    __tablename__ = "fault_rules_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
