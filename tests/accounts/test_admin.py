"""/_mirror/accounts: the admin API sets any state (as compliance would); seed files declare IPs and subusers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.accounts import bootstrap, passwords
from app.accounts.models import Account
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest
from tests.conftest import Keys, bearer
from tests.support.accounts import classic_error, create_customer, create_subuser, customer_key, on_behalf, set_state

pytestmark = pytest.mark.anyio


async def test_list_shows_every_account_with_state_and_ips(client: httpx.AsyncClient, keys: Keys) -> None:
    await client.post("/v3/ips", headers=bearer(keys.default), json={"count": 1})
    await create_subuser(client, keys.default, "child", ["198.51.100.1"])
    response = await client.get("/_mirror/accounts")
    assert response.status_code == 200
    listed = {a["username"]: a for a in response.json()["accounts"]}
    assert set(listed) == {"partner", "default", "child"}
    default = listed["default"]
    assert default == {
        "id": default["id"],
        "kind": "customer",
        "parent_id": listed["partner"]["id"],
        "username": "default",
        "email": None,
        "state": "activated",
        "disabled": False,
        "is_test": False,
        "created_at": default["created_at"],
        "offerings": [],
        "ips": ["198.51.100.1"],
    }
    assert (listed["child"]["kind"], listed["child"]["parent_id"], listed["child"]["ips"]) == (
        "subuser",
        default["id"],
        ["198.51.100.1"],
    )


async def test_any_state_can_be_set_and_returns_the_account(client: httpx.AsyncClient, keys: Keys) -> None:
    for state in ("suspended", "indeterminate", "deactivated", "activated"):
        response = await set_state(client, "default", state)
        assert (response.status_code, response.json()["state"]) == (200, state)
    unknown = await set_state(client, "default", "frozen")
    expected = classic_error("state must be one of activated, suspended, deactivated, banned, indeterminate", "state")
    assert (unknown.status_code, unknown.json()) == (400, expected)
    missing = await set_state(client, "nobody", "activated")
    assert (missing.status_code, missing.json()) == (404, classic_error("not found"))


async def test_a_ban_removes_subusers_unassigns_ips_and_is_final(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    key = await customer_key(client, keys.partner, account_id)
    await client.post("/v3/ips", headers=bearer(key), json={"count": 2})
    await create_subuser(client, key, "banned-child", ["198.51.100.1"])
    sub_key = (
        await client.post("/v3/api_keys", headers={**bearer(key), "On-Behalf-Of": "banned-child"}, json={"name": "s"})
    ).json()["api_key"]

    banned = await set_state(client, account_id, "banned")
    assert (banned.json()["state"], banned.json()["ips"]) == ("banned", [])
    for revoked in (key, sub_key):
        assert (await client.get("/v3/scopes", headers=bearer(revoked))).status_code == 401
    acting = on_behalf(keys.partner, account_id)
    assert (await client.get("/v3/subusers", headers=acting)).json() == []
    assert (await client.get("/v3/ips", headers=acting)).json() == []
    partner_ips = await client.get(f"/v3/partners/accounts/{account_id}/ips", headers=bearer(keys.partner))
    assert partner_ips.json() == {"result": [], "pages": {}}
    assert "banned-child" not in [a["username"] for a in (await client.get("/_mirror/accounts")).json()["accounts"]]

    again = await set_state(client, account_id, "activated")
    expected = classic_error("The account is banned, a final state: its state cannot be changed to activated", "state")
    assert (again.status_code, again.json()) == (400, expected)


async def test_the_admin_token_guards_the_api_when_set(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"admin_token": "s3cret-admin"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, bearer(keys.default)):
        response = await client.get("/_mirror/accounts", headers=headers)
        assert (response.status_code, response.json()) == (401, classic_error("authorization required"))
    allowed = await client.get("/_mirror/accounts", headers={"Authorization": "Bearer s3cret-admin"})
    assert allowed.status_code == 200


async def test_without_a_token_only_loopback_callers_get_in(app: FastAPI, keys: Keys) -> None:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as remote:
        response = await remote.put("/_mirror/accounts/default/state", json={"state": "banned"})
    assert response.status_code == 403
    assert response.json() == classic_error(
        "the mirror admin API is open to loopback callers only; set SGMIRROR_ADMIN_TOKEN"
    )


def test_a_seed_file_declares_offerings_ips_and_subusers(keys: Keys, db: Database) -> None:
    document = {
        "accounts": [
            {
                "username": "acme",
                "state": "suspended",
                "offerings": [{"name": "org.ei.pro100k.v1", "type": "package"}],
                "ips": ["198.51.100.40", {"ip": "198.51.100.41", "warmup": True}],
                "subusers": [
                    {
                        "username": "acme-eu",
                        "email": "eu@acme.example",
                        "password": "seeded password",
                        "region": "eu",
                        "disabled": True,
                        "ips": ["198.51.100.41"],
                    }
                ],
            }
        ]
    }
    with db.session() as session:
        bootstrap.apply_seed(session, document)
        bootstrap.apply_seed(session, document)
    with db.session() as session:
        acme = session.scalar(select(Account).where(Account.username == "acme"))
        child = session.scalar(select(Account).where(Account.username == "acme-eu"))
        assert acme is not None
        assert child is not None
        assert (acme.state, acme.offerings) == (
            "suspended",
            [{"name": "org.ei.pro100k.v1", "type": "package", "quantity": 1}],
        )
        assert (child.parent_id, child.region, child.disabled, child.email) == (acme.id, "eu", True, "eu@acme.example")
        assert child.password_hash is not None
        assert passwords.verify_password("seeded password", child.password_hash)


async def test_seeded_ips_show_through_the_api(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    document = {
        "accounts": [
            {
                "username": "default",
                "ips": ["198.51.100.40"],
                "subusers": [{"username": "seeded-child", "ips": ["198.51.100.40"]}],
            }
        ]
    }
    with db.session() as session:
        bootstrap.apply_seed(session, document)
    listed = await client.get("/v3/ips", headers=bearer(keys.default))
    assert [(ip["ip"], ip["subusers"]) for ip in listed.json()] == [("198.51.100.40", ["seeded-child"])]


def test_a_seed_cannot_take_another_accounts_ip(keys: Keys, db: Database) -> None:
    with db.session() as session:
        bootstrap.apply_seed(session, {"accounts": [{"username": "one", "ips": ["198.51.100.9"]}]})
    with pytest.raises(BadRequest, match=r"IP 198\.51\.100\.9 belongs to another account"), db.session() as session:
        bootstrap.apply_seed(session, {"accounts": [{"username": "two", "ips": ["198.51.100.9"]}]})
