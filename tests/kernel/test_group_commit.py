"""Where the group commit runs: SQLite commits on the event loop that queued the jobs unless that would mean
waiting, PostgreSQL on the writer thread; either way every job is committed before its caller goes on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, text

from app.kernel.db import migrate
from app.kernel.db.session import Database
from app.kernel.db.writer import transaction_memo
from tests.conftest import BACKENDS, new_database_url

pytestmark = pytest.mark.anyio


def _database(request: pytest.FixtureRequest, backend: str) -> Iterator[Database]:
    url = new_database_url(request, backend, "sgmirror_group_commit")
    migrate.upgrade(url)
    db = Database(url)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE probe (n INTEGER NOT NULL)")
    yield db
    db.dispose()


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest) -> Iterator[Database]:
    yield from _database(request, request.param)


@pytest.fixture
def fresh_sqlite(request: pytest.FixtureRequest) -> Iterator[Database]:
    yield from _database(request, "sqlite")


def _insert(n: int) -> Any:
    def job(conn: Connection) -> tuple[str, int]:
        conn.execute(text("INSERT INTO probe (n) VALUES (:n)"), {"n": n})
        return threading.current_thread().name, id(transaction_memo(conn))

    return job


def _stored(db: Database) -> list[int]:
    with db.engine.connect() as connection:
        return [row[0] for row in connection.exec_driver_sql("SELECT n FROM probe ORDER BY n")]


async def test_the_commit_runs_on_the_loop_for_sqlite_and_on_the_writer_thread_for_postgresql(
    fresh: Database,
) -> None:
    ran = await asyncio.gather(*(fresh.writer.run(_insert(n)) for n in range(3)))

    expected = threading.current_thread().name if fresh.is_sqlite else "sgmirror-writer"
    assert {thread for thread, _ in ran} == {expected}
    assert _stored(fresh) == [0, 1, 2]


async def test_on_sqlite_the_jobs_a_loop_had_ready_share_one_transaction(fresh_sqlite: Database) -> None:
    # (The PostgreSQL thread takes whatever is queued when it looks, which timing decides.)
    ran = await asyncio.gather(*(fresh_sqlite.writer.run(_insert(n)) for n in range(5)))

    assert len({memo for _, memo in ran}) == 1


async def test_a_write_queued_outside_any_loop_is_committed_before_run_later_returns(fresh: Database) -> None:
    await asyncio.to_thread(fresh.writer.run_later, _insert(7))

    assert _stored(fresh) == [7]


async def test_close_commits_what_a_loop_queued_but_had_not_committed_yet(fresh: Database) -> None:
    fresh.writer.run_later(_insert(1))
    fresh.writer.close()  # before this loop has run its commit callback

    assert _stored(fresh) == [1]
    await asyncio.sleep(0)  # the loop's own commit callback then finds nothing left
    assert _stored(fresh) == [1]


async def test_on_sqlite_the_loop_never_waits_for_a_write_lock_another_thread_holds(fresh_sqlite: Database) -> None:
    # A request served in the threadpool holds SQLite's write lock until the loop schedules its COMMIT: a
    # loop that waited for the lock would stall both until the busy timeout.
    loop = asyncio.get_running_loop()
    locked = threading.Event()
    release = asyncio.Event()

    def hold_the_write_lock() -> None:
        with fresh_sqlite.engine.begin() as connection:
            connection.execute(text("INSERT INTO probe (n) VALUES (100)"))
            locked.set()
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=5)

    holder = asyncio.create_task(asyncio.to_thread(hold_the_write_lock))
    await asyncio.to_thread(locked.wait)
    first = asyncio.create_task(fresh_sqlite.writer.run(_insert(1)))
    await asyncio.sleep(0.05)  # the loop goes on serving meanwhile
    release.set()
    await holder
    # The lock is free now, but the first job may still be waiting on the thread: the second must not
    # overtake it.
    second = asyncio.create_task(fresh_sqlite.writer.run(_insert(2)))

    ran = await asyncio.gather(first, second)
    assert [thread for thread, _ in ran] == ["sgmirror-writer", "sgmirror-writer"]
    with fresh_sqlite.engine.connect() as connection:
        assert [row[0] for row in connection.exec_driver_sql("SELECT n FROM probe ORDER BY rowid")] == [100, 1, 2]
