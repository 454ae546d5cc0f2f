"""Whether the database can be written: storage failures recognised, remembered per process, and probed.

A full disk or a read-only database is no bug of a request: each transport answers it as "try again later"
(`StorageUnavailable`: HTTP 503 with Retry-After, SMTP 451/452). The failure is remembered here, so that
`/_mirror/health` and the console can say so, until a probe (a real write) succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection, text

from app.kernel.errors import SendGridError, StorageFull, StorageUnavailable

if TYPE_CHECKING:
    from app.kernel.db.session import Database

log = logging.getLogger("sgmirror.storage")

FULL: Final = "full"
READ_ONLY: Final = "read-only"
FAILING: Final = "failing"

# SQLite's primary result codes (the low byte of the extended code Python reports).
_SQLITE_STATES: Final = {13: FULL, 8: READ_ONLY, 10: FAILING, 14: FAILING}  # FULL, READONLY, IOERR, CANTOPEN
# PostgreSQL SQLSTATEs: disk_full, read_only_sql_transaction, io_error.
_POSTGRES_STATES: Final = {"53100": FULL, "25006": READ_ONLY, "58030": FAILING}
_ERRNO_STATES: Final = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY, errno.EIO: FAILING}

# A probe must find room for this much beside the database, as a send's rows would need.
PROBE_BYTES: Final = 64 * 1024
PROBE_FILE: Final = ".sgmirror-storage-probe"
# While a failure is remembered: how often the watch (and a plain health check) probes again.
REPROBE_SECONDS: Final = 2.0


def classify(error: BaseException) -> str | None:
    """`full`, `read-only` or `failing` when `error` (or what it wraps) says the storage refused a write."""
    for cause in _chain(error):
        if isinstance(cause, StorageUnavailable):
            return cause.condition
        if isinstance(cause, sqlite3.Error):
            code = getattr(cause, "sqlite_errorcode", None)
            if isinstance(code, int) and (code & 0xFF) in _SQLITE_STATES:
                return _SQLITE_STATES[code & 0xFF]
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate in _POSTGRES_STATES:
            return _POSTGRES_STATES[sqlstate]
        if isinstance(cause, OSError) and cause.errno in _ERRNO_STATES:
            return _ERRNO_STATES[cause.errno]
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what SQLAlchemy wraps (`orig`), and its causes, each once."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nested in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(nested, BaseException):
                pending.append(nested)


def translate(error: BaseException) -> StorageUnavailable | None:
    """The client-facing error for a storage failure (None for anything else); the cause stays chained."""
    if isinstance(error, StorageUnavailable):
        return error
    if isinstance(error, SendGridError):
        return None
    state = classify(error)
    if state is None:
        return None
    translated = StorageFull() if state == FULL else StorageUnavailable()
    translated.condition = state
    translated.__cause__ = error
    return translated


@dataclass(frozen=True, slots=True)
class Failure:
    """The last storage failure seen: what, the driver's words, and when (wall clock, UTC)."""

    condition: str
    detail: str
    at: datetime


class StorageHealth:
    """The storage state of one database in this process: the last failure, until a probe clears it."""

    def __init__(self) -> None:
        self._failure: Failure | None = None
        self._probed_at = 0.0  # time.monotonic() of the last probe
        self._lock = threading.Lock()

    @property
    def failure(self) -> Failure | None:
        return self._failure

    def failed(self, error: StorageUnavailable) -> None:
        """Remember a failure (from any thread); logged once per change of state."""
        failure = Failure(error.condition, _detail(error), datetime.now(UTC))
        with self._lock:
            previous, self._failure = self._failure, failure
        if previous is None or previous.condition != failure.condition:
            log.warning("the database cannot be written (%s): %s", failure.condition, failure.detail)

    def recovered(self) -> None:
        with self._lock:
            previous, self._failure = self._failure, None
        if previous is not None:
            log.warning("the database can be written again")

    def probe_due(self) -> bool:
        """A failure is remembered and was not probed within REPROBE_SECONDS."""
        return self._failure is not None and time.monotonic() - self._probed_at >= REPROBE_SECONDS

    def note_probe(self) -> None:
        self._probed_at = time.monotonic()


def _detail(error: StorageUnavailable) -> str:
    """The driver's or the OS's words for the failure, without file names or SQL."""
    cause = error.__cause__ or error
    for nested in _chain(cause):
        if isinstance(nested, OSError) and nested.strerror:
            return nested.strerror
        if isinstance(nested, sqlite3.Error) or getattr(nested, "sqlstate", None):
            return str(nested).splitlines()[0] if str(nested) else error.condition
    return str(cause).splitlines()[0] if str(cause) else error.condition


def note(db: Database, error: BaseException) -> StorageUnavailable | None:
    """`translate(error)`, remembered as the database's last failure when it is one."""
    translated = translate(error)
    if translated is not None:
        db.storage.failed(translated)
    return translated


async def probe(db: Database) -> Failure | None:
    """A real write, committed: room for a file beside a SQLite database, then a no-op UPDATE through the
    group commit. None when both succeed (and the remembered failure is cleared), else the failure."""
    db.storage.note_probe()
    try:
        directory = _sqlite_directory(db)
        if directory is not None:
            await asyncio.to_thread(_find_room, directory)
        await db.writer.run(_touch)
    except Exception as error:
        translated = translate(error)
        if translated is None:
            translated = StorageUnavailable()
            translated.__cause__ = error
        db.storage.failed(translated)
        return db.storage.failure
    db.storage.recovered()
    return None


def _sqlite_directory(db: Database) -> Path | None:
    path = db.engine.url.database
    if not db.is_sqlite or not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).resolve().parent


def _find_room(directory: Path) -> None:
    """Write and sync PROBE_BYTES in the database's folder, then remove them: the WAL reuses its space, so
    a small commit can succeed on a full disk that a send's new pages would not fit on."""
    probe_path = directory / PROBE_FILE
    try:
        descriptor = os.open(probe_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(descriptor, b"\0" * PROBE_BYTES)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    finally:
        with contextlib.suppress(FileNotFoundError):
            probe_path.unlink()


def _touch(conn: Connection) -> None:
    # The one row every migrated database has, written back unchanged: a real write, in a real COMMIT.
    conn.execute(text("UPDATE alembic_version SET version_num = version_num"))


async def watch(db: Database) -> None:
    """While a failure is remembered, probe every REPROBE_SECONDS so the state clears without a request."""
    while True:
        await asyncio.sleep(REPROBE_SECONDS)
        if db.storage.probe_due():
            try:
                await probe(db)
            except Exception:
                log.exception("storage probe failed")


def start_watch(db: Database) -> asyncio.Task[None]:
    return asyncio.create_task(watch(db), name="sgmirror-storage-watch")
