"""Two `sgmirror serve` processes on one PostgreSQL database apply each simulated event exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select

from app.mail.models import Event, Recipient
from tests.support import mirror_process, postgres
from tests.support.mail import body
from tests.support.mirror_process import MirrorProcess

pytestmark = pytest.mark.contract

KEY = "SG.deliveryTwoProcess000.deliveryTwoProcessSecret0000000000000000000"
SENDS, RECIPIENTS = 6, 50


@pytest.fixture(scope="module")
def processes(
    postgres_server: postgres.PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[MirrorProcess], str]]:
    database_url = postgres_server.create_database("sgmirror_delivery_two_processes")
    started: list[MirrorProcess] = []
    try:
        for name in ("a", "b"):
            started.append(
                mirror_process.start(
                    tmp_path_factory.mktemp(name),
                    database_url=database_url,
                    api_key=KEY,
                    require_verified_sender="false",
                    smtp_enabled="false",
                    scheduler_interval="0.02",
                )
            )
        yield started, database_url
    finally:
        for mirror in started:
            mirror.stop()


def _count(engine: Engine, message_ids: list[str], event: str) -> int:
    with engine.connect() as conn:
        found = conn.scalar(
            select(func.count())
            .select_from(Event)
            .join(Recipient)
            .where(Recipient.message_id.in_(message_ids), Event.event == event)
        )
    return int(found or 0)


def test_each_due_event_is_applied_by_one_process_only(processes: tuple[list[MirrorProcess], str]) -> None:
    mirrors, database_url = processes
    headers = {"Authorization": f"Bearer {KEY}"}
    payload = body(personalizations=[{"to": [{"email": f"reader{i}+click@example.com"}]} for i in range(RECIPIENTS)])
    sent = [httpx.post(f"{mirrors[i % 2].url}/v3/mail/send", headers=headers, json=payload) for i in range(SENDS)]
    assert [r.status_code for r in sent] == [202] * SENDS
    message_ids = [r.headers["x-message-id"] for r in sent]
    expected = SENDS * RECIPIENTS
    # Every open and click falls due at once; both processes' passes (every 20 ms) race for them.
    with httpx.Client() as client:
        for mirror in mirrors:
            assert client.put(f"{mirror.url}/_mirror/clock", json={"offset_seconds": 60}).status_code == 200
    engine = create_engine(database_url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _count(engine, message_ids, "click") < expected:
            time.sleep(0.2)
        time.sleep(0.5)
        assert (_count(engine, message_ids, "open"), _count(engine, message_ids, "click")) == (expected, expected)
        with engine.connect() as conn:
            rows = conn.execute(
                select(Recipient.opens_count, Recipient.clicks_count).where(Recipient.message_id.in_(message_ids))
            )
            counters = {(row.opens_count, row.clicks_count) for row in rows}
        assert counters == {(1, 1)}
    finally:
        engine.dispose()
