"""X-RateLimit-* headers per key and endpoint family, 429 `too many requests`, and none on mail send."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.kernel.config import Settings
from app.kernel.db.session import Database
from tests.conftest import Keys, bearer
from tests.support.apps import client_with
from tests.support.mail import VALID

pytestmark = pytest.mark.anyio


def _usage(response: httpx.Response) -> tuple[int, int, int]:
    headers = response.headers
    return int(headers["x-ratelimit-limit"]), int(headers["x-ratelimit-remaining"]), int(headers["x-ratelimit-reset"])


async def test_api_responses_carry_the_headers(client: httpx.AsyncClient, keys: Keys) -> None:
    before = int(time.time())
    first = await client.get("/v3/scopes", headers=bearer(keys.default))
    limit, remaining, reset = _usage(first)
    assert (limit, remaining) == (600, 599)
    assert before < reset <= before + 61
    assert reset % 60 == 0
    assert _usage(await client.get("/v3/scopes", headers=bearer(keys.default)))[1] == 598
    other_family = await client.get("/v3/api_keys", headers=bearer(keys.default))
    assert _usage(other_family)[1] == 599
    other_key = await client.get("/v3/scopes", headers=bearer(keys.partner))
    assert _usage(other_key)[1] == 599


async def test_mail_send_and_the_mirror_api_carry_none(client: httpx.AsyncClient, keys: Keys) -> None:
    sent = await client.post("/v3/mail/send", headers=bearer(keys.default), json=VALID)
    assert sent.status_code == 202
    assert "x-ratelimit-limit" not in sent.headers
    assert "x-ratelimit-limit" not in (await client.get("/_mirror/messages")).headers
    unauthenticated = await client.get("/v3/scopes")
    assert "x-ratelimit-limit" not in unauthenticated.headers


async def test_over_the_limit_is_429_with_the_headers(db: Database, settings: Settings, keys: Keys) -> None:
    async with client_with(db, settings, rate_limit=3) as client:
        answers = [await client.get("/v3/scopes", headers=bearer(keys.default)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[3].json() == {"errors": [{"field": None, "message": "too many requests"}]}
        assert _usage(answers[3])[:2] == (3, 0)
        assert _usage(answers[3])[2] == _usage(answers[0])[2]
        assert (await client.get("/v3/scopes", headers=bearer(keys.default))).status_code == 429
        partner = [await client.get("/v3/partners/offerings", headers=bearer(keys.partner)) for _ in range(4)]
        assert partner[3].status_code == 429
        assert partner[3].json() == {
            "errors": [{"message": "too many requests", "field": "", "error_id": "10-42900"}]
        }  # fmt: skip


async def test_refusals_after_authentication_count_and_carry_the_headers(
    db: Database, settings: Settings, keys: Keys
) -> None:
    async with client_with(db, settings, rate_limit=5) as client:
        created = await client.post(
            "/v3/api_keys", headers=bearer(keys.default), json={"name": "m", "scopes": ["mail.send"]}
        )
        narrow = created.json()["api_key"]
        forbidden = await client.get("/v3/api_keys", headers=bearer(narrow))
        assert forbidden.status_code == 403
        assert _usage(forbidden) == (5, 4, _usage(forbidden)[2])


async def test_a_new_window_starts_afresh(db: Database, settings: Settings, keys: Keys) -> None:
    async with client_with(db, settings, rate_limit=1, rate_limit_window=1) as client:
        await client.get("/v3/scopes", headers=bearer(keys.default))
        assert (await client.get("/v3/scopes", headers=bearer(keys.default))).status_code == 429
        await asyncio.sleep(1.05)
        assert (await client.get("/v3/scopes", headers=bearer(keys.default))).status_code == 200


async def test_limits_per_family_and_off(db: Database, settings: Settings, keys: Keys) -> None:
    async with client_with(db, settings, rate_limits={"scopes": 1, "api_keys": 0}) as client:
        await client.get("/v3/scopes", headers=bearer(keys.default))
        assert (await client.get("/v3/scopes", headers=bearer(keys.default))).status_code == 429
        unlimited = await client.get("/v3/api_keys", headers=bearer(keys.default))
        assert unlimited.status_code == 200
        assert "x-ratelimit-limit" not in unlimited.headers
        assert _usage(await client.get("/v3/subusers", headers=bearer(keys.default)))[0] == 600
    async with client_with(db, settings, rate_limit=0) as client:
        assert "x-ratelimit-limit" not in (await client.get("/v3/scopes", headers=bearer(keys.default))).headers


async def test_concurrent_requests_are_counted_exactly(db: Database, settings: Settings, keys: Keys) -> None:
    async with client_with(db, settings, rate_limit=10) as client:
        answers = await asyncio.gather(*(client.get("/v3/scopes", headers=bearer(keys.default)) for _ in range(25)))
    assert sorted(a.status_code for a in answers) == [200] * 10 + [429] * 15
