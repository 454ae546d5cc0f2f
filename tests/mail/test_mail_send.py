"""POST /v3/mail/send over HTTP: status, headers, envelopes, and what is stored before the 202."""

from __future__ import annotations

import email
import email.policy
import gzip
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from app.kernel.db.session import Database
from app.mail.models import Event, Message, Recipient
from tests.conftest import Keys, bearer
from tests.support.mail import VALID, body, rich

pytestmark = pytest.mark.anyio

SEND = "/v3/mail/send"


async def _send(client: httpx.AsyncClient, key: str, payload: object) -> httpx.Response:
    return await client.post(SEND, headers=bearer(key), json=payload)


async def test_accepted_mail_is_202_with_an_empty_body_and_a_message_id(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await _send(client, keys.default, VALID)
    assert response.status_code == 202
    assert response.content == b""
    message_id = response.headers["x-message-id"]
    assert len(message_id) == 22
    assert all(c.isalnum() or c in "-_" for c in message_id)


async def test_everything_is_stored_before_the_reply(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    response = await _send(client, keys.default, rich())
    message_id = response.headers["x-message-id"]
    with db.read_session() as session:
        message = session.get(Message, message_id)
        assert message is not None
        assert (message.transport, message.status, message.categories) == ("http", "sent", ["receipts", "march"])
        assert json.loads(message.request) == rich()
        recipients = session.scalars(select(Recipient).where(Recipient.message_id == message_id)).all()
        events = session.scalars(select(Event.event).join(Recipient).where(Recipient.message_id == message_id)).all()
    assert sorted((r.kind, r.email, r.status) for r in recipients) == [
        ("bcc", "bob@example.com", "delivered"),
        ("cc", "carol@example.com", "delivered"),
        ("to", "alice@example.com", "delivered"),
        ("to", "dave@example.com", "delivered"),
    ]
    assert all(r.id.startswith(message_id + ".") for r in recipients)
    assert sorted(events) == ["delivered"] * 4 + ["processed"] * 4


async def test_each_personalization_becomes_its_own_mime_message(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    message_id = (await _send(client, keys.default, rich())).headers["x-message-id"]
    first = await client.get(f"/_mirror/messages/{message_id}/raw")
    parsed = email.message_from_bytes(first.content, policy=email.policy.default)
    assert parsed["To"] == "alice@example.com"
    assert parsed["Cc"] == "carol@example.com"
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "For Alice Alice"
    assert json.loads(parsed["X-SMTPAPI"])["category"] == ["receipts", "march"]
    second = await client.get(f"/_mirror/messages/{message_id}/raw", params={"personalization": 1})
    assert email.message_from_bytes(second.content, policy=email.policy.default)["To"] == "dave@example.com"


async def test_sandbox_mode_is_200_and_delivers_nothing(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    response = await _send(client, keys.default, body(mail_settings={"sandbox_mode": {"enable": True}}))
    assert (response.status_code, response.content) == (200, b"")
    message_id = response.headers["x-message-id"]
    with db.read_session() as session:
        message = session.get(Message, message_id)
        assert message is not None
        assert message.status == "sandbox"
        assert session.scalar(select(func.count()).select_from(Event)) == 0
    activity = await client.get(
        "/v3/messages", params={"query": 'to_email="alice@example.com"'}, headers=bearer(keys.default)
    )
    assert activity.json() == {"messages": []}


async def test_gzip_bodies_are_accepted(client: httpx.AsyncClient, keys: Keys) -> None:
    headers = {**bearer(keys.default), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    response = await client.post(SEND, headers=headers, content=gzip.compress(json.dumps(VALID).encode()))
    assert response.status_code == 202


def _mail_error(message: str) -> dict[str, object]:
    return {"errors": [{"message": message, "field": None, "help": None}]}


async def test_body_over_30mb_is_413_from_content_length(client: httpx.AsyncClient, keys: Keys) -> None:
    headers = {**bearer(keys.default), "Content-Length": str(30 * 1024 * 1024 + 1), "Content-Type": "application/json"}
    response = await client.post(SEND, headers=headers, content=b"{}")
    assert (response.status_code, response.json()) == (413, _mail_error("content too large"))


async def test_body_over_30mb_is_413_when_streamed(client: httpx.AsyncClient, keys: Keys) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(31):
            yield b" " * (1024 * 1024)

    headers = {**bearer(keys.default), "Content-Type": "application/json"}
    response = await client.post(SEND, headers=headers, content=chunks())
    assert response.status_code == 413


async def test_gzip_that_inflates_past_30mb_is_413(client: httpx.AsyncClient, keys: Keys) -> None:
    bomb = gzip.compress(b" " * (31 * 1024 * 1024))
    headers = {**bearer(keys.default), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    response = await client.post(SEND, headers=headers, content=bomb)
    assert response.status_code == 413


async def test_non_json_content_type_is_415(client: httpx.AsyncClient, keys: Keys) -> None:
    headers = {**bearer(keys.default), "Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post(SEND, headers=headers, content=b"a=b")
    assert (response.status_code, response.json()) == (415, _mail_error("Content-Type should be application/json"))


async def test_invalid_utf8_is_415(client: httpx.AsyncClient, keys: Keys) -> None:
    headers = {**bearer(keys.default), "Content-Type": "application/json"}
    response = await client.post(SEND, headers=headers, content=b'{"subject": "\xff\xfe"}')
    assert (response.status_code, response.json()) == (415, _mail_error("Invalid UTF8 in request"))


@pytest.mark.parametrize("raw", [b"{", b"[object Object]", b""])
async def test_unparseable_json_is_400_bad_request(client: httpx.AsyncClient, keys: Keys, raw: bytes) -> None:
    headers = {**bearer(keys.default), "Content-Type": "application/json"}
    response = await client.post(SEND, headers=headers, content=raw)
    assert (response.status_code, response.json()) == (400, _mail_error("Bad Request"))


async def test_unknown_key_body_is_byte_for_byte_sendgrids(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await _send(client, "SG.unknownKeyId00000000.unknownSecret", VALID)
    assert response.status_code == 401
    assert response.content == (
        b'{"errors":[{"message":"The provided authorization grant is invalid, expired, or revoked",'
        b'"field":null,"help":null}]}'
    )
    assert len(response.content) == 116


async def test_empty_key_body_is_byte_for_byte_sendgrids(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.post(SEND, headers={"Authorization": "Bearer "}, json=VALID)
    assert (
        response.content == b'{"errors":[{"message":"Permission denied, wrong credentials","field":null,"help":null}]}'
    )
    assert len(response.content) == 88


async def test_a_key_without_mail_send_is_403(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "r", "scopes": ["alerts.read"]}
    )
    response = await _send(client, created.json()["api_key"], VALID)
    assert (response.status_code, response.json()) == (403, _mail_error("access forbidden"))


async def test_all_validation_errors_come_back_together(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await _send(client, keys.default, {"personalizations": [{"to": [{"email": "nope"}]}]})
    assert response.status_code == 400
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["personalizations.0.to.0.email", "from.email", "subject", "content"]
    assert all(set(e) == {"message", "field", "help"} for e in response.json()["errors"])


async def test_batches_are_created_read_and_checked_on_send(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await client.post("/v3/mail/batch", headers=bearer(keys.default))
    assert created.status_code == 201
    batch_id = created.json()["batch_id"]
    assert len(batch_id) == 32
    fetched = await client.get(f"/v3/mail/batch/{batch_id}", headers=bearer(keys.default))
    assert fetched.json() == {"batch_id": batch_id}
    assert (await _send(client, keys.default, body(batch_id=batch_id))).status_code == 202
    unknown = await client.get("/v3/mail/batch/nope", headers=bearer(keys.default))
    assert (unknown.status_code, unknown.json()) == (400, {"errors": [{"field": None, "message": "invalid batch id"}]})
    refused = await _send(client, keys.default, body(batch_id="never-created"))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "batch_id"


async def test_another_accounts_batch_is_invalid(client: httpx.AsyncClient, keys: Keys) -> None:
    batch_id = (await client.post("/v3/mail/batch", headers=bearer(keys.partner))).json()["batch_id"]
    assert (await client.get(f"/v3/mail/batch/{batch_id}", headers=bearer(keys.default))).status_code == 400
    assert (await _send(client, keys.default, body(batch_id=batch_id))).status_code == 400
