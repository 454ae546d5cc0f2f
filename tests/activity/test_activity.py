"""GET /v3/messages and /v3/messages/{msg_id}: the query language over what was sent."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import Keys, bearer
from tests.support.mail import body, rich

pytestmark = pytest.mark.anyio


async def _send(client: httpx.AsyncClient, key: str, payload: dict[str, object]) -> str:
    response = await client.post("/v3/mail/send", headers=bearer(key), json=payload)
    assert response.status_code == 202, response.text
    return response.headers["x-message-id"]


async def _query(client: httpx.AsyncClient, key: str, query: str, **params: str) -> httpx.Response:
    return await client.get("/v3/messages", params={"query": query, **params}, headers=bearer(key))


async def test_a_sent_message_is_found_by_recipient_with_sendgrids_shape(client: httpx.AsyncClient, keys: Keys) -> None:
    message_id = await _send(client, keys.default, body())
    response = await _query(client, keys.default, 'to_email="alice@example.com"')
    assert response.status_code == 200
    [found] = response.json()["messages"]
    assert found["msg_id"].startswith(message_id + ".")
    assert {k: v for k, v in found.items() if k not in ("msg_id", "last_event_time")} == {
        "from_email": "sender@example.com",
        "subject": "Hello",
        "to_email": "alice@example.com",
        "status": "delivered",
        "opens_count": 0,
        "clicks_count": 0,
    }
    assert found["last_event_time"].endswith("Z")


async def test_msg_id_prefix_finds_every_recipient_of_a_send(client: httpx.AsyncClient, keys: Keys) -> None:
    message_id = await _send(client, keys.default, rich())
    await _send(client, keys.default, body())
    response = await _query(client, keys.default, f'msg_id LIKE "{message_id}%"', limit="100")
    assert sorted(m["to_email"] for m in response.json()["messages"]) == [
        "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com",
    ]  # fmt: skip


async def test_and_or_and_between_work_together(client: httpx.AsyncClient, keys: Keys) -> None:
    await _send(client, keys.default, body(subject="Invoice 1"))
    await _send(client, keys.default, body(subject="Welcome"))
    query = (
        '(subject LIKE "Invoice%" OR subject="Welcome") AND status="delivered" AND last_event_time BETWEEN '
        'TIMESTAMP "2000-01-01T00:00:00Z" AND TIMESTAMP "2999-01-01T00:00:00Z"'
    )
    response = await _query(client, keys.default, query)
    assert sorted(m["subject"] for m in response.json()["messages"]) == ["Invoice 1", "Welcome"]
    none = await _query(client, keys.default, 'from_email="nobody@example.com"')
    assert none.json() == {"messages": []}


async def test_limit_defaults_to_10_and_is_bounded(client: httpx.AsyncClient, keys: Keys) -> None:
    for _ in range(12):
        await _send(client, keys.default, body())
    assert len((await _query(client, keys.default, 'status="delivered"')).json()["messages"]) == 10
    assert len((await _query(client, keys.default, 'status="delivered"', limit="11")).json()["messages"]) == 11
    too_many = await _query(client, keys.default, 'status="delivered"', limit="1001")
    assert too_many.status_code == 400


async def test_bad_queries_get_family_e_errors(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await _query(client, keys.default, 'bad_field="x"')
    assert (response.status_code, response.json()) == (
        400, {"errors": [{"message": "invalid syntax: 'bad_field' is not a known field"}]}
    )  # fmt: skip
    missing = await client.get("/v3/messages", headers=bearer(keys.default))
    assert missing.json() == {"errors": [{"message": "query parameter is required"}]}


async def test_detail_carries_the_event_history(client: httpx.AsyncClient, keys: Keys) -> None:
    message_id = await _send(client, keys.default, rich())
    listed = await _query(client, keys.default, 'to_email="alice@example.com"')
    msg_id = listed.json()["messages"][0]["msg_id"]
    detail = (await client.get(f"/v3/messages/{msg_id}", headers=bearer(keys.default))).json()
    assert detail["msg_id"] == msg_id
    assert msg_id.startswith(message_id)
    assert [e["event_name"] for e in detail["events"]] == ["processed", "delivered"]
    assert detail["categories"] == ["receipts", "march"]
    assert json.loads(detail["unique_args"]) == {"campaign": "spring"}
    assert detail["api_key_id"] == keys.default.split(".")[1]
    missing = await client.get("/v3/messages/nope", headers=bearer(keys.default))
    assert (missing.status_code, missing.json()) == (404, {"errors": [{"message": "not found", "field": "message_id"}]})


async def test_accounts_only_see_their_own_messages(client: httpx.AsyncClient, keys: Keys) -> None:
    await _send(client, keys.default, body())
    response = await _query(client, keys.partner, 'to_email="alice@example.com"')
    assert response.json() == {"messages": []}


async def test_messages_read_scope_is_required(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "s", "scopes": ["mail.send"]}
    )
    response = await _query(client, created.json()["api_key"], 'status="delivered"')
    assert (response.status_code, response.json()) == (403, {"errors": [{"message": "access forbidden"}]})
