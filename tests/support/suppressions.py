"""Helpers for suppression tests: put entries on an account's lists as the delivery path does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.api_keys import credentials
from app.api_keys.models import ApiKey
from app.kernel.db.session import Database
from app.suppressions import service as suppressions

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def account_of(db: Database, key: str) -> str:
    """The account a raw API key belongs to."""
    parsed = credentials.parse_key(key)
    assert parsed is not None
    with db.engine.connect() as conn:
        account_id = conn.scalar(select(ApiKey.account_id).where(ApiKey.id == parsed.key_id))
    assert account_id is not None
    return account_id


def seed(db: Database, key: str, kind: str, email: str, *, at: datetime = T0, **details: Any) -> None:
    """Put `email` on the key's account's `kind` list through `suppressions.add`."""
    account_id = account_of(db, key)
    with db.engine.begin() as conn:
        suppressions.add(conn, account_id, kind, email, created=at, **details)


def error(message: str, field: str | None = None) -> dict[str, Any]:
    """A family A' error body."""
    return {"errors": [{"field": field, "message": message}]}
