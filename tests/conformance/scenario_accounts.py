"""Conformance scenario, part 1: keys, scopes, partner accounts, IP provisioning, subusers and IPs.

Every served official operation is called at least once with a valid request and with its main error
cases; the recorder keeps the answers for the official-spec check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Keys, bearer
from tests.support.accounts import FREE, PROFILE, on_behalf


@dataclass(frozen=True)
class Driver:
    """Sends one request and insists on the status the scenario means to provoke."""

    client: httpx.AsyncClient
    keys: Keys

    async def call(
        self, method: str, path: str, expect: int, *, key: str | None = "default", json: Any = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers.update(bearer(getattr(self.keys, key, key)))
        response = await self.client.request(method, path, headers=headers, json=json, **kw)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response


async def api_keys_and_scopes(d: Driver) -> None:
    created = (await d.call("POST", "/v3/api_keys", 201, json={"name": "ci", "scopes": ["mail.send"]})).json()
    key_id = created["api_key_id"]
    await d.call("POST", "/v3/api_keys", 400, json={"scopes": ["mail.send"]})
    await d.call("POST", "/v3/api_keys", 401, key=None, json={"name": "ci"})
    await d.call("POST", "/v3/api_keys", 403, key=created["api_key"], json={"name": "ci"})
    await d.call("GET", "/v3/api_keys", 200, params={"limit": 10})
    await d.call("GET", "/v3/api_keys", 401, key="SG.unknownKey0000000000.secret00000000000000000000000000000000000")
    await d.call("GET", f"/v3/api_keys/{key_id}", 200)
    await d.call("GET", "/v3/api_keys/nope", 404)
    await d.call("PATCH", f"/v3/api_keys/{key_id}", 200, json={"name": "renamed"})
    await d.call("PATCH", f"/v3/api_keys/{key_id}", 400, json={})
    await d.call("PUT", f"/v3/api_keys/{key_id}", 200, json={"name": "ci", "scopes": ["mail.send", "ips.read"]})
    await d.call("PUT", f"/v3/api_keys/{key_id}", 400, json={"scopes": ["mail.send"]})
    await d.call("PUT", "/v3/api_keys/nope", 404, json={"name": "x", "scopes": ["mail.send"]})
    await d.call("GET", "/v3/scopes", 200)
    await d.call("GET", "/v3/scopes", 401, key=None)
    await d.call("DELETE", f"/v3/api_keys/{key_id}", 204)
    await d.call("DELETE", f"/v3/api_keys/{key_id}", 404)


async def partner_accounts(d: Driver) -> str:
    """Provisioning round trip; returns a customer account that stays for the other parts."""
    body = {"profile": PROFILE, "offerings": [FREE]}
    account_id: str = (await d.call("POST", "/v3/partners/accounts", 201, key="partner", json=body)).json()[
        "account_id"
    ]
    await d.call("POST", "/v3/partners/accounts", 400, key="partner", json={"profile": {**PROFILE, "email": "x"}})
    await d.call("POST", "/v3/partners/accounts", 403, json=body)
    await d.call("GET", "/v3/partners/accounts", 200, key="partner", params={"limit": 5})
    await d.call("GET", "/v3/partners/accounts", 401, key=None)
    await d.call("GET", "/v3/partners/offerings", 200, key="partner")
    account = f"/v3/partners/accounts/{account_id}"
    await d.call("GET", f"{account}/offerings", 200, key="partner")
    await d.call("GET", "/v3/partners/accounts/sg00000000000000000000000000000000/offerings", 404, key="partner")
    offerings = {"offerings": [{"name": "org.ei.pro100k.v1", "type": "package"}]}
    await d.call("PUT", f"{account}/offerings", 200, key="partner", json=offerings)
    await d.call("PUT", f"{account}/offerings", 400, key="partner", json={"offerings": [{"name": "nope"}]})
    await d.call("GET", f"{account}/state", 200, key="partner")
    await d.call("PUT", f"{account}/state", 204, key="partner", json={"state": "deactivated"})
    await d.call("PUT", f"{account}/state", 204, key="partner", json={"state": "activated"})
    await d.call("PUT", f"{account}/state", 400, key="partner", json={"state": "banned"})
    await d.call("POST", f"{account}/sso", 303, key="partner")
    await d.call("POST", "/v3/partners/accounts/sg00000000000000000000000000000000/sso", 404, key="partner")
    await _partner_ips(d, account)
    doomed = (await d.call("POST", "/v3/partners/accounts", 201, key="partner", json=body)).json()["account_id"]
    await d.call("DELETE", f"/v3/partners/accounts/{doomed}", 204, key="partner")
    await d.call("DELETE", f"/v3/partners/accounts/{doomed}", 404, key="partner")
    return account_id


async def _partner_ips(d: Driver, account: str) -> None:
    added = (await d.call("POST", f"{account}/ips", 201, key="partner", json={"count": 2, "region": "us"})).json()
    await d.call("POST", f"{account}/ips", 400, key="partner", json={"region": "us"})
    await d.call("GET", f"{account}/ips", 200, key="partner", params={"limit": 1})
    await d.call("GET", f"{account}/ips", 400, key="partner", params={"limit": "many"})
    await d.call("DELETE", f"{account}/ips", 204, key="partner", json={"ips": added["ips"][:1]})
    await d.call("DELETE", f"{account}/ips", 400, key="partner", json={})


async def subusers_and_ips(d: Driver, account_id: str) -> None:
    ips = (await d.call("POST", "/v3/ips", 201, json={"count": 2})).json()["ips"]
    await d.call("POST", "/v3/ips", 400, json={"count": "two"})
    first, second = ips[0]["ip"], ips[1]["ip"]
    await d.call("GET", "/v3/ips", 200, params={"limit": 5})
    await d.call("GET", f"/v3/ips/{first}", 200)
    await d.call("GET", "/v3/ips/192.0.2.250", 404)
    await d.call("GET", "/v3/ips/assigned", 200)
    sub = {"username": "conformer", "email": "conformer@example.com", "password": "correct horse battery"}
    await d.call("POST", "/v3/subusers", 200, json={**sub, "ips": [first]})
    await d.call("POST", "/v3/subusers", 400, json={**sub, "ips": [first]})
    await d.call("GET", "/v3/subusers", 200, params={"limit": 5})
    await d.call("GET", "/v3/subusers", 401, key=None)
    await d.call("PATCH", "/v3/subusers/conformer", 204, json={"disabled": True})
    await d.call("PATCH", "/v3/subusers/conformer", 400, json={"disabled": "yes"})
    await d.call("PUT", "/v3/subusers/conformer/ips", 200, json=[second])
    await d.call("PUT", "/v3/subusers/conformer/ips", 401, key=None, json=[second])
    await d.call("DELETE", "/v3/subusers/conformer", 204)
    await d.call("DELETE", "/v3/subusers/conformer", 404)
    # A customer reached On-Behalf-Of by the partner sees its own (empty) subuser list.
    acting = on_behalf(d.keys.partner, account_id)
    await d.call("GET", "/v3/subusers", 200, key=None, headers=acting)
