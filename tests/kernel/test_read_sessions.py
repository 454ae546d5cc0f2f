"""Searches read through the read engine: on SQLite they never take the write lock, so no send, background
pass or checkpoint waits for a long one (past the busy timeout, a pass failed with "database is locked")."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from app.kernel.config import Settings
from app.kernel.db.session import Database
from tests.conftest import Keys, bearer

pytestmark = [pytest.mark.anyio, pytest.mark.backend("sqlite")]


@pytest.fixture
def settings(scratch_dir: Path) -> Settings:
    # Without rate limits: counting the request is a write, which would wait for the lock itself.
    return Settings(
        data_dir=scratch_dir / "data", require_verified_sender=False, trusted_hosts="mirror.test", rate_limit=0
    )


@pytest.fixture
def write_lock_taken(db: Database, keys: Keys) -> Iterator[None]:
    """Another connection holds SQLite's write lock until the test is over (taken once the keys exist)."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(timeout=60)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait()
    yield
    release.set()
    holder.join()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/_mirror/messages", {"to": "someone@example.com"}),
        ("/v3/messages", {"query": 'to_email="someone@example.com"'}),
        ("/v3/messages/no-such-recipient", {}),
    ],
)
async def test_a_search_answers_while_another_connection_holds_the_write_lock(
    client: httpx.AsyncClient, keys: Keys, write_lock_taken: None, path: str, params: dict[str, str]
) -> None:
    # On the write engine the search's first query would wait for the lock: for the busy timeout, 30 s.
    with anyio.fail_after(5):
        response = await client.get(path, params=params, headers=bearer(keys.default))

    assert response.status_code == (404 if path.endswith("no-such-recipient") else 200), response.text
