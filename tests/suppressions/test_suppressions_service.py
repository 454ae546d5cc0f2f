"""suppressions.add and suppressions.drop_reasons on the writer's connection, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, select

from app.accounts.models import Account
from app.kernel.db.session import Database
from app.mail.message import Address, OutboundMessage, Personalization
from app.suppressions import service as suppressions
from app.suppressions.models import Suppression
from app.suppressions.service import NO_BYPASS, Bypass

A = "acct-suppress-a"
B = "acct-suppress-b"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def conn(db: Database) -> Iterator[Connection]:
    with db.session() as session:
        session.add_all([Account(id=A, kind="customer"), Account(id=B, kind="customer")])
    with db.engine.begin() as connection:
        yield connection


def entries(conn: Connection) -> list[tuple[str, str, str, int, str | None, str | None]]:
    rows = conn.execute(
        select(
            Suppression.account_id,
            Suppression.kind,
            Suppression.email,
            Suppression.group_id,
            Suppression.reason,
            Suppression.status,
        ).order_by(Suppression.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_add_stores_the_address_lower_cased(conn: Connection) -> None:
    suppressions.add(conn, A, "bounce", "Bob@Example.COM", reason="550 no such user", status="5.1.1", created=T0)
    assert entries(conn) == [(A, "bounce", "bob@example.com", 0, "550 no such user", "5.1.1")]


def test_a_repeat_updates_and_never_duplicates(conn: Connection) -> None:
    suppressions.add(conn, A, "bounce", "bob@example.com", reason="first", status="5.1.1", created=T0)
    later = T0 + timedelta(days=1)
    suppressions.add(conn, A, "bounce", "BOB@example.com", reason="second", status="5.2.2", created=later)
    assert entries(conn) == [(A, "bounce", "bob@example.com", 0, "second", "5.2.2")]
    created = conn.execute(select(Suppression.created_at, Suppression.classification)).one()
    assert created.created_at.replace(tzinfo=UTC) == later
    assert created.classification == "Mailbox Unavailable"


def test_lists_and_groups_are_separate_entries(conn: Connection) -> None:
    for kind in ("bounce", "spam_report", "global_unsubscribe"):
        suppressions.add(conn, A, kind, "bob@example.com", created=T0)
    suppressions.add(conn, A, "group_unsubscribe", "bob@example.com", group_id=7, created=T0)
    suppressions.add(conn, A, "group_unsubscribe", "bob@example.com", group_id=8, created=T0)
    suppressions.add(conn, B, "bounce", "bob@example.com", created=T0)
    assert len(entries(conn)) == 6


def test_a_group_unsubscribe_needs_its_group(conn: Connection) -> None:
    with pytest.raises(ValueError, match="group_id"):
        suppressions.add(conn, A, "group_unsubscribe", "bob@example.com", created=T0)


def test_an_unknown_list_is_refused(conn: Connection) -> None:
    with pytest.raises(ValueError, match="unknown suppression list"):
        suppressions.add(conn, A, "bounces", "bob@example.com", created=T0)


def test_no_suppressions_no_drops(conn: Connection) -> None:
    assert suppressions.drop_reasons(conn, A, ["a@example.com"], group_id=None, bypass=NO_BYPASS) == {}
    assert suppressions.drop_reasons(conn, A, [], group_id=None, bypass=NO_BYPASS) == {}


def seed_every_list(conn: Connection) -> None:
    for kind in ("bounce", "block", "invalid_email", "spam_report", "global_unsubscribe"):
        suppressions.add(conn, A, kind, f"{kind}@example.com", created=T0)
    suppressions.add(conn, A, "group_unsubscribe", "group@example.com", group_id=7, created=T0)


EVERYONE = [
    "bounce@example.com",
    "block@example.com",
    "invalid_email@example.com",
    "spam_report@example.com",
    "global_unsubscribe@example.com",
    "group@example.com",
    "clean@example.com",
]


def test_each_list_drops_with_sendgrid_reason(conn: Connection) -> None:
    seed_every_list(conn)
    assert suppressions.drop_reasons(conn, A, EVERYONE, group_id=7, bypass=NO_BYPASS) == {
        "bounce@example.com": "Bounced Address",
        "invalid_email@example.com": "Invalid",
        "spam_report@example.com": "Spam Reporting Address",
        "global_unsubscribe@example.com": "Unsubscribed Address",
        "group@example.com": "Unsubscribed Address",
    }


def test_group_unsubscribes_count_only_for_their_group(conn: Connection) -> None:
    seed_every_list(conn)
    for group_id in (None, 8):
        assert "group@example.com" not in suppressions.drop_reasons(
            conn, A, EVERYONE, group_id=group_id, bypass=NO_BYPASS
        )


def test_recipients_are_compared_lower_cased(conn: Connection) -> None:
    suppressions.add(conn, A, "bounce", "bob@example.com", created=T0)
    dropped = suppressions.drop_reasons(conn, A, ["Bob@Example.com"], group_id=None, bypass=NO_BYPASS)
    assert dropped == {"Bob@Example.com": "Bounced Address"}


def test_other_accounts_lists_never_drop(conn: Connection) -> None:
    seed_every_list(conn)
    assert suppressions.drop_reasons(conn, B, EVERYONE, group_id=7, bypass=NO_BYPASS) == {}


@pytest.mark.parametrize(
    ("bypass", "still_dropped"),
    [
        (Bypass(list_management=True), set()),
        (
            Bypass(bounce_management=True),
            {"invalid_email", "spam_report", "global_unsubscribe", "group"},
        ),
        (Bypass(spam_management=True), {"bounce", "invalid_email", "global_unsubscribe", "group"}),
        (Bypass(unsubscribe_management=True), {"bounce", "invalid_email", "spam_report", "group"}),
        (
            Bypass(bounce_management=True, spam_management=True, unsubscribe_management=True),
            {"invalid_email", "group"},
        ),
    ],
)
def test_bypass_filters(conn: Connection, bypass: Bypass, still_dropped: set[str]) -> None:
    seed_every_list(conn)
    dropped = suppressions.drop_reasons(conn, A, EVERYONE, group_id=7, bypass=bypass)
    assert {email.split("@")[0] for email in dropped} == still_dropped


def test_an_address_on_several_lists_gets_one_reason(conn: Connection) -> None:
    suppressions.add(conn, A, "spam_report", "bob@example.com", created=T0)
    suppressions.add(conn, A, "bounce", "bob@example.com", created=T0)
    assert suppressions.drop_reasons(conn, A, ["bob@example.com"], group_id=None, bypass=NO_BYPASS) == {
        "bob@example.com": "Bounced Address"
    }
    bypass = Bypass(bounce_management=True)
    assert suppressions.drop_reasons(conn, A, ["bob@example.com"], group_id=None, bypass=bypass) == {
        "bob@example.com": "Spam Reporting Address"
    }


def test_bypass_is_read_from_mail_settings() -> None:
    message = OutboundMessage(
        from_=Address("from@example.com"),
        personalizations=(Personalization(to=(Address("to@example.com"),)),),
        mail_settings={"bypass_spam_management": {"enable": True}, "bypass_bounce_management": {"enable": False}},
    )
    assert suppressions.bypass_for(message) == Bypass(spam_management=True)
    assert suppressions.bypass_from_settings({}) is NO_BYPASS
