"""/_mirror/messages: search, read (JSON, .eml, text, html, attachments), wait, delete; admin guard."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import Keys, bearer
from tests.support.mail import body, rich

pytestmark = pytest.mark.anyio


async def _send(client: httpx.AsyncClient, key: str, payload: dict[str, object]) -> str:
    response = await client.post("/v3/mail/send", headers=bearer(key), json=payload)
    assert response.status_code in (200, 202), response.text
    return response.headers["x-message-id"]


async def test_list_and_filters(client: httpx.AsyncClient, keys: Keys) -> None:
    rich_id = await _send(client, keys.default, rich())
    plain_id = await _send(client, keys.default, body(subject="Plain one"))
    everything = (await client.get("/_mirror/messages")).json()
    assert everything["total"] == 2
    assert [m["id"] for m in everything["messages"]] == [plain_id, rich_id]

    async def ids(**params: str) -> list[str]:
        return [m["id"] for m in (await client.get("/_mirror/messages", params=params)).json()["messages"]]

    assert await ids(to="BOB@example.com") == [rich_id]
    assert await ids(category="receipts") == [rich_id]
    assert await ids(custom_arg="order=43") == [rich_id]
    assert await ids(subject="plain") == [plain_id]
    assert await ids(**{"from": "sender@example.com"}) == [plain_id, rich_id]
    assert await ids(account="default") == [plain_id, rich_id]
    assert await ids(account="partner") == []
    assert await ids(since="2999-01-01T00:00:00Z") == []
    assert await ids(limit="1", offset="1") == [rich_id]


async def test_one_message_in_full(client: httpx.AsyncClient, keys: Keys) -> None:
    message_id = await _send(client, keys.default, rich())
    detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
    assert detail["from"] == {"email": "sender@example.com", "name": "Sender"}
    assert (detail["to"], detail["cc"], detail["bcc"]) == (
        ["alice@example.com", "dave@example.com"], ["carol@example.com"], ["bob@example.com"]
    )  # fmt: skip
    first = detail["envelopes"][0]
    assert first["subject"] == "For Alice -name-"
    assert first["text"].strip() == "Hello Alice"
    assert '<img src="cid:logo">' in first["html"]
    assert [(a["filename"], a["disposition"], a["content_id"]) for a in first["attachments"]] == [
        ("logo.png", "inline", "logo"), ("invoice.pdf", "attachment", None),
    ]  # fmt: skip
    assert detail["request"] == rich()
    assert [e["event"] for e in detail["recipients"][0]["events"]] == ["processed", "delivered"]


async def test_bodies_and_attachments_download(client: httpx.AsyncClient, keys: Keys) -> None:
    message_id = await _send(client, keys.default, rich())
    text = await client.get(f"/_mirror/messages/{message_id}/text")
    assert text.text.strip() == "Hello Alice"
    html = await client.get(f"/_mirror/messages/{message_id}/html")
    assert "sandbox" in html.headers["content-security-policy"]
    pdf = await client.get(f"/_mirror/messages/{message_id}/attachments/1")
    assert pdf.content == b"%PDF-1.4 test"
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="invoice.pdf"' in pdf.headers["content-disposition"]
    raw = await client.get(f"/_mirror/messages/{message_id}/raw", params={"personalization": 1})
    assert raw.headers["content-type"] == "message/rfc822"
    assert b"dave@example.com" in raw.content
    assert (await client.get(f"/_mirror/messages/{message_id}/attachments/9")).status_code == 404
    assert (await client.get(f"/_mirror/messages/{message_id}/raw", params={"personalization": 5})).status_code == 404


async def test_rendering_is_stable_once_read(client: httpx.AsyncClient, keys: Keys) -> None:
    message_id = await _send(client, keys.default, rich())
    first = await client.get(f"/_mirror/messages/{message_id}/raw")
    second = await client.get(f"/_mirror/messages/{message_id}/raw")
    assert first.content == second.content


async def test_delete_one_and_clear(client: httpx.AsyncClient, keys: Keys) -> None:
    first = await _send(client, keys.default, body())
    await _send(client, keys.default, body())
    assert (await client.delete(f"/_mirror/messages/{first}")).status_code == 204
    assert (await client.get(f"/_mirror/messages/{first}")).status_code == 404
    assert (await client.get("/_mirror/messages")).json()["total"] == 1
    assert (await client.delete("/_mirror/messages")).status_code == 204
    assert (await client.get("/_mirror/messages")).json()["total"] == 0


async def test_wait_returns_the_next_matching_message(client: httpx.AsyncClient, keys: Keys) -> None:
    await _send(client, keys.default, body())  # before the wait: not "next"

    async def send_later() -> str:
        await asyncio.sleep(0.3)
        return await _send(client, keys.default, body(personalizations=[{"to": [{"email": "late@example.com"}]}]))

    sender = asyncio.create_task(send_later())
    waited = await client.get("/_mirror/messages/wait", params={"to": "late@example.com", "timeout": "10"})
    assert waited.status_code == 200
    assert waited.json()["id"] == await sender


async def test_wait_times_out_with_408(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/_mirror/messages/wait", params={"to": "never@example.com", "timeout": "0.2"})
    assert response.status_code == 408
    assert response.json()["errors"][0]["message"] == "no matching message arrived within 0.2 seconds"


async def test_the_admin_token_guards_the_inspection_api(db: Database, settings: Settings, keys: Keys) -> None:
    guarded: FastAPI = create_app(settings.model_copy(update={"admin_token": "s3cret"}), database=db)
    transport = httpx.ASGITransport(app=guarded, client=("10.0.0.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as http:
        assert (await http.get("/_mirror/messages")).status_code == 401
        assert (await http.get("/_mirror/messages", headers=bearer("s3cret"))).status_code == 200
        lowercase = {"Authorization": "bearer s3cret"}
        assert (await http.get("/_mirror/messages", headers=lowercase)).status_code == 200
        assert (await http.get("/_mirror/messages", headers=bearer("wrong"))).status_code == 401
    open_app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=open_app, client=("10.0.0.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as http:
        assert (await http.get("/_mirror/messages")).status_code == 403


async def test_sandbox_messages_are_kept_for_inspection(client: httpx.AsyncClient, keys: Keys) -> None:
    message_id = await _send(client, keys.default, body(mail_settings={"sandbox_mode": {"enable": True}}))
    detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
    assert (detail["sandbox"], detail["status"]) == (True, "sandbox")
    assert detail["recipients"][0]["events"] == []
