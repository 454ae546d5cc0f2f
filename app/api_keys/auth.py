"""Authenticate `Authorization: Bearer SG...` (+ `On-Behalf-Of`) into a Principal: one SELECT, then cached."""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, bindparam, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, aliased

from app.accounts import state as account_state
from app.accounts.models import Account
from app.accounts.state import Capability
from app.api_keys import credentials
from app.api_keys.models import ApiKey
from app.kernel.db.base import table_of, utcnow
from app.kernel.db.session import Database
from app.kernel.errors import BAD_CREDENTIALS, INVALID_GRANT, NO_CREDENTIALS, Forbidden, Unauthorized
from app.kernel.principal import Principal

_TOUCH_SECONDS = 60.0
_ACCOUNT_ID_PREFIX = "account-id "


def bearer_token(authorization: str | None) -> str:
    """The token of a Bearer header; 401 with SendGrid's wording otherwise."""
    if authorization is None:
        raise Unauthorized(NO_CREDENTIALS)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(BAD_CREDENTIALS)
    return token


def authenticate(db: Database, authorization: str | None, on_behalf_of: str | None = None) -> Principal:
    """The principal of a request: the key (cached briefly), then the account it acts for."""
    principal = key_principal(db, authorization)
    if on_behalf_of and on_behalf_of.strip():
        with db.read_session() as session:
            return _impersonate(session, principal, on_behalf_of.strip())
    return principal


def key_principal(db: Database, authorization: str | None) -> Principal:
    parsed = credentials.parse_key(bearer_token(authorization))
    if parsed is None:
        raise Unauthorized(BAD_CREDENTIALS)
    principal = _cache.get(parsed.digest)
    if principal is None:
        principal = _load(db, parsed)
        _cache.put(parsed.digest, principal)
    _touch(db, principal.key_id)
    return principal


_PARENT = aliased(Account)
_KEY_QUERY = (
    select(
        ApiKey.id, ApiKey.digest, ApiKey.scopes, ApiKey.active, Account.id.label("account_id"), Account.kind,
        Account.state, Account.disabled, _PARENT.state.label("parent_state"),
    )
    .join(Account, ApiKey.account_id == Account.id)
    .outerjoin(_PARENT, (_PARENT.id == Account.parent_id) & (Account.kind == "subuser"))
    .where(ApiKey.id == bindparam("key_id"))
)  # fmt: skip


def _load(db: Database, parsed: credentials.ParsedKey) -> Principal:
    """One SELECT: the key, its account and (for subusers) the parent's state."""
    with db.reader.connect() as conn:
        row = conn.execute(_KEY_QUERY, {"key_id": parsed.key_id}).first()
    if row is None or not credentials.digests_match(row.digest, parsed.digest):
        raise Unauthorized(INVALID_GRANT)
    states = [row.state] if row.parent_state is None else [row.state, row.parent_state]
    # A subuser's keys follow its parent's state as well as its own, and stop while it is disabled.
    usable = row.active and not row.disabled
    if not usable or not all(account_state.allows(state, Capability.USE_API_KEYS) for state in states):
        raise Unauthorized(INVALID_GRANT)
    return Principal(
        key_id=row.id,
        key_account_id=row.account_id,
        account_id=row.account_id,
        account_kind=row.kind,
        account_state=row.state,
        scopes=frozenset(row.scopes),
        parent_state=row.parent_state,
    )


class _PrincipalCache:
    """Authenticated keys for a second; any commit that changes keys or accounts empties it at once.

    Other processes learn of a revocation within `ttl` seconds (SendGrid itself documents a delay).
    """

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[digest] = (time.monotonic(), principal)

    def clear(self) -> None:
        self._entries.clear()


_cache = _PrincipalCache(ttl=1.0)
_last_touch: dict[str, float] = {}


def invalidate_cache() -> None:
    _cache.clear()


def _touch(db: Database, key_id: str) -> None:
    """Record `last_used_at` at most once a minute per key, without making the request wait for it."""
    now = time.monotonic()
    if now - _last_touch.get(key_id, -_TOUCH_SECONDS) < _TOUCH_SECONDS:
        return
    _last_touch[key_id] = now
    db.writer.run_later(partial(_touch_job, key_id=key_id, moment=utcnow()))


def _touch_job(conn: Connection, *, key_id: str, moment: datetime) -> None:
    keys = table_of(ApiKey)
    conn.execute(update(keys).where(keys.c.id == key_id).values(last_used_at=moment))


@event.listens_for(Session, "after_flush")
def _note_changed_rows(session: Session, _context: object) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, (ApiKey, Account)) for row in touched):
        session.info["auth_stale"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        state.session.info["auth_stale"] = True


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if session.info.pop("auth_stale", False):
        invalidate_cache()


def _impersonate(session: Session, principal: Principal, on_behalf_of: str) -> Principal:
    """Act for a subuser (by username) or, for partners, a customer account (`account-id <id>`)."""
    if on_behalf_of.lower().startswith(_ACCOUNT_ID_PREFIX):
        target_id = on_behalf_of[len(_ACCOUNT_ID_PREFIX) :].strip()
        target = session.get(Account, target_id)
        allowed = principal.is_partner and target is not None and target.kind == "customer"
    else:
        target = session.scalar(select(Account).where(Account.username == on_behalf_of, Account.kind == "subuser"))
        allowed = target is not None
    if not allowed or target is None or target.parent_id != principal.account_id:
        raise Forbidden()
    return Principal(
        key_id=principal.key_id,
        key_account_id=principal.key_account_id,
        account_id=target.id,
        account_kind=target.kind,
        account_state=target.state,
        scopes=principal.scopes,
        # The caller is the target's parent: a subuser also acts within the caller's state.
        parent_state=principal.account_state if target.kind == "subuser" else None,
    )
