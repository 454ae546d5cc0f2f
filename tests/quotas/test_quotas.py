"""Plan quotas: the free plan's 100 recipients a day, exact under concurrency, reset by the UTC day."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.accounts import bootstrap
from app.kernel.db.session import Database
from tests.conftest import DEFAULT_KEY, PARTNER_KEY, Keys, bearer
from tests.support.accounts import create_customer, create_subuser, customer_key
from tests.support.mail import body

pytestmark = pytest.mark.anyio

REFUSED = {"errors": [{"message": "Maximum credits exceeded", "field": None, "help": None}]}


def _to(count: int, prefix: str = "r") -> list[dict[str, str]]:
    return [{"email": f"{prefix}{i}@example.com"} for i in range(count)]


async def _send(client: httpx.AsyncClient, key: str, recipients: int, **changes: Any) -> httpx.Response:
    payload = body(personalizations=[{"to": _to(recipients)}], **changes)
    return await client.post("/v3/mail/send", headers=bearer(key), json=payload)


async def _free_key(client: httpx.AsyncClient, keys: Keys) -> str:
    return await customer_key(client, keys.partner, await create_customer(client, keys.partner))


async def test_the_101st_recipient_of_the_day_is_refused(client: httpx.AsyncClient, keys: Keys) -> None:
    key = await _free_key(client, keys)
    assert (await _send(client, key, 99)).status_code == 202
    assert (await _send(client, key, 1)).status_code == 202
    refused = await _send(client, key, 1)
    assert refused.status_code == 401
    assert refused.json() == REFUSED


async def test_a_send_that_does_not_fit_is_refused_whole(client: httpx.AsyncClient, keys: Keys) -> None:
    key = await _free_key(client, keys)
    assert (await _send(client, key, 90)).status_code == 202
    assert (await _send(client, key, 11)).status_code == 401
    assert (await _send(client, key, 10)).status_code == 202
    assert (await _send(client, key, 101)).status_code == 401
    messages = (await client.get("/_mirror/messages")).json()["total"]
    assert messages == 2


async def test_the_quota_renews_with_the_next_utc_day(client: httpx.AsyncClient, keys: Keys) -> None:
    key = await _free_key(client, keys)
    assert (await _send(client, key, 100)).status_code == 202
    assert (await _send(client, key, 1)).status_code == 401
    await client.post("/_mirror/clock/advance", json={"seconds": 86_400})
    assert (await _send(client, key, 100)).status_code == 202


async def test_sandbox_sends_do_not_count(client: httpx.AsyncClient, keys: Keys) -> None:
    key = await _free_key(client, keys)
    sandbox = {"sandbox_mode": {"enable": True}}
    assert (await _send(client, key, 100, mail_settings=sandbox)).status_code == 200
    assert (await _send(client, key, 100)).status_code == 202


async def test_default_has_no_cap_and_paid_plans_allow_more(client: httpx.AsyncClient, keys: Keys) -> None:
    for _ in range(2):
        assert (await _send(client, keys.default, 150)).status_code == 202
    account = await create_customer(client, keys.partner)
    pro = [{"name": "org.ei.pro100k.v1", "type": "package"}]
    await client.put(
        f"/v3/partners/accounts/{account}/offerings", headers=bearer(keys.partner), json={"offerings": pro}
    )
    key = await customer_key(client, keys.partner, account)
    assert (await _send(client, key, 150)).status_code == 202


async def test_a_subuser_spends_its_parents_plan(client: httpx.AsyncClient, keys: Keys) -> None:
    account = await create_customer(client, keys.partner)
    parent = await customer_key(client, keys.partner, account)
    await create_subuser(client, parent, "free-sub")
    created = await client.post(
        "/v3/api_keys", headers={**bearer(parent), "On-Behalf-Of": "free-sub"}, json={"name": "sub"}
    )
    subuser = created.json()["api_key"]
    assert (await _send(client, subuser, 60)).status_code == 202
    assert (await _send(client, parent, 41)).status_code == 401
    assert (await _send(client, parent, 40)).status_code == 202
    assert (await _send(client, subuser, 1)).status_code == 401


async def test_the_default_plan_setting_caps_the_default_account(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    with db.session() as session:
        bootstrap.bootstrap(session, api_key=DEFAULT_KEY, partner_api_key=PARTNER_KEY, default_plan="org.ei.free.v1")
    assert (await _send(client, keys.default, 100)).status_code == 202
    assert (await _send(client, keys.default, 1)).status_code == 401
    accounts = (await client.get("/_mirror/accounts/default")).json()
    assert accounts["offerings"] == [{"name": "org.ei.free.v1", "type": "package", "quantity": 1}]


async def test_twenty_racing_requests_get_exactly_the_last_five_slots(client: httpx.AsyncClient, keys: Keys) -> None:
    key = await _free_key(client, keys)
    assert (await _send(client, key, 95)).status_code == 202
    answers = await asyncio.gather(*(_send(client, key, 1) for _ in range(20)))
    assert sorted(a.status_code for a in answers) == [202] * 5 + [401] * 15
    assert (await client.get("/_mirror/messages")).json()["total"] == 6
