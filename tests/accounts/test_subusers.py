"""/v3/subusers: create (200), list with filters, disable, delete, IPs, keys and the parent's state."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from app.accounts import passwords
from app.accounts.models import Account
from app.api_keys import auth
from app.kernel.db.session import Database
from app.kernel.errors import CapabilityDenied
from app.mail import gate as send_gate
from tests.conftest import Keys, bearer
from tests.support import mail
from tests.support.accounts import (
    SUBUSER_PASSWORD,
    classic_error,
    create_customer,
    create_subuser,
    customer_key,
    on_behalf,
    set_state,
)

pytestmark = pytest.mark.anyio

NOT_AUTHORIZED = "You are not authorized to access SendGrid, please contact Support."


async def _ips(client: httpx.AsyncClient, key: str, count: int) -> list[str]:
    response = await client.post("/v3/ips", headers=bearer(key), json={"count": count})
    return [entry["ip"] for entry in response.json()["ips"]]


async def _subuser_key(client: httpx.AsyncClient, parent_key: str, username: str) -> str:
    headers = {**bearer(parent_key), "On-Behalf-Of": username}
    response = await client.post("/v3/api_keys", headers=headers, json={"name": f"{username} key"})
    assert response.status_code == 201
    key: str = response.json()["api_key"]
    return key


async def test_create_answers_200_with_the_contract_body(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    ips = await _ips(client, keys.default, 1)
    body = {"username": "acme-eu", "email": "eu@acme.example", "password": SUBUSER_PASSWORD, "ips": ips}
    response = await client.post("/v3/subusers", headers=bearer(keys.default), json={**body, "region": "eu"})
    assert response.status_code == 200
    created = response.json()
    assert isinstance(created["user_id"], int)
    assert created == {
        "username": "acme-eu",
        "user_id": created["user_id"],
        "email": "eu@acme.example",
        "credit_allocation": {"type": "unlimited"},
        "signup_session_token": "",
        "authorization_token": "",
    }
    with db.session() as session:
        row = session.scalar(select(Account).where(Account.username == "acme-eu"))
        assert row is not None
        assert (row.kind, row.region) == ("subuser", "eu")
        assert row.password_hash is not None
        assert row.password_hash.startswith("$argon2")
        assert passwords.verify_password(SUBUSER_PASSWORD, row.password_hash)


async def test_include_region_adds_the_region(client: httpx.AsyncClient, keys: Keys) -> None:
    body = {"username": "r", "email": "r@acme.example", "password": SUBUSER_PASSWORD, "ips": [], "include_region": True}
    response = await client.post("/v3/subusers", headers=bearer(keys.default), json=body)
    assert response.json()["region"] == "global"


async def test_every_create_problem_is_reported_together(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.post("/v3/subusers", headers=bearer(keys.default), json={})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": "username", "message": "missing required argument"},
            {"field": "email", "message": "missing required argument"},
            {"field": "password", "message": "missing required argument"},
            {"field": "ips", "message": "missing required argument"},
        ]
    }
    bad = {"username": "no spaces", "email": "nope", "password": "short", "ips": "1.2.3.4", "region": "mars"}
    response = await client.post("/v3/subusers", headers=bearer(keys.default), json=bad)
    assert response.json() == {
        "errors": [
            {"field": "username", "message": "username must be 1 to 64 letters, digits or . _ - + @"},
            {"field": "email", "message": "email must be a valid email address"},
            {"field": "password", "message": "password must be at least 8 characters"},
            {"field": "region", "message": "region must be one of global, eu"},
            {"field": "ips", "message": "ips must be an array of IPv4 addresses"},
        ]
    }


async def test_usernames_are_unique_and_ips_must_be_the_parents(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_subuser(client, keys.default, "taken")
    body = {"username": "taken", "email": "t@acme.example", "password": SUBUSER_PASSWORD, "ips": ["203.0.113.9"]}
    response = await client.post("/v3/subusers", headers=bearer(keys.default), json=body)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": "username", "message": "username exists"},
            {"field": "ips", "message": "unable to validate IPs at this time"},
        ]
    }


async def test_list_is_a_bare_array_with_filters(client: httpx.AsyncClient, keys: Keys) -> None:
    first = await create_subuser(client, keys.default, "one")
    second = await create_subuser(client, keys.default, "two")
    response = await client.get("/v3/subusers", headers=bearer(keys.default))
    assert response.json() == [
        {"id": first["user_id"], "username": "one", "email": "one@engines.example", "disabled": False},
        {"id": second["user_id"], "username": "two", "email": "two@engines.example", "disabled": False},
    ]
    only = await client.get("/v3/subusers", params={"username": "two"}, headers=bearer(keys.default))
    assert [s["username"] for s in only.json()] == ["two"]
    paged = await client.get("/v3/subusers", params={"limit": 1, "offset": 1}, headers=bearer(keys.default))
    assert [s["username"] for s in paged.json()] == ["two"]
    regions = await client.get("/v3/subusers", params={"include_region": "true"}, headers=bearer(keys.default))
    assert [s["region"] for s in regions.json()] == ["global", "global"]
    eu = await client.get("/v3/subusers", params={"region": "eu"}, headers=bearer(keys.default))
    assert eu.json() == []
    bad = await client.get("/v3/subusers", params={"region": "mars"}, headers=bearer(keys.default))
    assert (bad.status_code, bad.json()) == (400, classic_error("region must be one of all, global, eu", "region"))


async def test_a_subusers_keys_and_on_behalf_of_work(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_subuser(client, keys.default, "worker")
    sub_key = await _subuser_key(client, keys.default, "worker")
    listed = await client.get("/v3/api_keys", headers=bearer(sub_key))
    assert [k["name"] for k in listed.json()["result"]] == ["worker key"]
    assert (await client.get("/v3/subusers", headers=bearer(sub_key))).json() == []
    nested = await client.post(
        "/v3/subusers",
        headers=bearer(sub_key),
        json={"username": "x", "email": "x@acme.example", "password": SUBUSER_PASSWORD, "ips": []},
    )
    assert (nested.status_code, nested.json()) == (
        403,
        classic_error("you dont have permission to access this resource"),
    )


async def test_disabling_a_subuser_stops_its_keys(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_subuser(client, keys.default, "pausable")
    sub_key = await _subuser_key(client, keys.default, "pausable")
    off = await client.patch("/v3/subusers/pausable", headers=bearer(keys.default), json={"disabled": True})
    assert (off.status_code, off.content) == (204, b"")
    assert (await client.get("/v3/scopes", headers=bearer(sub_key))).status_code == 401
    listed = await client.get("/v3/subusers", headers=bearer(keys.default))
    assert listed.json()[0]["disabled"] is True
    await client.patch("/v3/subusers/pausable", headers=bearer(keys.default), json={"disabled": False})
    assert (await client.get("/v3/scopes", headers=bearer(sub_key))).status_code == 200


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("ghost", {"disabled": True}, classic_error("invalid username")),
        ("real", {}, classic_error("no fields provided")),
        ("real", {"disabled": "yes"}, classic_error("disabled must be a boolean", "disabled")),
    ],
)
async def test_patch_errors(client: httpx.AsyncClient, keys: Keys, name: str, body: object, expected: object) -> None:
    await create_subuser(client, keys.default, "real")
    response = await client.patch(f"/v3/subusers/{name}", headers=bearer(keys.default), json=body)
    assert (response.status_code, response.json()) == (400, expected)


async def test_delete_removes_the_subuser_and_its_keys(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_subuser(client, keys.default, "doomed")
    sub_key = await _subuser_key(client, keys.default, "doomed")
    response = await client.delete("/v3/subusers/doomed", headers=bearer(keys.default))
    assert (response.status_code, response.content) == (204, b"")
    assert (await client.get("/v3/scopes", headers=bearer(sub_key))).status_code == 401
    again = await client.delete("/v3/subusers/doomed", headers=bearer(keys.default))
    assert (again.status_code, again.json()) == (404, classic_error("not found"))


async def test_put_ips_replaces_the_subusers_ips(client: httpx.AsyncClient, keys: Keys) -> None:
    first, second = await _ips(client, keys.default, 2)
    await create_subuser(client, keys.default, "sender", [first])
    url = "/v3/subusers/sender/ips"
    response = await client.put(url, headers=bearer(keys.default), json=[second, second])
    assert (response.status_code, response.json()) == (200, {"ips": [second]})
    listed = (await client.get("/v3/ips", headers=bearer(keys.default))).json()
    assert {ip["ip"]: ip["subusers"] for ip in listed} == {first: [], second: ["sender"]}
    foreign = await client.put(url, headers=bearer(keys.default), json=["192.0.2.1"])
    assert (foreign.status_code, foreign.json()) == (400, classic_error("unable to validate IPs at this time", "ips"))
    missing = await client.put("/v3/subusers/ghost/ips", headers=bearer(keys.default), json=[])
    assert missing.status_code == 404


async def test_subuser_endpoints_need_their_scopes(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "n", "scopes": ["mail.send"]}
    )
    key = created.json()["api_key"]
    for method, url in [
        ("GET", "/v3/subusers"),
        ("POST", "/v3/subusers"),
        ("PATCH", "/v3/subusers/a"),
        ("DELETE", "/v3/subusers/a"),
    ]:
        response = await client.request(method, url, headers=bearer(key), json={})
        assert (response.status_code, response.json()) == (403, classic_error("access forbidden"))


async def test_a_subuser_follows_its_parents_state(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    account_id = await create_customer(client, keys.partner)
    parent_key = await customer_key(client, keys.partner, account_id)
    await create_subuser(client, parent_key, "child")
    child_key = await _subuser_key(client, parent_key, "child")

    await set_state(client, account_id, "suspended")
    assert (await client.get("/v3/scopes", headers=bearer(child_key))).status_code == 200
    for headers in (bearer(child_key), {**bearer(parent_key), "On-Behalf-Of": "child"}):
        principal = auth.authenticate(db, headers["Authorization"], headers.get("On-Behalf-Of"))
        assert principal.account_kind == "subuser"
        with pytest.raises(CapabilityDenied, match="account suspended"):
            send_gate.require_can_send(principal)

    await set_state(client, account_id, "deactivated")
    assert (await client.get("/v3/scopes", headers=bearer(child_key))).status_code == 401
    await set_state(client, account_id, "activated")
    assert (await client.get("/v3/scopes", headers=bearer(child_key))).status_code == 200


@pytest.mark.parametrize("state", ["deactivated", "indeterminate"])
async def test_managing_subusers_asks_the_matrix(client: httpx.AsyncClient, keys: Keys, state: str) -> None:
    account_id = await create_customer(client, keys.partner)
    parent_key = await customer_key(client, keys.partner, account_id)
    await create_subuser(client, parent_key, "kept")
    await set_state(client, account_id, state)
    acting = on_behalf(keys.partner, account_id)
    body = {"username": "new", "email": "n@acme.example", "password": SUBUSER_PASSWORD, "ips": []}
    for method, url, payload in [
        ("POST", "/v3/subusers", body),
        ("PATCH", "/v3/subusers/kept", {"disabled": True}),
        ("DELETE", "/v3/subusers/kept", None),
    ]:
        response = await client.request(method, url, headers=acting, json=payload)
        assert (response.status_code, response.json()) == (403, classic_error(NOT_AUTHORIZED))
    listed = await client.get("/v3/subusers", headers=acting)
    assert [s["username"] for s in listed.json()] == ["kept"]


async def test_mail_send_ignores_on_behalf_of_and_sends_as_the_keys_account(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    # SendGrid's mail send does not impersonate: the message is the key's own account's (README, SDK how-to).
    await create_subuser(client, keys.default, "sender")
    headers = {**bearer(keys.default), "On-Behalf-Of": "sender"}
    sent = await client.post("/v3/mail/send", headers=headers, json=mail.body())
    assert sent.status_code == 202
    stored = (await client.get(f"/_mirror/messages/{sent.headers['X-Message-Id']}")).json()
    with db.session() as session:
        parent = session.scalar(select(Account).where(Account.username == "default"))
        assert parent is not None
        assert stored["account_id"] == parent.id
