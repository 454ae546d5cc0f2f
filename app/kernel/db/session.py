"""Engine and session factory for SQLite (WAL, foreign keys) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.kernel.db import storage
from app.kernel.db.checkpoint import Checkpointer
from app.kernel.db.signal import CommitSignal
from app.kernel.db.writer import GroupCommitWriter

# Memory that does not grow with the database: each connection's page cache is bounded (a connection per
# pooled reader and writer, so this is multiplied), reads are not memory-mapped (mapped pages count as the
# process's own), and one soft limit for SQLite's whole heap makes the caches recycle pages past it.
CACHE_KIB = 8192
MMAP_BYTES = 0
HEAP_LIMIT_BYTES = 64 * 1024 * 1024
# The checkpoint thread restarts the WAL once it holds more than this, and its file is then cut back to it.
WAL_LIMIT_BYTES = 64 * 1024 * 1024
# How long a connection waits for a lock another holds before SQLITE_BUSY ("database is locked").
BUSY_TIMEOUT_SECONDS = 30.0


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine tuned per backend; SQLite write transactions take the write lock up front."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _configure_sqlite)
    # Readers keep SQLite's deferred BEGIN so that, under WAL, they never wait for the writer.
    event.listen(engine, "begin", _begin_deferred if read_only else _begin_immediate)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Manage transactions ourselves so BEGIN IMMEDIATE is possible (pysqlite's own BEGIN is deferred,
    # and a deferred read that later writes fails with SQLITE_BUSY instead of waiting).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cursor.execute(f"PRAGMA soft_heap_limit={HEAP_LIMIT_BYTES}")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    cursor.close()


def _checkpointer(engine: Engine) -> Checkpointer | None:
    """For a SQLite file: its write connections leave WAL checkpoints to a Checkpointer's thread."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None
    checkpointer = Checkpointer(path, WAL_LIMIT_BYTES)
    event.listen(engine, "connect", _no_automatic_checkpoints)
    event.listen(engine, "commit", lambda _connection: checkpointer.after_commit())
    return checkpointer


def _no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


class Database:
    """The engines (writes, reads), the session factory and the group-commit writer of one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.reader = make_engine(url, read_only=True) if self.engine.dialect.name == "sqlite" else self.engine
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(self.reader, expire_on_commit=False)
        self.storage = storage.StorageHealth()
        self.writer = GroupCommitWriter(self.engine, self.storage)
        self.commits = CommitSignal()
        self.writer.on_commit(self.commits.notify)
        self.checkpointer = _checkpointer(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on any error."""
        with self.sessionmaker() as session:
            try:
                yield session
                session.commit()
            except BaseException as error:
                session.rollback()
                translated = storage.note(self, error) if isinstance(error, Exception) else None
                if translated is not None and translated is not error:
                    raise translated from error
                raise

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only unit of work; closing it discards any change and keeps loaded rows readable."""
        with self.read_sessionmaker() as session:
            yield session

    def dispose(self) -> None:
        self.writer.close()
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.engine.dispose()
        self.reader.dispose()
