"""Plan quotas: recipients per account per UTC day, counted exactly inside the writer's transaction.

The reservation is one conditional upsert on the account's row for the day: it adds the message's
recipients only while the sum stays within the cap, so it is exact under concurrency on SQLite (one
writer at a time) and across processes on PostgreSQL (the upsert locks the row).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from app.kernel.db.base import table_of
from app.kernel.errors import CreditsExceeded
from app.quotas.models import DailySendCount

_TABLE = table_of(DailySendCount)


def reserve(conn: Connection, *, account_id: str, day: date, count: int, cap: int) -> None:
    """Count `count` more recipients for the day, or raise CreditsExceeded and change nothing."""
    if count > cap:
        raise CreditsExceeded()
    insert = postgresql.insert(_TABLE) if conn.dialect.name == "postgresql" else sqlite.insert(_TABLE)
    total = _TABLE.c["count"] + insert.excluded["count"]
    statement = (
        insert.values(account_id=account_id, day=day, count=count)
        .on_conflict_do_update(
            index_elements=[_TABLE.c.account_id, _TABLE.c.day], set_={"count": total}, where=total <= cap
        )
        .returning(_TABLE.c["count"])
    )
    if conn.execute(statement).first() is None:
        raise CreditsExceeded()


def used(conn: Connection, *, account_id: str, day: date) -> int:
    """Recipients already counted for the account on `day`."""
    found = conn.scalar(select(_TABLE.c["count"]).where(_TABLE.c.account_id == account_id, _TABLE.c.day == day))
    return int(found or 0)
