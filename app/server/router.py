"""The mirror's own endpoints under /_mirror/ (not SendGrid's namespace)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.kernel.db.session import Database
from app.kernel.deps import get_database

router = APIRouter(prefix="/_mirror", tags=["Mirror"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=Health)
def health(db: Annotated[Database, Depends(get_database)]) -> Health:
    """Liveness for scripts and tests: the process answers and names its database backend."""
    return Health(status="ok", database=db.engine.dialect.name)
