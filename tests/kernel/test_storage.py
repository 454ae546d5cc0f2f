"""A database that cannot be written: each transport answers "try again later", health and the console say so,
and the same process recovers once it can write again (both backends; a full disk on a real tmpfs is in
tests/contract/test_disk_full.py)."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from app.accounts import bootstrap
from app.kernel.config import Settings
from app.kernel.db import migrate, storage
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, StorageFull, StorageUnavailable
from app.mail.models import Message
from app.main import create_app
from app.smtp import replies
from tests.conftest import BACKENDS, DEFAULT_KEY, PARTNER_KEY, bearer, new_database_url
from tests.support.mail import VALID

pytestmark = pytest.mark.anyio


@dataclass
class ReadOnlySwitch:
    """While `on`, every transaction on the database's write engine is read-only (as a read-only file or a
    read-only PostgreSQL would make it); connections already open are not replaced."""

    on: bool = False


@pytest.fixture(params=BACKENDS)
def own_db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A database of its own: a connection left read-only must not reach other tests."""
    url = new_database_url(request, request.param, "sgmirror_storage")
    migrate.upgrade(url)
    db = Database(url)
    with db.session() as session:
        bootstrap.bootstrap(session, api_key=DEFAULT_KEY, partner_api_key=PARTNER_KEY)
    yield db
    db.dispose()


@pytest.fixture
async def own_client(own_db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, database=own_db), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as http:
        yield http


@pytest.fixture
def read_only(own_db: Database) -> Iterator[ReadOnlySwitch]:
    switch = ReadOnlySwitch()

    def begin(connection: Any) -> None:
        if switch.on:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    def before_begin(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        # Before BEGIN IMMEDIATE, which a read-only SQLite file refuses already.
        if statement.startswith("BEGIN"):
            cursor.connection.execute(f"PRAGMA query_only={int(switch.on)}")

    hooks = [("before_cursor_execute", before_begin)] if own_db.is_sqlite else [("begin", begin)]
    for name, hook in hooks:
        event.listen(own_db.engine, name, hook)
    yield switch
    for name, hook in hooks:
        event.remove(own_db.engine, name, hook)


def _stored(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


async def test_a_read_only_database_refuses_writes_with_503_and_recovers_without_a_restart(
    own_client: httpx.AsyncClient, own_db: Database, read_only: ReadOnlySwitch
) -> None:
    client, db, key = own_client, own_db, DEFAULT_KEY
    assert (await client.post("/v3/mail/send", headers=bearer(key), json=VALID)).status_code == 202
    read_only.on = True

    refused = await client.post("/v3/mail/send", headers=bearer(key), json=VALID)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert "x-message-id" not in refused.headers
    assert refused.content == b'{"errors":[{"message":"service unavailable","field":null,"help":null}]}'
    assert _stored(db) == 1

    # Other writes too, each in its family's envelope.
    batch = await client.post("/v3/mail/batch", headers=bearer(key))
    assert (batch.status_code, batch.headers["retry-after"]) == (503, "5")
    assert batch.json() == {"errors": [{"message": "service unavailable"}]}

    health = await client.get("/_mirror/health")
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert health.json()["storage"] == "read-only"
    deep = await client.get("/_mirror/health", params={"deep": "1"})
    assert (deep.status_code, deep.json()["storage"]) == (503, "read-only")
    page = await client.get("/console/login")
    assert 'id="storage-banner"' in page.text
    assert "it is read-only" in page.text

    read_only.on = False
    deep = await client.get("/_mirror/health", params={"deep": "1"})
    assert deep.status_code == 200, deep.text
    assert deep.json() == {"status": "ok", "database": db.engine.dialect.name, "storage": "writable"}
    plain = await client.get("/_mirror/health")
    assert plain.status_code == 200
    assert plain.json() == {"status": "ok", "database": db.engine.dialect.name}
    assert 'id="storage-banner"' not in (await client.get("/console/login")).text
    accepted = await client.post("/v3/mail/send", headers=bearer(key), json=VALID)
    assert accepted.status_code == 202
    assert (await client.get(f"/_mirror/messages/{accepted.headers['x-message-id']}")).status_code == 200
    assert _stored(db) == 2


async def test_plain_health_is_cheap_and_ok_while_nothing_failed(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.get("/_mirror/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": db.engine.dialect.name}
    assert db.storage.failure is None


def _sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (OperationalError("INSERT", {}, _sqlite_error("database or disk is full", 13)), "full"),
        (OperationalError("COMMIT", {}, _sqlite_error("attempt to write a readonly database", 8)), "read-only"),
        (
            OperationalError("COMMIT", {}, _sqlite_error("attempt to write a readonly database", 8 | 3 << 8)),
            "read-only",
        ),
        (OperationalError("COMMIT", {}, _sqlite_error("disk I/O error", 10 | 3 << 8)), "failing"),
        (OperationalError("INSERT", {}, psycopg.errors.DiskFull("could not extend file")), "full"),
        (OperationalError("INSERT", {}, psycopg.errors.ReadOnlySqlTransaction("read-only transaction")), "read-only"),
        (OSError(errno.ENOSPC, "No space left on device"), "full"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
    ],
)
def test_storage_failures_of_both_backends_and_the_os_are_recognised(error: BaseException, state: str) -> None:
    assert storage.classify(error) == state
    translated = storage.translate(error)
    assert translated is not None
    assert (translated.status, translated.condition) == (503, state)
    assert isinstance(translated, StorageFull) == (state == "full")
    assert translated.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT", {}, _sqlite_error("database is locked", 5)),
        OperationalError("SELECT", {}, psycopg.errors.UniqueViolation("duplicate key")),
        OSError(errno.ECONNREFUSED, "refused"),
        BadRequest("bad"),
        ValueError("other"),
    ],
)
def test_other_errors_are_not_storage_failures(error: BaseException) -> None:
    assert storage.classify(error) is None
    assert storage.translate(error) is None


def test_the_relay_answers_a_storage_failure_with_a_transient_reply() -> None:
    assert replies.reply_for(StorageFull()) == "452 4.3.1 Insufficient system storage"
    assert replies.reply_for(StorageUnavailable()) == "451 4.3.0 Temporary storage failure, please try again later"
