"""The mirror clock: real time plus an offset that tests move forward (`/_mirror/clock`).

Scheduling (send_at checks, due deliveries) and the quota day read it. The offset lives in the database
so every process agrees; each process keeps it for a second, and forgets it at once when it changes it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from app.clock.models import MirrorClock
from app.kernel import local_caches
from app.kernel.db.session import Database

_TTL_SECONDS = 1.0
_ROW_ID = 1

# Database URL -> (monotonic time loaded, offset seconds).
_offsets: dict[str, tuple[float, int]] = {}


def offset(db: Database) -> int:
    """Seconds the mirror clock runs ahead of real time."""
    cached = _offsets.get(db.url)
    if cached is not None and time.monotonic() - cached[0] < _TTL_SECONDS:
        return cached[1]
    with db.reader.connect() as conn:
        value = read_offset(conn)
    _offsets[db.url] = (time.monotonic(), value)
    return value


def now(db: Database) -> datetime:
    """The mirror's current time (UTC)."""
    return datetime.now(UTC) + timedelta(seconds=offset(db))


def unix(db: Database) -> int:
    return int(time.time()) + offset(db)


def read_now(conn: Connection) -> datetime:
    """The mirror's current time, its offset read afresh on `conn` (writer passes, webhook POSTs)."""
    return datetime.now(UTC) + timedelta(seconds=read_offset(conn))


def session_now(session: Session) -> datetime:
    """The mirror's current time, its offset read in `session`'s transaction."""
    return datetime.now(UTC) + timedelta(seconds=session_offset(session))


def read_offset(conn: Connection) -> int:
    """The stored offset, read afresh (for code that must not use a cached value)."""
    return conn.scalar(select(MirrorClock.offset_seconds).where(MirrorClock.id == _ROW_ID)) or 0


def set_offset(session: Session, seconds: int) -> None:
    """Make the mirror clock run `seconds` ahead of real time (0: real time)."""
    session.execute(delete(MirrorClock))
    if seconds:
        session.add(MirrorClock(id=_ROW_ID, offset_seconds=seconds))
    session.flush()


def session_offset(session: Session) -> int:
    return session.scalar(select(MirrorClock.offset_seconds).where(MirrorClock.id == _ROW_ID)) or 0


def forget() -> None:
    _offsets.clear()


local_caches.register(forget)
