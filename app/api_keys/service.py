"""API keys of an account: create (the only time the secret is shown), list, read, rename, replace, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.api_keys import credentials, scopes
from app.api_keys.models import ApiKey
from app.kernel.db.base import utcnow
from app.kernel.errors import BadRequest, ErrorDetail, Forbidden, NotFound
from app.kernel.principal import Principal

MAX_KEYS_PER_ACCOUNT = 100
MAX_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    raw: str


def create(session: Session, principal: Principal, *, name: Any, requested_scopes: Any) -> CreatedKey:
    """A new key for the principal's account; never with scopes the caller's key lacks."""
    clean_name = _valid_name(name)
    granted = _valid_scopes(principal, requested_scopes)
    accounts.serialize_account_writes(session, principal.account_id)
    count = session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.account_id == principal.account_id))
    if (count or 0) >= MAX_KEYS_PER_ACCOUNT:
        raise Forbidden(f"Cannot create more than {MAX_KEYS_PER_ACCOUNT} API keys")
    return add_key(session, account_id=principal.account_id, name=clean_name, key_scopes=granted)


def add_key(
    session: Session, *, account_id: str, name: str, key_scopes: list[str], raw: str | None = None
) -> CreatedKey:
    """Insert a key row (generated, or a verbatim key from bootstrap/seed); returns the raw key once."""
    raw_key = raw or credentials.generate_key()
    parsed = credentials.parse_key(raw_key)
    if parsed is None:
        raise BadRequest("API keys must look like SG.<id>.<secret>", field="api_key")
    key = ApiKey(
        id=parsed.key_id,
        account_id=account_id,
        name=name,
        digest=parsed.digest,
        scopes=key_scopes,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    return CreatedKey(key=key, raw=raw_key)


def list_keys(session: Session, principal: Principal, *, limit: int | None) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.account_id == principal.account_id).order_by(ApiKey.created_at, ApiKey.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def get(session: Session, principal: Principal, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.account_id != principal.account_id:
        raise NotFound()
    return key


def rename(session: Session, principal: Principal, key_id: str, *, name: Any) -> ApiKey:
    """PATCH: the name only; scopes stay as they are."""
    clean_name = _valid_name(name)
    key = get(session, principal, key_id)
    key.name = clean_name
    return key


def replace(session: Session, principal: Principal, key_id: str, *, name: Any, requested_scopes: Any) -> ApiKey:
    """PUT: the name and the whole scope set (no merge)."""
    clean_name = _valid_name(name)
    granted = _valid_scopes(principal, [] if requested_scopes is None else requested_scopes)
    key = get(session, principal, key_id)
    key.name = clean_name
    key.scopes = granted
    return key


def delete(session: Session, principal: Principal, key_id: str) -> None:
    session.delete(get(session, principal, key_id))


def _valid_name(name: Any) -> str:
    if name is None:
        raise BadRequest("missing required argument", field="name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"name must be a string of 1 to {MAX_NAME_LENGTH} characters", field="name")
    return name


def _valid_scopes(principal: Principal, requested: Any) -> list[str]:
    """Omitted scopes mean everything the caller has (full access stops at the caller's own set)."""
    if requested is None:
        return sorted(s for s in principal.scopes if not scopes.is_billing(s)) or sorted(principal.scopes)
    if not isinstance(requested, list) or not all(isinstance(s, str) for s in requested):
        raise BadRequest("scopes must be an array of strings", field="scopes")
    unique = sorted(set(requested))
    known = scopes.grantable_scopes()
    if any(s not in known for s in unique):
        raise BadRequest("one or more of given scopes are invalid", field="scopes")
    if scopes.mixes_billing(unique):
        raise BadRequest("billing scopes cannot be combined with other scopes", field="scopes")
    missing = [s for s in unique if s not in principal.scopes]
    if missing:
        raise Forbidden(details=[ErrorDetail(f"cannot grant scopes your key lacks: {', '.join(missing)}", "scopes")])
    return unique
