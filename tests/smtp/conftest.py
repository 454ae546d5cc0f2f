"""The SMTP relay as `sgmirror serve` runs it (a real uvicorn whose lifespan starts it on free ports), and
alone on the test's own event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from app.smtp import server as smtp_server
from app.smtp.server import Relay
from tests.conftest import Keys, bearer
from tests.support.server import serve

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Mirror:
    """One running mirror: HTTP base URL, the relay's ports, and its database."""

    base_url: str
    port: int
    tls_port: int
    db: Database
    app: FastAPI

    def get(self, path: str, key: str | None = None, **params: Any) -> httpx.Response:
        return httpx.get(self.base_url + path, params=params, headers=bearer(key) if key else {}, timeout=30)

    def stored(self, message_id: str) -> dict[str, Any]:
        """The inspection API's view of one message."""
        response = self.get(f"/_mirror/messages/{message_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def raw(self, message_id: str, personalization: int = 0) -> bytes:
        response = self.get(f"/_mirror/messages/{message_id}/raw", personalization=personalization)
        assert response.status_code == 200, response.text
        return response.content

    def total(self) -> int:
        total: int = self.get("/_mirror/messages", limit=1).json()["total"]
        return total


@pytest.fixture
def relay_settings(settings: Settings) -> Settings:
    """The relay on, on free loopback ports; sender identity off unless a test turns it on."""
    return settings.model_copy(
        update={"smtp_enabled": True, "smtp_port": 0, "smtps_port": 0, "host": HOST, "require_verified_sender": False}
    )


def run_mirror(db: Database, settings: Settings) -> Iterator[Mirror]:
    app = create_app(settings, database=db)
    with serve(app) as base_url:
        relay: Relay = app.state.smtp
        yield Mirror(base_url, relay.port("smtp"), relay.port("smtps"), db, app)


@pytest.fixture
def mirror(db: Database, relay_settings: Settings, keys: Keys) -> Iterator[Mirror]:
    yield from run_mirror(db, relay_settings)


@pytest.fixture
async def relay(db: Database, relay_settings: Settings, keys: Keys) -> AsyncIterator[Relay]:
    """The relay alone on this test's loop, sharing the `db` fixture's Database and writer."""
    started = await smtp_server.start(relay_settings, db)
    yield started
    await started.close()
