"""POST /v3/mail/send is answered ahead of the framework's middleware; every other request goes through it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conftest import Keys, bearer
from tests.support.mail import body

pytestmark = pytest.mark.anyio


class _Seen:
    """A middleware of the test's that notes the requests reaching the framework's stack."""

    paths: list[tuple[str, str]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _Seen.paths.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


@pytest.fixture
def seen(app: FastAPI) -> list[tuple[str, str]]:
    _Seen.paths = []
    app.add_middleware(_Seen)
    return _Seen.paths


async def test_a_mail_send_skips_the_framework_and_is_stored(
    client: httpx.AsyncClient, keys: Keys, seen: list[tuple[str, str]]
) -> None:
    sent = await client.post("/v3/mail/send", json=body(), headers=bearer(keys.default))
    listed = await client.get("/_mirror/messages")
    assert sent.status_code == 202
    assert [m["id"] for m in listed.json()["messages"]] == [sent.headers["x-message-id"]]
    assert seen == [("GET", "/_mirror/messages")]


async def test_errors_from_the_lane_keep_the_mail_send_envelope(
    client: httpx.AsyncClient, keys: Keys, seen: list[tuple[str, str]]
) -> None:
    refused = await client.post("/v3/mail/send", content=b"{", headers=bearer(keys.default))
    unauthenticated = await client.post("/v3/mail/send", json=body())
    assert (refused.status_code, refused.json()) == (
        400,
        {"errors": [{"message": "Bad Request", "field": None, "help": None}]},
    )
    assert unauthenticated.status_code == 401
    assert seen == []


@pytest.mark.parametrize(("method", "path", "status"), [("POST", "//v3/mail/send", 202), ("GET", "/v3/mail/send", 405)])
async def test_other_requests_go_through_the_framework(
    client: httpx.AsyncClient, keys: Keys, seen: list[tuple[str, str]], method: str, path: str, status: int
) -> None:
    # A full URL: httpx would read a relative "//v3/..." as a host name.
    response = await client.request(method, f"http://mirror.test{path}", json=body(), headers=bearer(keys.default))
    assert response.status_code == status
    assert seen == [(method, path)]
