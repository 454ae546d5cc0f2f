"""Per-key API rate limits: fixed windows counted in the database, so several processes share one count.

Each authenticated API request (mail send excepted: it carries no rate-limit headers on the real
service) adds one to its key's counter for the endpoint family with one upsert on the writer, which
starts a new window when the stored one is over. Over the limit → 429 `too many requests`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import Connection, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app.kernel.db.base import table_of
from app.kernel.db.session import Database
from app.quotas.models import RateLimitCounter

_TABLE = table_of(RateLimitCounter)


@dataclass(frozen=True, slots=True)
class Usage:
    limit: int
    count: int
    reset: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    def headers(self) -> list[tuple[bytes, bytes]]:
        """X-RateLimit-Limit, -Remaining and -Reset (Unix seconds, as SendGrid's docs show)."""
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(max(self.limit - self.count, 0)).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]


def family_of(path: str) -> str:
    """The endpoint family of a /v3 path: its first segment (`api_keys`, `verified_senders`, `user`, ...)."""
    return path.lstrip("/").removeprefix("v3/").split("/", 1)[0]


def count(conn: Connection, *, key_id: str, family: str, window_start: int) -> int:
    """Add one request to the key's window for the family (a new window resets it); the count so far."""
    insert = postgresql.insert(_TABLE) if conn.dialect.name == "postgresql" else sqlite.insert(_TABLE)
    same_window = _TABLE.c.window_start == insert.excluded.window_start
    statement = (
        insert.values(key_id=key_id, family=family, window_start=window_start, count=1)
        .on_conflict_do_update(
            index_elements=[_TABLE.c.key_id, _TABLE.c.family],
            set_={
                "count": case((same_window, _TABLE.c["count"] + 1), else_=1),
                "window_start": insert.excluded.window_start,
            },
        )
        .returning(_TABLE.c["count"])
    )
    return int(conn.execute(statement).scalar_one())


async def hit(db: Database, *, key_id: str, family: str, limit: int, window: int, now: int) -> Usage | None:
    """Count one request; None when the key vanished meanwhile (it is refused elsewhere)."""
    start = now - now % window
    try:
        so_far: int = await db.writer.run(partial(count, key_id=key_id, family=family, window_start=start))
    except IntegrityError:
        return None
    return Usage(limit=limit, count=so_far, reset=start + window)
