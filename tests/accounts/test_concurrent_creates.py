"""Two creates of one account at once: the one checked second sees the first (a limit, a unique field), as
if they had come one after the other, and gets SendGrid's error rather than a 500 or one row too many."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api_keys import auth
from app.api_keys import service as api_keys
from app.api_keys.models import ApiKey
from app.identity.domains import service as domains
from app.identity.models import AuthenticatedDomain, VerifiedSender
from app.identity.senders import service as verified_senders
from app.kernel.db.session import Database
from app.kernel.errors import SendGridError
from app.kernel.principal import Principal
from app.mail import batches
from app.scheduling import service as scheduled_sends
from app.scheduling.models import ScheduledSend
from app.suppressions import groups as suppression_groups
from app.suppressions.models import AsmGroup
from app.suppressions.request_rules import NewGroup
from app.webhooks import service as webhooks
from app.webhooks.models import EventWebhook
from tests.conftest import Keys
from tests.identity.test_verified_senders import SENDER
from tests.support.races import second_while_first_open

Create = Callable[[Session, Principal, int], Any]


def _api_key(session: Session, principal: Principal, n: int) -> Any:
    return api_keys.create(session, principal, name=f"Key {n}", requested_scopes=["mail.send"])


def _fill_api_keys(session: Session, principal: Principal) -> None:
    have = session.scalar(select(func.count()).where(ApiKey.account_id == principal.account_id)) or 0
    for n in range(api_keys.MAX_KEYS_PER_ACCOUNT - 1 - have):
        _api_key(session, principal, n)


def _scheduled_send(session: Session, principal: Principal, _n: int) -> Any:
    batch_id = batches.create(session, principal)
    return scheduled_sends.create(session, principal, {"batch_id": batch_id, "status": "pause"})


def _fill_scheduled_sends(session: Session, principal: Principal) -> None:
    for n in range(scheduled_sends.MAX_BATCHES - 1):
        _scheduled_send(session, principal, n)


def _sender(session: Session, principal: Principal, _n: int) -> Any:
    return verified_senders.create(session, principal, dict(SENDER), now=datetime.now(UTC))


def _domain(session: Session, principal: Principal, _n: int) -> Any:
    return domains.create(session, principal, {"domain": "raced.example", "subdomain": "em"})


def _webhook(session: Session, principal: Principal, n: int) -> Any:
    return webhooks.create(session, principal, {"url": f"https://{n}.example/"})


def _fill_webhooks(session: Session, principal: Principal) -> None:
    for n in range(webhooks.MAX_WEBHOOKS - 1):
        _webhook(session, principal, 100 + n)


def _group(session: Session, principal: Principal, _n: int) -> Any:
    return suppression_groups.create(session, principal, NewGroup("At once", "Raced"), now=datetime.now(UTC))


def _nothing(_session: Session, _principal: Principal) -> None:
    return None


CASES = {
    "api key past the limit": (_fill_api_keys, _api_key, ApiKey, ("Cannot create more than 100 API keys", None)),
    "scheduled send past the limit": (
        _fill_scheduled_sends, _scheduled_send, ScheduledSend,
        ("no more than 10 batches can be paused or cancelled at one time", "batch_id"),
    ),
    "webhook past the limit": (
        _fill_webhooks, _webhook, EventWebhook,
        ("You have reached the maximum number of webhooks per your current billing plan.", None),
    ),
    "group with a taken name": (
        _nothing, _group, AsmGroup, ("Another suppression group with this name already exists", "name"),
    ),
    "sender with a taken address": (
        _nothing, _sender, VerifiedSender, ("a sender with this from_email already exists", "from_email"),
    ),
    "domain already authenticated": (
        _nothing, _domain, AuthenticatedDomain,
        ("a domain authentication for this domain and subdomain already exists", "domain"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_the_second_of_two_creates_at_once_is_refused_as_if_it_came_after(db: Database, keys: Keys, case: str) -> None:
    fill, create, table, expected = CASES[case]
    principal = auth.authenticate(db, f"Bearer {keys.default}")
    with db.session() as session:
        fill(session, principal)
        before = session.scalar(select(func.count()).where(table.account_id == principal.account_id)) or 0

    raised = second_while_first_open(
        db, lambda session: create(session, principal, 1), lambda session: create(session, principal, 2)
    )

    assert isinstance(raised, SendGridError), raised
    assert (raised.details[0].message, raised.details[0].field) == expected
    with db.read_session() as session:
        assert session.scalar(select(func.count()).where(table.account_id == principal.account_id)) == before + 1
