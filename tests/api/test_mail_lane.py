"""The mail-send lane answers POST /v3/mail/send itself and passes everything else to the app behind it."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from app.api.mail_lane import MailSendLane
from tests.api.mail_support import body
from tests.conftest import Keys, bearer

pytestmark = pytest.mark.anyio


class _Behind:
    """Stands for the framework's stack: records the paths it was asked for and answers 418."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append((scope["method"], scope["path"]))
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _client(app: FastAPI, behind: _Behind) -> httpx.AsyncClient:
    lane = MailSendLane(behind)

    async def with_app(scope: Scope, receive: Receive, send: Send) -> None:
        # The lane reads the mirror's state through scope["app"], as Starlette sets it.
        await lane({**scope, "app": app}, receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=with_app), base_url="http://mirror.test")


async def test_a_mail_send_is_answered_by_the_lane_and_stored(app: FastAPI, keys: Keys) -> None:
    behind = _Behind()
    async with _client(app, behind) as client:
        sent = await client.post("/v3/mail/send", json=body(), headers=bearer(keys.default))
        listed = await app_client_get(app, "/_mirror/messages")
    assert sent.status_code == 202
    assert behind.seen == []
    assert [m["id"] for m in listed["messages"]] == [sent.headers["x-message-id"]]


async def test_errors_from_the_lane_keep_the_mail_send_envelope(app: FastAPI, keys: Keys) -> None:
    behind = _Behind()
    async with _client(app, behind) as client:
        refused = await client.post("/v3/mail/send", content=b"{", headers=bearer(keys.default))
        unauthenticated = await client.post("/v3/mail/send", json=body())
    assert (refused.status_code, refused.json()) == (
        400,
        {"errors": [{"message": "Bad Request", "field": None, "help": None}]},
    )
    assert unauthenticated.status_code == 401
    assert behind.seen == []


@pytest.mark.parametrize(("method", "path"), [("GET", "/v3/mail/send"), ("POST", "/v3/mail/batch")])
async def test_other_requests_go_to_the_app_behind(app: FastAPI, method: str, path: str) -> None:
    behind = _Behind()
    async with _client(app, behind) as client:
        response = await client.request(method, path)
    assert response.status_code == 418
    assert behind.seen == [(method, path)]


async def app_client_get(app: FastAPI, path: str) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mirror.test") as client:
        return orjson.loads((await client.get(path)).content)
