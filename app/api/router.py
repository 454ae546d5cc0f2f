"""The v3 router tree."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import api_keys, mirror

v3 = APIRouter()
v3.include_router(api_keys.router)

mirror_router = APIRouter()
mirror_router.include_router(mirror.router)
