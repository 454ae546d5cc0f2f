"""SQLite: the serving database copies its WAL back on the checkpoint thread, never inside a commit; the
WAL stays near its bound however long commits go on; and background passes never fail with "database is
locked"."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from app.kernel.db import migrate
from app.kernel.db import session as db_session
from app.kernel.db.session import Database
from app.scheduling import scheduler
from app.webhooks import dispatch as webhook_dispatch
from tests.conftest import new_database_url


def _in_database_file(path: Path, tmp_path: Path) -> bool:
    """Whether the probe table is in the main database file alone, where checkpoints copy the WAL to."""
    copy = tmp_path / "main-file-only.db"
    shutil.copyfile(path, copy)
    connection = sqlite3.connect(copy)
    try:
        return connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'probe'").fetchone() is not None
    finally:
        connection.close()


def test_commits_reach_the_database_file_through_the_checkpoint_thread(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = new_database_url(request, "sqlite", "sgmirror_checkpoints")
    migrate.upgrade(url)
    db = Database(url)
    path = Path(db.engine.url.database or "")
    try:
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert not _in_database_file(path, tmp_path)
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (x INTEGER)"))
        # One page of change: SQLite's own automatic checkpoint would have waited for 1,000.
        deadline = time.monotonic() + 10
        while not _in_database_file(path, tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_database_file(path, tmp_path)
    finally:
        db.dispose()


BOUND = 1024 * 1024
PAYLOAD = bytes(16 * 1024)


def _bounded_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, name: str) -> Database:
    """A migrated SQLite database whose WAL is bounded to BOUND, with a table to fill."""
    monkeypatch.setattr(db_session, "WAL_LIMIT_BYTES", BOUND)
    url = new_database_url(request, "sqlite", name)
    migrate.upgrade(url)
    db = Database(url)
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (payload BLOB NOT NULL)"))
    return db


def _wal_bytes(db: Database) -> int:
    try:
        return Path(f"{db.engine.url.database}-wal").stat().st_size
    except FileNotFoundError:
        return 0


def _insert_payload(connection: Connection) -> None:
    connection.execute(text("INSERT INTO probe (payload) VALUES (:payload)"), {"payload": PAYLOAD})


def _read_until(db: Database, stop: threading.Event, pause: float) -> None:
    """Short read transactions one after another, as the requests served meanwhile make them."""
    while not stop.is_set():
        with db.reader.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM probe").scalar()
            time.sleep(0.003)
        time.sleep(pause)


@contextmanager
def _readers(db: Database) -> Iterator[None]:
    """Two readers whose transactions overlap: at no moment is the WAL free of readers."""
    stop = threading.Event()
    threads = [threading.Thread(target=_read_until, args=(db, stop, pause)) for pause in (0.001, 0.002)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join()


async def _sends(db: Database, rounds: int) -> int:
    """Group commits of eight 16 KiB rows, as a serving loop makes them; the largest WAL file seen."""
    largest = 0
    for _ in range(rounds):
        await asyncio.gather(*(db.writer.run(_insert_payload) for _ in range(8)))
        largest = max(largest, _wal_bytes(db))
        await asyncio.sleep(0.002)  # a serving loop parses the next requests between group commits
    return largest


@pytest.mark.anyio
async def test_the_wal_stays_near_its_bound_under_sustained_commits_and_readers(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _bounded_database(request, monkeypatch, "sgmirror_wal_bound")
    try:
        with _readers(db):
            largest = await _sends(db, rounds=500)  # about 70 MiB of WAL frames in all
    finally:
        db.dispose()
    assert largest < 12 * BOUND


@pytest.mark.anyio
async def test_background_passes_never_fail_while_the_wal_restarts_under_load(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _bounded_database(request, monkeypatch, "sgmirror_passes_under_load")
    passes = 0

    async def run_passes(sending: asyncio.Task[int]) -> None:
        nonlocal passes
        while not sending.done():
            await scheduler.run_once(db)
            await webhook_dispatch.run_once(db)
            passes += 1
            await asyncio.sleep(0.01)

    try:
        with _readers(db):
            sending = asyncio.create_task(_sends(db, rounds=300))
            await asyncio.gather(sending, run_passes(sending))
    finally:
        db.dispose()
    assert passes > 10


@pytest.mark.anyio
async def test_a_background_pass_waits_out_a_write_lock_held_past_the_busy_timeout(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_session, "BUSY_TIMEOUT_SECONDS", 0.2)
    url = new_database_url(request, "sqlite", "sgmirror_long_write_lock")
    migrate.upgrade(url)
    db = Database(url)
    locked = threading.Event()

    def hold_the_write_lock() -> None:
        # Another connection (a long transaction, another process) keeps the lock for five busy timeouts.
        connection = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(1.0)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        await asyncio.to_thread(locked.wait)
        delivered = await scheduler.run_once(db)
    finally:
        holder.join()
        db.dispose()
    assert delivered == 0
