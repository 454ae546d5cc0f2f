"""/v3/ips and the partner IP provisioning endpoints: allocation from the pool, assignment, listing."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.kernel.config import Settings
from tests.conftest import Keys, bearer
from tests.support.accounts import classic_error, create_customer, create_subuser, partner_error

pytestmark = pytest.mark.anyio

POOL = "198.51.100"


def _ip(ip: str, *, subusers: list[str] | None = None, warmup: bool = False) -> dict[str, object]:
    return {
        "ip": ip,
        "subusers": subusers or [],
        "pools": [],
        "warmup": warmup,
        "start_date": None,
        "whitelabeled": False,
    }


def _without_times(listed: list[dict[str, object]]) -> list[dict[str, object]]:
    for entry in listed:
        assert isinstance(entry.pop("assigned_at"), int)
    return listed


async def test_add_allocates_from_the_pool(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.post("/v3/ips", headers=bearer(keys.default), json={"count": 2})
    assert response.status_code == 201
    assert response.json() == {
        "ips": [{"ip": f"{POOL}.1", "subusers": []}, {"ip": f"{POOL}.2", "subusers": []}],
        "remaining_ips": 252,
        "warmup": False,
    }
    listed = await client.get("/v3/ips", headers=bearer(keys.default))
    assert _without_times(listed.json()) == [_ip(f"{POOL}.1"), _ip(f"{POOL}.2")]


async def test_add_assigns_subusers_and_warms_up(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_subuser(client, keys.default, "eu-team")
    body = {"count": 1, "subusers": ["eu-team"], "warmup": True}
    response = await client.post("/v3/ips", headers=bearer(keys.default), json=body)
    assert response.json() == {
        "ips": [{"ip": f"{POOL}.1", "subusers": ["eu-team"]}],
        "remaining_ips": 253,
        "warmup": True,
    }
    one = (await client.get(f"/v3/ips/{POOL}.1", headers=bearer(keys.default))).json()
    assert isinstance(one.pop("start_date"), int)
    assert isinstance(one.pop("assigned_at"), int)
    expected = {"ip": f"{POOL}.1", "subusers": ["eu-team"], "pools": [], "warmup": True, "whitelabeled": False}
    assert one == {**expected, "rdns": ""}
    assigned = (await client.get("/v3/ips/assigned", headers=bearer(keys.default))).json()
    assert [(a["ip"], a["pools"], a["warmup"]) for a in assigned] == [(f"{POOL}.1", [], True)]
    assert set(assigned[0]) == {"ip", "pools", "warmup", "start_date"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, classic_error("missing required argument", "count")),
        ({"count": 0}, classic_error("count must be an integer of at least 1", "count")),
        ({"count": 1, "subusers": ["stranger"]}, classic_error("one or more subusers do not belong to this user")),
        ({"count": 1, "subusers": "eu-team"}, classic_error("subusers must be an array of usernames", "subusers")),
        ({"count": 1, "warmup": "yes"}, classic_error("warmup must be a boolean", "warmup")),
    ],
)
async def test_add_errors(client: httpx.AsyncClient, keys: Keys, body: object, expected: object) -> None:
    response = await client.post("/v3/ips", headers=bearer(keys.default), json=body)
    assert (response.status_code, response.json()) == (400, expected)


async def test_an_exhausted_pool_is_a_400(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"ip_pool": f"{POOL}.0/30"})
    first = await client.post("/v3/ips", headers=bearer(keys.default), json={"count": 2})
    assert [ip["ip"] for ip in first.json()["ips"]] == [f"{POOL}.1", f"{POOL}.2"]
    assert first.json()["remaining_ips"] == 0
    more = await client.post("/v3/ips", headers=bearer(keys.default), json={"count": 1})
    expected = classic_error("Not enough free IP addresses in the pool: 1 requested, 0 available", "count")
    assert (more.status_code, more.json()) == (400, expected)


async def test_list_filters_pages_and_sorts(client: httpx.AsyncClient, keys: Keys) -> None:
    await client.post("/v3/ips", headers=bearer(keys.default), json={"count": 12})
    await create_subuser(client, keys.default, "holder", [f"{POOL}.10"])
    default_page = await client.get("/v3/ips", headers=bearer(keys.default))
    assert [ip["ip"] for ip in default_page.json()] == [f"{POOL}.{n}" for n in range(1, 11)]
    page = await client.get(
        "/v3/ips", params={"limit": 2, "offset": 1, "sort_by_direction": "desc"}, headers=bearer(keys.default)
    )
    assert [ip["ip"] for ip in page.json()] == [f"{POOL}.11", f"{POOL}.10"]
    one = await client.get("/v3/ips", params={"ip": f"{POOL}.3"}, headers=bearer(keys.default))
    assert [ip["ip"] for ip in one.json()] == [f"{POOL}.3"]
    held = await client.get("/v3/ips", params={"subuser": "holder"}, headers=bearer(keys.default))
    assert [(ip["ip"], ip["subusers"]) for ip in held.json()] == [(f"{POOL}.10", ["holder"])]
    bad = await client.get("/v3/ips", params={"sort_by_direction": "up"}, headers=bearer(keys.default))
    assert bad.json() == classic_error("sort_by_direction must be asc or desc", "sort_by_direction")


async def test_a_subuser_sees_the_ips_assigned_to_it(client: httpx.AsyncClient, keys: Keys) -> None:
    await client.post("/v3/ips", headers=bearer(keys.default), json={"count": 2})
    await create_subuser(client, keys.default, "narrow", [f"{POOL}.2"])
    acting = {**bearer(keys.default), "On-Behalf-Of": "narrow"}
    listed = await client.get("/v3/ips", headers=acting)
    assert [ip["ip"] for ip in listed.json()] == [f"{POOL}.2"]
    assert (await client.get(f"/v3/ips/{POOL}.1", headers=acting)).status_code == 404
    denied = await client.post("/v3/ips", headers=acting, json={"count": 1})
    assert (denied.status_code, denied.json()) == (403, classic_error("access forbidden"))


async def test_unknown_or_foreign_ips_are_404(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    await client.post(
        f"/v3/partners/accounts/{account_id}/ips", headers=bearer(keys.partner), json={"count": 1, "region": "us"}
    )
    response = await client.get(f"/v3/ips/{POOL}.1", headers=bearer(keys.default))
    assert (response.status_code, response.json()) == (404, classic_error("not found"))


async def test_ip_endpoints_need_their_scopes(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "n", "scopes": ["ips.read"]}
    )
    key = created.json()["api_key"]
    assert (await client.get("/v3/ips", headers=bearer(key))).status_code == 200
    for method, url in [("POST", "/v3/ips"), ("GET", "/v3/ips/assigned")]:
        response = await client.request(method, url, headers=bearer(key), json={"count": 1})
        assert (response.status_code, response.json()) == (403, classic_error("access forbidden"))


async def test_partner_account_ips_round_trip(client: httpx.AsyncClient, keys: Keys) -> None:
    account_id = await create_customer(client, keys.partner)
    url = f"/v3/partners/accounts/{account_id}/ips"
    added = await client.post(url, headers=bearer(keys.partner), json={"count": 3, "region": "eu"})
    assert (added.status_code, added.json()) == (201, {"ips": [f"{POOL}.1", f"{POOL}.2", f"{POOL}.3"], "region": "eu"})
    first = await client.get(url, params={"limit": 2}, headers=bearer(keys.partner))
    assert first.json() == {
        "result": [{"ip": f"{POOL}.3", "region": "eu"}, {"ip": f"{POOL}.2", "region": "eu"}],
        "pages": {"last": f"{POOL}.2"},
    }
    rest = await client.get(url, params={"limit": 2, "offset": f"{POOL}.2"}, headers=bearer(keys.partner))
    assert rest.json() == {"result": [{"ip": f"{POOL}.1", "region": "eu"}], "pages": {}}
    removed = await client.request("DELETE", url, headers=bearer(keys.partner), json={"ips": [f"{POOL}.2"]})
    assert (removed.status_code, removed.content) == (204, b"")
    after = await client.get(url, headers=bearer(keys.partner))
    assert [entry["ip"] for entry in after.json()["result"]] == [f"{POOL}.3", f"{POOL}.1"]
    reused = await client.post("/v3/ips", headers=bearer(keys.default), json={"count": 1})
    assert reused.json()["ips"] == [{"ip": f"{POOL}.2", "subusers": []}]


@pytest.mark.parametrize(
    ("method", "body", "params", "status", "expected"),
    [
        ("POST", {"region": "us"}, None, 400, partner_error("Field is required", "count", "10-40001")),
        (
            "POST",
            {"count": 11, "region": "us"},
            None,
            400,
            partner_error("Field must be an integer between 1 and 10", "count", "10-40005"),
        ),
        (
            "POST",
            {"count": 1, "region": "apac"},
            None,
            400,
            partner_error("Field must be one of: us, eu", "region", "10-40004"),
        ),
        (
            "DELETE",
            {"ips": ["300.1.1.1"]},
            None,
            400,
            partner_error("Field must be a valid IP address", "ips", "10-40002"),
        ),
        (
            "DELETE",
            {"ips": []},
            None,
            400,
            partner_error("Field must be an array of 1 to 10 IP addresses", "ips", "10-40005"),
        ),
        (
            "DELETE",
            {"ips": [f"{POOL}.77"]},
            None,
            404,
            partner_error(f"IP {POOL}.77 is not assigned to this account", "ips", "10-40400"),
        ),
        ("GET", None, {"offset": "nope"}, 400, partner_error("Field must be a valid IP address", "offset", "10-40002")),
        (
            "GET",
            None,
            {"limit": "5001"},
            400,
            partner_error("Field must be an integer between 1 and 5000", "limit", "10-40005"),
        ),
    ],
)
async def test_partner_ip_errors(
    client: httpx.AsyncClient,
    keys: Keys,
    method: str,
    body: object,
    params: dict[str, str] | None,
    status: int,
    expected: object,
) -> None:
    account_id = await create_customer(client, keys.partner)
    url = f"/v3/partners/accounts/{account_id}/ips"
    response = await client.request(method, url, headers=bearer(keys.partner), json=body, params=params)
    assert (response.status_code, response.json()) == (status, expected)


async def test_partner_ip_endpoints_404_for_unknown_accounts(client: httpx.AsyncClient, keys: Keys) -> None:
    url = "/v3/partners/accounts/sg00000000000000000000000000000000/ips"
    response = await client.get(url, headers=bearer(keys.partner))
    assert (response.status_code, response.json()) == (404, partner_error("Account not found", "", "10-40400"))
