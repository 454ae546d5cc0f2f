"""An app over ASGI transport with settings that differ from the `settings` fixture's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app


@asynccontextmanager
async def client_with(db: Database, settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=changes), database=db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as http:
        yield http
