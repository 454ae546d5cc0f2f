"""Console sign-in: one-time SSO codes (60 s) and browser sessions, each asked of the state matrix."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import Account, ConsoleSession, SsoCode
from app.domain import account_state, credentials
from app.domain.account_state import Capability
from app.errors import BadRequest

SSO_CODE_TTL = timedelta(seconds=60)
SESSION_TTL = timedelta(hours=8)
INVALID_LINK = "This sign-in link is invalid, has expired or was already used."


def issue_sso_code(session: Session, account: Account) -> str:
    """A single-use code that signs the account in within 60 seconds; only its digest is kept."""
    now = utcnow()
    session.execute(delete(SsoCode).where(SsoCode.expires_at <= now))
    code = secrets.token_urlsafe(32)
    session.add(SsoCode(digest=credentials.digest(code), account_id=account.id, expires_at=now + SSO_CODE_TTL))
    session.flush()
    return code


def redeem_sso_code(session: Session, code: str | None) -> str:
    """Use up a code and open a session; the code is spent even when the state refuses login."""
    account_id = None
    if code:
        spent = delete(SsoCode).where(SsoCode.digest == credentials.digest(code), SsoCode.expires_at > utcnow())
        account_id = session.execute(spent.returning(SsoCode.account_id)).scalar_one_or_none()
    account = session.get(Account, account_id) if account_id else None
    if account is None:
        raise BadRequest(INVALID_LINK)
    account_state.require(account.state, Capability.LOGIN)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ConsoleSession(
            digest=credentials.digest(token), account_id=account.id, created_at=now, expires_at=now + SESSION_TTL
        )
    )
    session.flush()
    return token


def signed_in(session: Session, token: str | None) -> Account | None:
    """The account of a live console session, if its state still allows login (else CapabilityDenied)."""
    if not token:
        return None
    account = session.scalar(
        select(Account)
        .join(ConsoleSession, ConsoleSession.account_id == Account.id)
        .where(ConsoleSession.digest == credentials.digest(token), ConsoleSession.expires_at > utcnow())
    )
    if account is not None:
        account_state.require(account.state, Capability.LOGIN)
    return account
