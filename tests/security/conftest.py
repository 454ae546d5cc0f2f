"""Security tests run against an app whose admin API is closed by a token, on both backends."""

from __future__ import annotations

import secrets

import httpx
import pytest
from fastapi import FastAPI

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import Keys
from tests.security import world as world_module


@pytest.fixture
def admin_token() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def app(db: Database, settings: Settings, admin_token: str) -> FastAPI:
    return create_app(settings.model_copy(update={"admin_token": admin_token}), database=db)


@pytest.fixture
async def world(client: httpx.AsyncClient, db: Database, keys: Keys, admin_token: str) -> world_module.World:
    return await world_module.build(client, db, partner_key=keys.partner, admin_token=admin_token)
