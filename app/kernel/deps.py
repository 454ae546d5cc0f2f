"""Dependencies shared by the routes: the request's unit of work and the authenticated principal."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from app.api_keys import auth
from app.kernel import json_input, row_ids
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, Forbidden, Unauthorized
from app.kernel.principal import Principal
from app.quotas import edge as rate_limit

bearer_scheme = HTTPBearer(auto_error=False, description="SendGrid API key: `Authorization: Bearer SG...`")


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent (scope="function")."""
    db: Database = request.app.state.db
    with db.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_read_session(request: Request) -> Iterator[Session]:
    """A read-only unit of work on the read engine, ended before the response is sent."""
    db: Database = request.app.state.db
    with db.read_session() as session:
        yield session


# For routes that only read, and may read for long (searches over the stored mail): on SQLite a SessionDep
# takes the write lock at its first query and would hold up every send and background pass for the search.
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


async def get_principal(
    request: Request,
    _bearer: Annotated[Any, Security(bearer_scheme)] = None,
    on_behalf_of: Annotated[str | None, Header(description="Subuser username, or `account-id <id>`")] = None,
) -> Principal:
    # On the event loop: a cache hit costs microseconds, a miss one indexed SELECT.
    principal = auth.authenticate(request.app.state.db, request.headers.get("authorization"), on_behalf_of)
    await rate_limit.enforce(request, principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def scoped(scope: str | None) -> Callable[[Principal], Principal]:
    """A dependency that authenticates and requires `scope` (None: any valid key)."""

    def dependency(principal: PrincipalDep) -> Principal:
        if scope is not None:
            principal.require_scope(scope)
        return principal

    return dependency


async def json_body(request: Request) -> Any:
    """The request body as JSON (None when empty); 400 `Bad Request` when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("Bad Request") from None
    json_input.refuse_nul_characters(raw, value)
    return value


JsonBody = Annotated[Any, Depends(json_body)]


def optional_int(value: str | None, *, field: str, minimum: int = 1, maximum: int | None = None) -> int | None:
    """Parse an integer query parameter with SendGrid-style errors."""
    return row_ids.parse_int(value, field=field, minimum=minimum, maximum=maximum)


def require_admin(request: Request) -> None:
    """Guard for /_mirror/ admin and inspection APIs: the admin token when set, else loopback callers only."""
    token = request.app.state.settings.admin_token
    if token:
        if not presents_admin_token(request.headers.get("authorization"), token):
            raise Unauthorized()
        return
    host = request.client.host if request.client else ""
    if not is_loopback(host):
        raise Forbidden("the mirror admin API is open to loopback callers only; set SGMIRROR_ADMIN_TOKEN")


def presents_admin_token(authorization: str | None, token: str) -> bool:
    """True when the Authorization header is `Bearer <token>` (compared in constant time)."""
    try:
        presented = auth.bearer_token(authorization)
    except Unauthorized:
        return False
    return hmac.compare_digest(presented.encode(), token.encode())


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


AdminDep = Depends(require_admin)


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
