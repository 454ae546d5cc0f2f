"""Console throttling: the admin-token form counts wrong tokens per client address and locks it, as sign-in does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.console.models import LoginThrottle
from app.kernel.config import Settings
from app.kernel.db.base import utcnow
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import Keys
from tests.support.console import submit

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-admin"
LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes."
Browser = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app(db: Database, scratch_dir: Path) -> FastAPI:
    settings = Settings(data_dir=scratch_dir / "data", admin_token=TOKEN, trusted_hosts="mirror.test")
    return create_app(settings, database=db)


@pytest.fixture
def browser(app: FastAPI) -> Browser:
    """A browser at a given client address."""

    @asynccontextmanager
    async def at(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as http:
            yield http

    return at


async def test_ten_wrong_tokens_lock_the_address_even_for_the_right_one(
    browser: Browser, keys: Keys, db: Database
) -> None:
    async with browser("203.0.113.5") as guesser:
        for n in range(10):
            wrong = await submit(guesser, "/console/admin", {"token": f"guess-{n}"})
            assert wrong.status_code == 403
            assert "That is not the admin token." in wrong.text
        locked = await submit(guesser, "/console/admin", {"token": TOKEN})
        assert locked.status_code == 429
        assert LOCKED in locked.text
        assert locked.headers["content-type"].startswith("text/html")
        assert "sgmirror_console_admin" not in locked.headers.get("set-cookie", "")

        async with browser("203.0.113.6") as other:
            opened = await submit(other, "/console/admin", {"token": TOKEN})
            assert (opened.status_code, opened.headers["location"]) == (303, "/console/all-mail")

        with db.session() as session:
            session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
        opened = await submit(guesser, "/console/admin", {"token": TOKEN})
        assert opened.status_code == 303


async def test_the_right_token_clears_the_addresss_count(browser: Browser, keys: Keys, db: Database) -> None:
    async with browser("203.0.113.8") as admin:
        for _ in range(9):
            assert (await submit(admin, "/console/admin", {"token": "typo"})).status_code == 403
        assert (await submit(admin, "/console/admin", {"token": TOKEN})).status_code == 303
        with db.read_session() as session:
            assert session.get(LoginThrottle, "admin:203.0.113.8") is None
        assert (await submit(admin, "/console/admin", {"token": "typo"})).status_code == 403


async def test_a_very_long_username_is_counted_not_a_server_error(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await submit(client, "/console/login", {"username": "u" * 1000, "password": "wrong password"})
    assert response.status_code == 401
