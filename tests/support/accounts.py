"""Helpers for tests that drive partner accounts, subusers and IPs over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import bearer

FREE = {"name": "org.ei.free.v1", "type": "package", "quantity": 1}
PROFILE = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company_name": "Analytical Engines",
    "company_website": "https://engines.example",
    "email": "ada@engines.example",
    "phone": "+441234567890",
    "timezone": "Europe/London",
}
SUBUSER_PASSWORD = "correct horse battery"


def on_behalf(key: str, account_id: str) -> dict[str, str]:
    return {**bearer(key), "On-Behalf-Of": f"account-id {account_id}"}


def partner_error(message: str, field: str, error_id: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field, "error_id": error_id}]}


def classic_error(message: str, field: str | None = None) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message}]}


async def create_customer(client: httpx.AsyncClient, partner_key: str, **profile: str) -> str:
    """A new customer account of the bootstrap partner; returns its id."""
    body = {"profile": {**PROFILE, **profile}, "offerings": [FREE]}
    response = await client.post("/v3/partners/accounts", headers=bearer(partner_key), json=body)
    assert response.status_code == 201, response.text
    account_id: str = response.json()["account_id"]
    return account_id


async def customer_key(client: httpx.AsyncClient, partner_key: str, account_id: str, **body: Any) -> str:
    """A full-access key for a customer, created by the partner On-Behalf-Of the account."""
    response = await client.post("/v3/api_keys", headers=on_behalf(partner_key, account_id), json={"name": "k", **body})
    assert response.status_code == 201, response.text
    key: str = response.json()["api_key"]
    return key


async def create_subuser(client: httpx.AsyncClient, key: str, username: str, ips: list[str] | None = None) -> Any:
    body = {
        "username": username,
        "email": f"{username}@engines.example",
        "password": SUBUSER_PASSWORD,
        "ips": ips or [],
    }
    response = await client.post("/v3/subusers", headers=bearer(key), json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def set_state(client: httpx.AsyncClient, account: str, state: str) -> httpx.Response:
    """Set any state through the mirror's admin API (open on loopback)."""
    return await client.put(f"/_mirror/accounts/{account}/state", json={"state": state})
