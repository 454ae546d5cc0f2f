"""POST /_mirror/reset: a shared mirror back to its first start, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import DEFAULT_KEY, PARTNER_KEY, Keys, bearer
from tests.support.accounts import create_subuser
from tests.support.mail import body

pytestmark = pytest.mark.anyio


@pytest.fixture
def configured_app(db: Database, keys: Keys, scratch_dir: Path) -> FastAPI:
    """A mirror whose settings name both bootstrap keys, as a shared CI instance's would."""
    settings = Settings(
        data_dir=scratch_dir / "data",
        require_verified_sender=False,
        api_key=DEFAULT_KEY,
        partner_api_key=PARTNER_KEY,
        trusted_hosts="mirror.test",
    )
    return create_app(settings, database=db)


@pytest.fixture
async def configured(configured_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=configured_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as http:
        yield http


async def _fill(client: httpx.AsyncClient) -> str:
    """Something of every kind a test run leaves behind; returns an API key made along the way."""
    headers = bearer(DEFAULT_KEY)
    assert (await client.post("/v3/mail/send", headers=headers, json=body())).status_code == 202
    assert (await client.post("/v3/templates", headers=headers, json={"name": "Receipt"})).status_code == 201
    unsubscribe = {"recipient_emails": ["gone@example.com"]}
    assert (await client.post("/v3/asm/suppressions/global", headers=headers, json=unsubscribe)).status_code == 201
    webhook = {"url": "https://hooks.example.com/sg", "enabled": False}
    assert (await client.post("/v3/user/webhooks/event/settings", headers=headers, json=webhook)).status_code == 201
    rule = {"id": "slow", "path": "/v3/nothing", "action": {"status": 503}}
    assert (await client.post("/_mirror/faults", json=rule)).status_code == 201
    assert (await client.post("/_mirror/clock/advance", json={"seconds": 3600})).status_code == 200
    await create_subuser(client, DEFAULT_KEY, "child", [])
    created = await client.post("/v3/api_keys", headers=headers, json={"name": "ci", "scopes": ["mail.send"]})
    assert created.status_code == 201
    key: str = created.json()["api_key"]
    return key


async def test_reset_removes_everything_but_the_bootstrap_accounts_and_configured_keys(
    configured: httpx.AsyncClient,
) -> None:
    client = configured
    made_key = await _fill(client)
    response = await client.post("/_mirror/reset")
    assert response.status_code == 200, response.text
    removed = response.json()["removed"]
    for table in ("messages", "templates", "suppressions", "event_webhooks", "fault_rules", "mirror_clock"):
        assert removed.get(table, 0) >= 1, table
    assert removed["accounts"] == 3  # partner, default and the subuser
    assert removed["api_keys"] == 3  # both configured keys and the one made
    assert response.json()["bootstrap"][0].startswith("Created the partner account")

    for key in (DEFAULT_KEY, PARTNER_KEY):
        assert (await client.get("/v3/scopes", headers=bearer(key))).status_code == 200
    assert (await client.get("/v3/scopes", headers=bearer(made_key))).status_code == 401
    accounts = (await client.get("/_mirror/accounts")).json()["accounts"]
    assert sorted(a["username"] for a in accounts) == ["default", "partner"]
    assert (await client.get("/_mirror/messages")).json()["total"] == 0
    assert (await client.get("/v3/templates", headers=bearer(DEFAULT_KEY))).json()["templates"] == []
    assert (await client.get("/v3/suppression/unsubscribes", headers=bearer(DEFAULT_KEY))).json() == []
    assert (await client.get("/_mirror/faults")).json()["rules"] == []
    assert (await client.get("/_mirror/clock")).json()["offset_seconds"] == 0
    assert (await client.post("/v3/mail/send", headers=bearer(DEFAULT_KEY), json=body())).status_code == 202


async def test_reset_is_an_admin_operation(configured_app: FastAPI, configured: httpx.AsyncClient) -> None:
    outside = httpx.ASGITransport(app=configured_app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=outside, base_url="http://mirror.test") as stranger:
        refused = await stranger.post("/_mirror/reset")
    assert refused.status_code == 403
    assert (await configured.get("/v3/scopes", headers=bearer(DEFAULT_KEY))).status_code == 200
