"""Migrations: one head, base ↔ head round trip, and the models equal what the migrations build."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from app.accounts import bootstrap
from app.accounts.models import Account
from app.inspection import indexer
from app.inspection import service as inspection
from app.kernel.db import migrate
from app.kernel.db.base import Base
from app.kernel.db.session import Database, make_engine
from app.kernel.principal import Principal
from app.mail import service as mail_service
from app.mail import validation as mail_validation
from app.mail.models import MessageLabel
from tests.conftest import BACKENDS, DEFAULT_KEY, PARTNER_KEY, new_database_url
from tests.support.mail import body

# The index pass waits for sends to settle; these tests index at once.
NO_WAIT = timedelta(0)
SEARCH_REVISION_PARENT = "a9b1c2d3e405"


def test_there_is_a_single_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest) -> str:
    return new_database_url(request, request.param, "sgmirror_migrations")


def test_upgrade_downgrade_round_trip(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(conn).get_table_names())
    engine.dispose()


def test_models_match_the_migrations(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True, "include_name": migrate.compared_with_models}),
            Base.metadata,
        )
    engine.dispose()
    assert diff == []


@pytest.mark.anyio
async def test_mail_stored_before_the_search_indexes_is_found_and_then_indexed(empty_url: str) -> None:
    """Downgrade below the search revision, store mail, upgrade: searches find it at once (it is the
    unindexed tail), and the index pass then writes its labels, words and trigram rows."""
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, SEARCH_REVISION_PARENT)
    db = Database(empty_url)
    try:
        with db.session() as session:
            bootstrap.bootstrap(session, api_key=DEFAULT_KEY, partner_api_key=PARTNER_KEY)
        with db.engine.begin() as conn:
            for table, table_rows in _rows_of_one_send(db).items():
                if table_rows:
                    conn.execute(table.insert(), table_rows)
        migrate.upgrade(empty_url)
        before = _found(db)
        assert await indexer.catch_up(db, settle=NO_WAIT) == 1
        assert _found(db) == before == [["Stored earlier"]] * 5
        with db.read_session() as session:
            labels = {(kind, value) for kind, value in session.execute(select(MessageLabel.kind, MessageLabel.value))}
        assert labels == {
            ("t", "old@example.com"), ("f", "sender@example.com"), ("c", "legacy"), ("a", "order\x1f7"),
        }  # fmt: skip
    finally:
        db.dispose()


def _found(db: Database) -> list[list[str | None]]:
    filters = [
        inspection.Filters(subject="arlier"), inspection.Filters(to="OLD@example.com"),
        inspection.Filters(category="legacy"), inspection.Filters(custom_arg="order=7"),
        inspection.Filters(text="stored earlier"),
    ]  # fmt: skip
    with db.read_session() as session:
        return [[m.subject for m in inspection.search(session, f, limit=10).messages] for f in filters]


def _rows_of_one_send(db: Database) -> dict[Any, list[dict[str, Any]]]:
    payload = body(
        personalizations=[{"to": [{"email": "Old@Example.com"}]}],
        subject="Stored earlier",
        categories=["legacy"],
        custom_args={"order": "7"},
        **{"from": {"email": "sender@example.com"}},
    )
    message = mail_validation.parse_mail_send(payload, now=1_700_000_000)
    with db.read_session() as session:
        principal = session.execute(select(Account.id)).scalars().first()
    assert principal is not None
    owner = Principal(key_id=None, key_account_id=principal, account_id=principal, account_kind="customer",
                      account_state="activated", scopes=frozenset())  # fmt: skip
    rows = mail_service.prepare_rows(owner, message, message_id=mail_service.new_message_id(), transport="http",
                                     raw_request=orjson.dumps(payload))  # fmt: skip
    return rows.by_table()
