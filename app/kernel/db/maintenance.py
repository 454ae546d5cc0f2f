"""Whole-database chores: clearing every row (`sgmirror reset`, `POST /_mirror/reset`, tests)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.kernel.db.base import Base


def clear_all(session: Session) -> None:
    """Delete every row, children first; the schema stays."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))


def count_rows(session: Session) -> dict[str, int]:
    """Rows per table that holds any (a DELETE's row count would leave out rows its cascades take)."""
    counts = {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }
    return {name: count for name, count in sorted(counts.items()) if count}
