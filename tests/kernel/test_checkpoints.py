"""SQLite: the serving database copies its WAL back on the checkpoint thread, never inside a commit."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from app.kernel.db import migrate
from app.kernel.db.session import Database
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
