"""Retention: the oldest messages past the count cap, and those older than the age by the mirror clock, go with
every row that hangs off them, in small batches that sends interleave with (both backends)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, event, func, insert, select

from app.accounts.models import Account
from app.delivery.models import PendingEvent
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.mail.models import Envelope, Event, Message, Recipient
from app.retention import prune
from app.scheduling.models import ScheduledDelivery
from tests.conftest import Keys, bearer
from tests.support.mail import body

pytestmark = pytest.mark.anyio

DAY = 86_400
# Every table whose rows belong to one message, and the column leading back to it.
CHILDREN: tuple[tuple[Any, Any], ...] = (
    (Envelope, Envelope.message_id),
    (Recipient, Recipient.message_id),
    (ScheduledDelivery, ScheduledDelivery.message_id),
)


async def _send(client: httpx.AsyncClient, key: str, **changes: Any) -> str:
    response = await client.post("/v3/mail/send", headers=bearer(key), json=body(**changes))
    assert response.status_code == 202, response.text
    message_id: str = response.headers["x-message-id"]
    return message_id


async def _send_many(client: httpx.AsyncClient, key: str, count: int) -> list[str]:
    return [await _send(client, key, subject=f"Message {n}") for n in range(count)]


def _message_ids(db: Database) -> set[str]:
    with db.read_session() as session:
        return set(session.scalars(select(Message.id)))


def _orphans(db: Database) -> dict[str, int]:
    """Rows whose message (or recipient) is gone; every count must be 0."""
    with db.read_session() as session:
        counts = {
            model.__tablename__: session.scalar(
                select(func.count()).select_from(model).where(column.not_in(select(Message.id)))
            )
            or 0
            for model, column in CHILDREN
        }
        for model in (Event, PendingEvent):
            counts[model.__tablename__] = (
                session.scalar(
                    select(func.count()).select_from(model).where(model.recipient_id.not_in(select(Recipient.id)))
                )
                or 0
            )
    return counts


def _add_pending_event(db: Database, message_id: str) -> None:
    with db.session() as session:
        recipient = session.scalars(select(Recipient.id).where(Recipient.message_id == message_id)).one()
        session.execute(
            insert(PendingEvent).values(
                recipient_id=recipient, event="open", delay=60, due_at=datetime.now(UTC) + timedelta(days=1)
            )
        )


async def test_the_count_cap_keeps_the_newest_and_prunes_everything_of_the_oldest(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    now = (await client.get("/_mirror/clock")).json()["now"]
    oldest = await _send(client, keys.default, send_at=now + 3600)  # scheduled: a delivery row waits
    older = await _send_many(client, keys.default, 4)
    _add_pending_event(db, older[0])
    newest = await _send_many(client, keys.default, 3)

    assert await prune.run_once(db, prune.Policy(max_messages=3)) == 5

    assert _message_ids(db) == set(newest)
    assert set(_orphans(db).values()) == {0}
    assert (await client.get(f"/_mirror/messages/{oldest}")).status_code == 404
    assert (await client.get(f"/_mirror/messages/{newest[0]}")).status_code == 200
    # At the cap, a pass has nothing to do.
    assert await prune.run_once(db, prune.Policy(max_messages=3)) == 0


async def test_the_age_cap_prunes_what_the_mirror_clock_says_is_older(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    old = await _send_many(client, keys.default, 3)
    advanced = await client.post("/_mirror/clock/advance", json={"seconds": 2 * DAY})
    assert advanced.status_code == 200
    recent = await _send_many(client, keys.default, 2)

    assert await prune.run_once(db, prune.Policy(max_age=timedelta(days=3))) == 0
    assert await prune.run_once(db, prune.Policy(max_age=timedelta(days=1))) == len(old)

    assert _message_ids(db) == set(recent)
    assert set(_orphans(db).values()) == {0}


async def test_both_caps_together_keep_what_both_allow(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    await _send_many(client, keys.default, 2)
    await client.post("/_mirror/clock/advance", json={"seconds": 2 * DAY})
    recent = await _send_many(client, keys.default, 4)

    assert await prune.run_once(db, prune.Policy(max_messages=3, max_age=timedelta(days=1))) == 3
    assert _message_ids(db) == set(recent[1:])


async def test_ties_at_the_count_boundary_keep_exactly_the_cap(db: Database, keys: Keys) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with db.session() as session:
        account_id = session.scalars(select(Account.id)).first()
        assert account_id is not None
        session.execute(insert(Message), [_message_row(f"TIE{n:02d}", account_id, at) for n in range(6)])

    assert await prune.run_once(db, prune.Policy(max_messages=4)) == 2
    # Among equal times the highest ids count as the newest.
    assert _message_ids(db) == {"TIE02", "TIE03", "TIE04", "TIE05"}


def _message_row(message_id: str, account_id: str, created_at: datetime) -> dict[str, Any]:
    return {
        "id": message_id, "account_id": account_id, "api_key_id": None, "transport": "http",
        "from_email": "a@example.com", "from_name": None, "subject": "tie", "categories": [], "custom_args": {},
        "template_id": None, "batch_id": None, "send_at": None, "sandbox": False, "status": "sent",
        "request": b"{}", "created_at": created_at,
    }  # fmt: skip


def _count_batches(monkeypatch: pytest.MonkeyPatch, after: Callable[[], None] | None = None) -> list[int]:
    """Record the messages each batch deletes; `after` runs once each batch has run (on the committing thread)."""
    deleted: list[int] = []
    real = prune.prune_batch

    def counted(conn: Connection, *, cut: prune.Cut) -> tuple[int, bool]:
        result = real(conn, cut=cut)
        deleted.append(result[0])
        if after is not None:
            after()
        return result

    monkeypatch.setattr(prune, "prune_batch", counted)
    return deleted


async def test_a_pass_deletes_in_small_batches(
    client: httpx.AsyncClient, keys: Keys, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _send_many(client, keys.default, 7)
    monkeypatch.setattr(prune, "BATCH_MESSAGES", 2)
    batches = _count_batches(monkeypatch)

    assert await prune.run_once(db, prune.Policy(max_messages=1)) == 6
    assert batches == [2, 2, 2]


async def test_a_batch_also_stops_at_its_recipient_budget(
    client: httpx.AsyncClient, keys: Keys, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    crowd = [{"to": [{"email": f"r{n}@example.com"}]} for n in range(3)]
    for _ in range(4):
        await _send(client, keys.default, personalizations=crowd)
    monkeypatch.setattr(prune, "BATCH_RECIPIENTS", 5)
    batches = _count_batches(monkeypatch)

    assert await prune.run_once(db, prune.Policy(max_messages=1)) == 3
    assert batches == [1, 1, 1]


async def test_a_send_during_a_prune_is_accepted_kept_and_not_held_to_the_end(
    client: httpx.AsyncClient, keys: Keys, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _send_many(client, keys.default, 25)
    monkeypatch.setattr(prune, "BATCH_MESSAGES", 1)
    loop = asyncio.get_running_loop()
    first_batch_done = asyncio.Event()
    batches = _count_batches(monkeypatch, lambda: loop.call_soon_threadsafe(first_batch_done.set))

    pruning = asyncio.create_task(prune.run_once(db, prune.Policy(max_messages=5)))
    await first_batch_done.wait()
    during = await asyncio.gather(*(_send(client, keys.default, subject=f"During {n}") for n in range(3)))
    assert await pruning == 20

    # Each batch is its own short commit, so a send waits for one batch at most, never for the whole pass.
    assert batches == [1] * 20
    assert set(during) <= _message_ids(db)
    assert len(_message_ids(db)) == 5 + len(during)
    for message_id in during:
        assert (await client.get(f"/_mirror/messages/{message_id}")).status_code == 200


async def test_on_sqlite_the_message_holding_the_newest_event_stays(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    sent = await _send_many(client, keys.default, 3)
    await client.post("/_mirror/clock/advance", json={"seconds": 2 * DAY})

    pruned = await prune.run_once(db, prune.Policy(max_age=timedelta(days=1)))

    # SQLite hands the highest event id out again once its row is gone, and an Event Webhook whose cursor
    # had passed it would then skip new events; PostgreSQL's sequences never go back.
    if db.is_sqlite:
        assert (pruned, _message_ids(db)) == (2, {sent[-1]})
    else:
        assert (pruned, _message_ids(db)) == (3, set())


@pytest.mark.backend("postgresql")  # SQLite has one writer at a time
async def test_on_postgresql_a_second_process_lets_the_pruning_one_be(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    await _send_many(client, keys.default, 3)
    cut = prune.Cut(datetime.now(UTC) + timedelta(days=1))
    with db.engine.connect() as other:
        other.execute(select(func.pg_advisory_xact_lock(prune.LOCK_KEY)))
        assert await db.writer.run(lambda conn: prune.prune_batch(conn, cut=cut)) == (0, False)
        other.rollback()
    assert await db.writer.run(lambda conn: prune.prune_batch(conn, cut=cut)) == (3, False)


@pytest.mark.backend("sqlite")  # EXPLAIN QUERY PLAN is SQLite's
async def test_the_pass_reads_through_indexes_only(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    await _send_many(client, keys.default, 6)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "DELETE")):
            statements.append((statement, parameters))

    for engine in (db.engine, db.reader):
        event.listen(engine, "before_cursor_execute", capture)
    try:
        assert await prune.run_once(db, prune.Policy(max_messages=2)) == 4
    finally:
        for engine in (db.engine, db.reader):
            event.remove(engine, "before_cursor_execute", capture)

    plans = []
    with db.reader.connect() as conn:
        for statement, parameters in statements:
            plans += [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    touched = re.compile(r"^SCAN (messages|message_\w+|pending_events|scheduled_deliveries)\b")
    # A bounded walk of the created_at index (LIMIT/OFFSET by the cap) is the only scan allowed.
    scans = [plan for plan in plans if touched.match(plan) and "COVERING INDEX ix_messages_created " not in plan + " "]
    assert any("ix_messages_created " in plan + " " for plan in plans)
    assert scans == []


@pytest.mark.parametrize(
    ("messages", "days", "expected"),
    [
        (0, 0, None),
        (100, 0, prune.Policy(max_messages=100)),
        (0, 1.5, prune.Policy(max_age=timedelta(days=1.5))),
        (-1, 0, None),
    ],
)
def test_the_policy_comes_from_the_settings(messages: int, days: float, expected: prune.Policy | None) -> None:
    settings = Settings(retention_max_messages=messages, retention_max_age_days=days)
    assert prune.Policy.from_settings(settings) == expected


def test_nothing_is_started_without_a_cap(settings: Settings, db: Database) -> None:
    assert prune.start(db, settings) is None
