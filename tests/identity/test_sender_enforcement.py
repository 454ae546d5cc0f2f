"""Mail send refuses a `from` that is no verified sender and not on a validated authenticated domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from app.accounts import bootstrap
from app.identity.models import VerifiedSender
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.kernel.errors import SENDER_NOT_VERIFIED
from app.mail.models import Message
from tests.conftest import Keys, bearer
from tests.identity.test_verified_senders import create_sender, verification_path
from tests.support.apps import client_with
from tests.support.mail import body

pytestmark = pytest.mark.anyio

REFUSED = {"errors": [{"message": SENDER_NOT_VERIFIED, "field": "from", "help": None}]}


@pytest.fixture
async def strict(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_with(db, settings, require_verified_sender=True) as client:
        yield client


async def _send(client: httpx.AsyncClient, key: str, **changes: Any) -> httpx.Response:
    return await client.post("/v3/mail/send", headers=bearer(key), json=body(**changes))


def _stored(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Message).where(Message.transport == "http")) or 0


async def test_an_unverified_from_gets_the_exact_403(strict: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    response = await _send(strict, keys.default)
    assert response.status_code == 403
    assert response.json() == REFUSED
    assert len(response.content) == 281
    assert _stored(db) == 0


async def test_following_the_verification_link_lets_the_same_send_through(
    strict: httpx.AsyncClient, keys: Keys
) -> None:
    await create_sender(strict, keys.default, from_email="sender@example.com")
    assert (await _send(strict, keys.default)).status_code == 403
    await strict.get(await verification_path(strict, "sender@example.com"))
    assert (await _send(strict, keys.default)).status_code == 202
    upper = await _send(strict, keys.default, **{"from": {"email": "SENDER@Example.com"}})
    assert upper.status_code == 202


async def test_every_personalizations_from_must_be_verified(strict: httpx.AsyncClient, keys: Keys) -> None:
    await create_sender(strict, keys.default, from_email="sender@example.com")
    await strict.get(await verification_path(strict, "sender@example.com"))
    personalizations = [{"to": [{"email": "a@example.com"}], "from": {"email": "other@example.com"}}]
    response = await _send(strict, keys.default, personalizations=personalizations)
    assert (response.status_code, response.json()) == (403, REFUSED)


async def test_a_validated_domain_allows_any_address_on_it(strict: httpx.AsyncClient, keys: Keys) -> None:
    created = await strict.post("/v3/whitelabel/domains", headers=bearer(keys.default), json={"domain": "example.com"})
    domain_id = created.json()["id"]
    assert (await _send(strict, keys.default)).status_code == 403
    await strict.post(f"/v3/whitelabel/domains/{domain_id}/validate", headers=bearer(keys.default))
    assert (await _send(strict, keys.default)).status_code == 202
    assert (await _send(strict, keys.default, **{"from": {"email": "anyone@EXAMPLE.com"}})).status_code == 202
    assert (await _send(strict, keys.default, **{"from": {"email": "a@mail.example.com"}})).status_code == 403
    await strict.delete(f"/v3/whitelabel/domains/{domain_id}", headers=bearer(keys.default))
    assert (await _send(strict, keys.default)).status_code == 403


async def test_deleting_a_sender_refuses_its_address_again(strict: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_sender(strict, keys.default, from_email="sender@example.com")
    await strict.get(await verification_path(strict, "sender@example.com"))
    assert (await _send(strict, keys.default)).status_code == 202
    await strict.delete(f"/v3/verified_senders/{created['id']}", headers=bearer(keys.default))
    assert (await _send(strict, keys.default)).status_code == 403


async def test_a_sender_verified_elsewhere_is_never_refused(
    strict: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    await create_sender(strict, keys.default, from_email="sender@example.com")
    assert (await _send(strict, keys.default)).status_code == 403
    # As another process would: straight to the table, no session event reaches this process's cache.
    with db.engine.begin() as conn:
        conn.execute(update(VerifiedSender).values(verified=True))
    assert (await _send(strict, keys.default)).status_code == 202


async def test_sandbox_mode_is_checked_too(strict: httpx.AsyncClient, keys: Keys) -> None:
    sandbox = {"sandbox_mode": {"enable": True}}
    assert (await _send(strict, keys.default, mail_settings=sandbox)).status_code == 403


async def test_validation_errors_come_before_the_sender_check(strict: httpx.AsyncClient, keys: Keys) -> None:
    response = await _send(strict, keys.default, subject=None)
    assert response.status_code == 400


async def test_a_seed_file_pre_verifies_senders_and_domains(
    strict: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    seed = {
        "accounts": [
            {
                "username": "default",
                "verified_senders": ["shop@seeded.example", {"from_email": "news@other.example", "nickname": "News"}],
                "domains": ["example.com"],
            }
        ]
    }
    with db.session() as session:
        bootstrap.apply_seed(session, seed)
    for address in ("shop@seeded.example", "news@other.example", "sender@example.com"):
        assert (await _send(strict, keys.default, **{"from": {"email": address}})).status_code == 202
    senders = (await strict.get("/v3/verified_senders", headers=bearer(keys.default))).json()["results"]
    assert [(s["from_email"], s["nickname"], s["verified"]) for s in senders] == [
        ("shop@seeded.example", "shop@seeded.example", True), ("news@other.example", "News", True)
    ]  # fmt: skip
    domains = (await strict.get("/v3/whitelabel/domains", headers=bearer(keys.default))).json()
    assert [(d["domain"], d["valid"]) for d in domains] == [("example.com", True)]


async def test_the_setting_turns_the_check_off(client: httpx.AsyncClient, keys: Keys) -> None:
    assert (await _send(client, keys.default)).status_code == 202
