"""Whole-database chores: clearing every row (CLI `reset`, tests)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.kernel.db.base import Base


def clear_all(session: Session) -> None:
    """Delete every row, children first; the schema stays."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))
