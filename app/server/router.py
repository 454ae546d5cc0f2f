"""The mirror's own endpoints under /_mirror/ (not SendGrid's namespace)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from app.kernel.db import storage
from app.kernel.db.session import Database
from app.kernel.deps import get_database

router = APIRouter(prefix="/_mirror", tags=["Mirror"])


class Health(BaseModel):
    status: str
    database: str
    storage: str | None = None
    detail: str | None = None
    failed_at: datetime | None = None


_HEALTH_RESPONSES: dict[int | str, dict[str, object]] = {
    503: {"model": Health, "description": "The database cannot be written (disk full, read-only)"}
}


@router.get("/health", response_model=Health, response_model_exclude_none=True, responses=_HEALTH_RESPONSES)
async def health(
    db: Annotated[Database, Depends(get_database)],
    response: Response,
    deep: Annotated[bool, Query(description="Probe the database with a real write (else: what was last seen)")] = False,
) -> Health:
    """Liveness and the database: 503 while it cannot be written; `deep=1` proves it with a write."""
    if deep or db.storage.probe_due():
        await storage.probe(db)
    failure = db.storage.failure
    backend = db.engine.dialect.name
    if failure is None:
        return Health(status="ok", database=backend, storage="writable" if deep else None)
    response.status_code = 503
    return Health(
        status="unavailable", database=backend, storage=failure.condition, detail=failure.detail, failed_at=failure.at
    )
