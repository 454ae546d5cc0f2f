"""Authenticate `Authorization: Bearer SG...` (+ `On-Behalf-Of`) into a Principal: one SELECT."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import Account, ApiKey
from app.domain import account_state, credentials
from app.domain.account_state import Capability
from app.errors import BAD_CREDENTIALS, INVALID_GRANT, NO_CREDENTIALS, Forbidden, Unauthorized
from app.services.principal import Principal

_LAST_USED_RESOLUTION = timedelta(minutes=1)
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


def authenticate(session: Session, authorization: str | None, on_behalf_of: str | None = None) -> Principal:
    parsed = credentials.parse_key(bearer_token(authorization))
    if parsed is None:
        raise Unauthorized(BAD_CREDENTIALS)
    row = session.execute(
        select(ApiKey, Account).join(Account, ApiKey.account_id == Account.id).where(ApiKey.id == parsed.key_id)
    ).first()
    if row is None:
        raise Unauthorized(INVALID_GRANT)
    key, account = row
    if not credentials.digests_match(key.digest, parsed.digest) or not _key_usable(session, key, account):
        raise Unauthorized(INVALID_GRANT)
    _touch(key)
    principal = _principal(key, account)
    if on_behalf_of and on_behalf_of.strip():
        return _impersonate(session, principal, on_behalf_of.strip())
    return principal


def _key_usable(session: Session, key: ApiKey, account: Account) -> bool:
    if not key.active or not account_state.allows(account.state, Capability.USE_API_KEYS):
        return False
    if account.parent_id is None or account.kind != "subuser":
        return True
    # A subuser's keys follow its parent's state as well as its own.
    parent = session.get(Account, account.parent_id)
    return parent is not None and account_state.allows(parent.state, Capability.USE_API_KEYS)


def _touch(key: ApiKey) -> None:
    now = utcnow()
    last = key.last_used_at
    if last is None or (now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo))) > _LAST_USED_RESOLUTION:
        key.last_used_at = now


def _principal(key: ApiKey, account: Account) -> Principal:
    return Principal(
        key_id=key.id,
        key_account_id=account.id,
        account_id=account.id,
        account_kind=account.kind,
        account_state=account.state,
        scopes=frozenset(key.scopes),
    )


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
    )
