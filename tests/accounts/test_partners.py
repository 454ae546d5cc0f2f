"""/v3/partners: accounts, state, offerings and SSO, partner keys only, with family-B errors."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from app.accounts.models import Account
from app.accounts.partners import rules as provisioning
from app.console.models import SsoCode
from app.kernel.db.base import utcnow
from app.kernel.db.session import Database
from tests.conftest import Keys, bearer
from tests.support.accounts import (
    FREE,
    PROFILE,
    create_customer,
    customer_key,
    on_behalf,
    partner_error,
    set_state,
)

pytestmark = pytest.mark.anyio

NOT_PARTNER = partner_error("The authenticated user is not authorized to perfrom this request", "", "10-40300")
NOT_AUTHENTICATED = partner_error("Failed to authenticate user", "", "10-40100")
NOT_FOUND = partner_error("Account not found", "", "10-40400")
ACCOUNT = "/v3/partners/accounts/{id}"
PARTNER_ENDPOINTS = [
    ("GET", "/v3/partners/accounts"),
    ("POST", "/v3/partners/accounts"),
    ("DELETE", ACCOUNT),
    ("GET", ACCOUNT + "/state"),
    ("PUT", ACCOUNT + "/state"),
    ("GET", "/v3/partners/offerings"),
    ("GET", ACCOUNT + "/offerings"),
    ("PUT", ACCOUNT + "/offerings"),
    ("POST", ACCOUNT + "/sso"),
    ("GET", ACCOUNT + "/ips"),
    ("POST", ACCOUNT + "/ips"),
    ("DELETE", ACCOUNT + "/ips"),
]


@pytest.mark.parametrize(("method", "path"), PARTNER_ENDPOINTS)
async def test_customer_keys_get_403_on_every_partner_endpoint(
    client: httpx.AsyncClient, keys: Keys, method: str, path: str
) -> None:
    account_id = await create_customer(client, keys.partner)
    url = path.format(id=account_id)
    response = await client.request(method, url, headers=bearer(keys.default), json={"state": "activated"})
    assert (response.status_code, response.json()) == (403, NOT_PARTNER)
    acting = await client.request(method, url, headers=on_behalf(keys.partner, account_id), json={})
    assert (acting.status_code, acting.json()) == (403, NOT_PARTNER)
    anonymous = await client.request(method, url)
    assert (anonymous.status_code, anonymous.json()) == (401, NOT_AUTHENTICATED)


async def test_create_returns_the_account_id_and_stores_profile_and_offerings(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    body = {"profile": PROFILE, "offerings": [{"name": "org.ei.free.v1", "type": "package"}]}
    response = await client.post("/v3/partners/accounts", headers=bearer(keys.partner), json=body)
    assert response.status_code == 201
    assert set(response.json()) == {"account_id"}
    account_id = response.json()["account_id"]
    assert re.fullmatch(r"sg[0-9a-f]{32}", account_id)
    state = await client.get(f"/v3/partners/accounts/{account_id}/state", headers=bearer(keys.partner))
    assert state.json() == {"state": "activated"}
    offerings = await client.get(f"/v3/partners/accounts/{account_id}/offerings", headers=bearer(keys.partner))
    assert offerings.json() == {"offerings": [FREE]}
    admin = (await client.get(f"/_mirror/accounts/{account_id}")).json()
    assert (admin["email"], admin["is_test"], admin["kind"]) == (PROFILE["email"], False, "customer")


@pytest.mark.parametrize(("header", "is_test"), [("true", True), ("1", True), ("false", False)])
async def test_the_test_account_header_marks_test_accounts(
    client: httpx.AsyncClient, keys: Keys, header: str, is_test: bool
) -> None:
    response = await client.post(
        "/v3/partners/accounts",
        headers={**bearer(keys.partner), "T-Test-Account": header},
        json={"offerings": [FREE]},
    )
    assert response.status_code == 201
    admin = (await client.get(f"/_mirror/accounts/{response.json()['account_id']}")).json()
    assert admin["is_test"] is is_test


async def test_every_profile_problem_is_reported_together(client: httpx.AsyncClient, keys: Keys) -> None:
    profile = {"email": "not-an-email", "phone": "555-1234", "company_website": "ftp://x", "timezone": "Mars/Base"}
    response = await client.post(
        "/v3/partners/accounts", headers=bearer(keys.partner), json={"profile": profile, "offerings": [FREE]}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": "Field must be a valid email", "field": "email", "error_id": "10-40002"},
            {"message": provisioning.PHONE_MESSAGE, "field": "phone", "error_id": "10-40010"},
            {"message": "Field must be a valid URL", "field": "company_website", "error_id": "10-40008"},
            {
                "message": "Field must be a valid IANA time zone, such as America/New_York",
                "field": "timezone",
                "error_id": "10-40011",
            },
        ]
    }


@pytest.mark.parametrize("phone", ["+4412345678901234", "+0123456", "441234567890", "+44 1234"])
async def test_phones_must_be_e164(client: httpx.AsyncClient, keys: Keys, phone: str) -> None:
    body = {"profile": {"phone": phone}, "offerings": [FREE]}
    response = await client.post("/v3/partners/accounts", headers=bearer(keys.partner), json=body)
    assert response.json() == partner_error(provisioning.PHONE_MESSAGE, "phone", "10-40010")


@pytest.mark.parametrize(
    ("offerings", "message", "field", "error_id"),
    [
        (None, "Field is required", "offerings", "10-40001"),
        ("org.ei.free.v1", "Field must be an array", "offerings", "10-40003"),
        ([{"type": "package"}], "Field is required", "offerings.0.name", "10-40001"),
        (
            [{"name": "org.ei.gold.v9", "type": "package"}],
            "Unknown offering: org.ei.gold.v9",
            "offerings.0.name",
            "10-40012",
        ),
        (
            [{"name": "org.ei.free.v1", "type": "addon"}],
            "Offering org.ei.free.v1 is of type package",
            "offerings.0.type",
            "10-40004",
        ),
        ([{**FREE, "quantity": 2}], "Quantity must be 1 for a package", "offerings.0.quantity", "10-40005"),
        (
            [{"name": "org.ei.addon.ip.v1", "type": "addon", "quantity": 0}],
            "Field must be an integer of at least 1",
            "offerings.0.quantity",
            "10-40005",
        ),
        (
            [FREE, {"name": "org.ei.pro100k.v1", "type": "package"}],
            "An account can have only one package offering",
            "offerings",
            "10-40012",
        ),
    ],
)
async def test_offering_rules(
    client: httpx.AsyncClient, keys: Keys, offerings: object, message: str, field: str, error_id: str
) -> None:
    response = await client.post("/v3/partners/accounts", headers=bearer(keys.partner), json={"offerings": offerings})
    assert (response.status_code, response.json()) == (400, partner_error(message, field, error_id))


async def test_list_pages_by_account_id(client: httpx.AsyncClient, keys: Keys) -> None:
    created = [await create_customer(client, keys.partner, email=f"c{n}@engines.example") for n in range(3)]
    default = (await client.get("/_mirror/accounts/default")).json()
    every = sorted([*created, default["id"]])
    first = await client.get("/v3/partners/accounts", params={"limit": 2}, headers=bearer(keys.partner))
    assert first.status_code == 200
    assert [a["id"] for a in first.json()["accounts"]] == every[:2]
    assert first.json()["pages"] == {"last": every[1]}
    rest = await client.get(
        "/v3/partners/accounts", params={"limit": 2, "offset": every[1]}, headers=bearer(keys.partner)
    )
    assert [a["id"] for a in rest.json()["accounts"]] == every[2:]
    assert rest.json()["pages"] == {}


async def test_list_items_have_the_spec_shape(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    listed = (await client.get("/v3/partners/accounts", headers=bearer(keys.partner))).json()["accounts"]
    mine = next(a for a in listed if a["id"] == account_id)
    assert set(mine) == {"id", "email", "created_at", "updated_at"}
    assert mine["email"] == PROFILE["email"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", mine["created_at"])
    default = next(a for a in listed if a["id"] != account_id)
    assert set(default) == {"id", "created_at", "updated_at"}


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
async def test_list_limit_is_1_to_100(client: httpx.AsyncClient, keys: Keys, limit: str) -> None:
    response = await client.get("/v3/partners/accounts", params={"limit": limit}, headers=bearer(keys.partner))
    assert response.status_code == 400
    assert response.json() == partner_error("Field must be an integer between 1 and 100", "limit", "10-40005")


async def test_delete_is_irreversible_and_revokes_keys(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    key = await customer_key(client, keys.partner, account_id)
    assert (await client.get("/v3/scopes", headers=bearer(key))).status_code == 200
    deleted = await client.delete(f"/v3/partners/accounts/{account_id}", headers=bearer(keys.partner))
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await client.get("/v3/scopes", headers=bearer(key))).status_code == 401
    gone = await client.get(f"/v3/partners/accounts/{account_id}/state", headers=bearer(keys.partner))
    assert (gone.status_code, gone.json()) == (404, NOT_FOUND)
    again = await client.delete(f"/v3/partners/accounts/{account_id}", headers=bearer(keys.partner))
    assert (again.status_code, again.json()) == (404, NOT_FOUND)


async def test_the_partner_reaches_only_its_own_customers(client: httpx.AsyncClient, keys: Keys) -> None:
    partner_id = (await client.get("/_mirror/accounts/partner")).json()["id"]
    for account_id in ("sg00000000000000000000000000000000", partner_id):
        response = await client.get(f"/v3/partners/accounts/{account_id}/state", headers=bearer(keys.partner))
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


async def test_put_state_deactivates_and_reactivates_keys(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    key = await customer_key(client, keys.partner, account_id)
    url = f"/v3/partners/accounts/{account_id}/state"
    put = await client.put(url, headers=bearer(keys.partner), json={"state": "deactivated"})
    assert (put.status_code, put.content) == (204, b"")
    assert (await client.get(url, headers=bearer(keys.partner))).json() == {"state": "deactivated"}
    assert (await client.get("/v3/scopes", headers=bearer(key))).status_code == 401
    await client.put(url, headers=bearer(keys.partner), json={"state": "activated"})
    assert (await client.get("/v3/scopes", headers=bearer(key))).status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, partner_error("Field is required", "state", "10-40001")),
        (None, partner_error("Field is required", "state", "10-40001")),
        ({"state": "suspended"}, partner_error("Field must be one of: activated, deactivated", "state", "10-40004")),
        ({"state": "banned"}, partner_error("Field must be one of: activated, deactivated", "state", "10-40004")),
        ({"state": ["activated"]}, partner_error("Field must be one of: activated, deactivated", "state", "10-40004")),
    ],
)
async def test_partners_set_only_activated_or_deactivated(
    client: httpx.AsyncClient, keys: Keys, body: object, expected: object
) -> None:
    account_id = await create_customer(client, keys.partner)
    response = await client.put(f"/v3/partners/accounts/{account_id}/state", headers=bearer(keys.partner), json=body)
    assert (response.status_code, response.json()) == (400, expected)


async def test_banned_is_final(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    assert (await set_state(client, account_id, "banned")).status_code == 200
    for state in ("activated", "deactivated"):
        response = await client.put(
            f"/v3/partners/accounts/{account_id}/state", headers=bearer(keys.partner), json={"state": state}
        )
        assert response.status_code == 400
        assert response.json() == partner_error(
            f"The account is banned, a final state: its state cannot be changed to {state}", "state", "10-40020"
        )


async def test_the_catalog_lists_offerings_with_entitlements(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/v3/partners/offerings", headers=bearer(keys.partner))
    assert response.status_code == 200
    catalog = response.json()["catalog"]
    assert catalog[0] == {
        "offering": FREE,
        "entitlements": {
            "email_sends_max_monthly": 10000,
            "ip_count": 0,
            "teammates_max_total": 0,
            "users_max_total": 0,
        },
    }
    assert [entry["offering"]["name"] for entry in catalog] == [o.name for o in provisioning.CATALOG]


async def test_put_offerings_replaces_the_set(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    url = f"/v3/partners/accounts/{account_id}/offerings"
    wanted = [
        {"name": "org.ei.pro100k.v1", "type": "package"},
        {"name": "org.ei.addon.ip.v1", "type": "addon", "quantity": 3},
    ]
    response = await client.put(url, headers=bearer(keys.partner), json={"offerings": wanted})
    expected = {
        "offerings": [
            {"name": "org.ei.pro100k.v1", "type": "package", "quantity": 1},
            {"name": "org.ei.addon.ip.v1", "type": "addon", "quantity": 3},
        ]
    }
    assert (response.status_code, response.json()) == (200, expected)
    assert (await client.get(url, headers=bearer(keys.partner))).json() == expected
    bad = await client.put(url, headers=bearer(keys.partner), json={})
    assert (bad.status_code, bad.json()) == (400, partner_error("Field is required", "offerings", "10-40001"))


async def test_a_partner_gives_its_customer_a_key_on_its_behalf(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    key = await customer_key(client, keys.partner, account_id, scopes=["mail.send", "ips.read"])
    assert (await client.get("/v3/scopes", headers=bearer(key))).json() == {"scopes": ["ips.read", "mail.send"]}
    listed = await client.get("/v3/api_keys", headers=on_behalf(keys.partner, account_id))
    assert [k["name"] for k in listed.json()["result"]] == ["k"]


async def _sso(client: httpx.AsyncClient, keys: Keys, account_id: str) -> str:
    response = await client.post(f"/v3/partners/accounts/{account_id}/sso", headers=bearer(keys.partner))
    assert (response.status_code, response.content) == (303, b"")
    location = response.headers["location"]
    assert location.startswith("http://mirror.test/console/sso?code=")
    return location


async def test_sso_redirects_to_a_console_link_that_signs_the_account_in(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    link = await _sso(client, keys, account_id)
    signed = await client.get(link)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/console/"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("sgmirror_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/console" in cookie
    page = await client.get("/console/", follow_redirects=True)
    assert page.status_code == 200
    assert f"Signed in as {PROFILE['email']} (account {account_id}, state activated)." in page.text


async def test_an_sso_code_works_once(client: httpx.AsyncClient, keys: Keys) -> None:
    link = await _sso(client, keys, await create_customer(client, keys.partner))
    assert (await client.get(link)).status_code == 303
    again = await client.get(link)
    assert again.status_code == 400
    assert "This sign-in link is invalid, has expired or was already used." in again.text


async def test_an_sso_code_expires_after_60_seconds(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    link = await _sso(client, keys, await create_customer(client, keys.partner))
    with db.session() as session:
        session.execute(update(SsoCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.get(link)).status_code == 400


@pytest.mark.parametrize("state", ["deactivated", "banned", "indeterminate"])
async def test_sso_login_is_refused_when_the_state_forbids_login(
    client: httpx.AsyncClient, keys: Keys, state: str
) -> None:
    account_id = await create_customer(client, keys.partner)
    await set_state(client, account_id, state)
    refused = await client.get(await _sso(client, keys, account_id))
    assert refused.status_code == 403
    assert "You are not authorized to access SendGrid, please contact Support." in refused.text
    assert "set-cookie" not in refused.headers


async def test_a_console_session_ends_when_the_account_is_deactivated(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    account_id = await create_customer(client, keys.partner)
    await client.get(await _sso(client, keys, account_id))
    assert (await client.get("/console/", follow_redirects=True)).status_code == 200
    await client.put(
        f"/v3/partners/accounts/{account_id}/state", headers=bearer(keys.partner), json={"state": "deactivated"}
    )
    page = await client.get("/console/")
    assert page.status_code == 403
    assert "You are not authorized to access SendGrid, please contact Support." in page.text
    with db.session() as session:
        assert session.get(Account, account_id) is not None


async def test_the_console_without_a_session_says_so(client: httpx.AsyncClient, keys: Keys) -> None:
    page = await client.get("/console/", follow_redirects=True)
    assert (page.status_code, page.url.path) == (200, "/console/login")
    assert "Sign in to SendGrid" in page.text
