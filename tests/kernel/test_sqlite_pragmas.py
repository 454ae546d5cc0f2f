"""SQLite connections are opened with memory that does not grow with the database, and a WAL cut back after use."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.kernel.db import session as db_session
from app.kernel.db.session import Database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'pragmas.db'}")


@pytest.mark.parametrize("engine", ["engine", "reader"])
def test_every_sqlite_connection_bounds_its_cache_and_maps_nothing(sqlite_db: Database, engine: str) -> None:
    with getattr(sqlite_db, engine).connect() as conn:
        pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in
                  ("cache_size", "mmap_size", "soft_heap_limit", "journal_size_limit")}  # fmt: skip
    sqlite_db.dispose()
    assert pragma == {
        "cache_size": -db_session.CACHE_KIB,
        "mmap_size": 0,
        "soft_heap_limit": db_session.HEAP_LIMIT_BYTES,
        "journal_size_limit": db_session.WAL_LIMIT_BYTES,
    }
    assert db_session.CACHE_KIB <= 8192
    assert db_session.HEAP_LIMIT_BYTES <= 64 * 1024 * 1024
