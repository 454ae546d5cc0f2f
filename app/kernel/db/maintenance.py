"""Whole-database chores: clearing every row (`sgmirror reset`, `POST /_mirror/reset`, tests)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.kernel.db.base import Base


def clear_all(session: Session) -> dict[str, int]:
    """Delete every row, children first; the schema stays. Returns the rows removed per table (non-zero only)."""
    removed: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        # Counted first: a DELETE's row count leaves out rows its cascades took (subusers with their parent).
        count = session.scalar(select(func.count()).select_from(table)) or 0
        if count:
            session.execute(delete(table))
            removed[table.name] = count
    return dict(sorted(removed.items()))
