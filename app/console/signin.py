"""Console sign-in: passwords (throttled), one-time SSO codes and browser sessions, each asked of the matrix.

Argon2 takes about 250 ms, so passwords are checked between a read session and a short write session:
on SQLite a write session holds the database's write lock, which mail ingest needs too.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.accounts import passwords
from app.accounts import state as account_state
from app.accounts.models import Account
from app.accounts.state import AccountState, Capability
from app.api_keys import credentials
from app.console import throttle as login_throttle
from app.console.models import ConsoleSession, ConsoleSignup, SsoCode
from app.kernel.db.base import utcnow
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, CapabilityDenied, ErrorDetail, Forbidden, Unauthorized

SSO_CODE_TTL = timedelta(seconds=60)
SESSION_TTL = timedelta(hours=8)
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
INVALID_LINK = "This sign-in link is invalid, has expired or was already used."
INVALID_CREDENTIALS = "Your username or password is invalid."
UNCONFIRMED = "Please confirm your email address first: follow the link we sent to {email}."
WRONG_ADMIN_TOKEN = "That is not the admin token."
NO_ADMIN_TOKEN = "No admin token is set: loopback visitors are admins."
NOT_AUTHORIZED = account_state.RULES[AccountState.DEACTIVATED].denial
# Accounts that exist for the mirror's own use (see app.mail.system) never sign in.
NO_SIGN_IN_KINDS = frozenset({"system"})


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live console session: its account and, for a subuser, the parent whose state also applies."""

    account: Account
    parent: Account | None


@cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so that an answer takes as long either way."""
    return passwords.hash_password(secrets.token_urlsafe(16))


def _password_matches(password: str, hashed: str | None) -> bool:
    return passwords.verify_password(password, hashed or _dummy_hash()) and hashed is not None


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
    require_login(session, account)
    return open_session(session, account)


def require_login(session: Session, account: Account) -> None:
    """CapabilityDenied unless the matrix lets the account (and a subuser's parent) sign in."""
    if account.kind in NO_SIGN_IN_KINDS or account.disabled:
        raise CapabilityDenied(NOT_AUTHORIZED)
    account_state.require(account.state, Capability.LOGIN)
    parent = _parent(session, account)
    if parent is not None:
        account_state.require(parent.state, Capability.LOGIN)


def _parent(session: Session, account: Account) -> Account | None:
    return session.get(Account, account.parent_id) if account.kind == "subuser" and account.parent_id else None


def open_session(session: Session, account: Account) -> str:
    """A new browser session; the token goes in the cookie, its digest in the database."""
    now = utcnow()
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            digest=credentials.digest(token), account_id=account.id, created_at=now, expires_at=now + SESSION_TTL
        )
    )
    session.flush()
    return token


def session_account(session: Session, token: str | None) -> SignedIn | None:
    """The account of a live session (not yet asked of the matrix), or None."""
    if not token:
        return None
    account = session.scalar(
        select(Account)
        .join(ConsoleSession, ConsoleSession.account_id == Account.id)
        .where(ConsoleSession.digest == credentials.digest(token), ConsoleSession.expires_at > utcnow())
    )
    return None if account is None else SignedIn(account, _parent(session, account))


def end_session(session: Session, token: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.digest == credentials.digest(token)))


def log_in(db: Database, *, username: str, password: str, client: str) -> str:
    """Check the throttle, the password and the matrix; a new session token, or the refusal."""
    now = utcnow()
    throttle_keys = login_throttle.keys(username, client)
    with db.read_session() as session:
        login_throttle.require_open(session, throttle_keys, now)
        account = _by_username(session, username)
        pending = None if account else _pending_signup(session, username)
        hashed = account.password_hash if account else (pending.password_hash if pending else None)
    if not _password_matches(password, hashed):
        with db.session() as session:
            login_throttle.record_failure(session, throttle_keys, now)
        raise Unauthorized(INVALID_CREDENTIALS)
    if account is None:
        assert pending is not None
        raise Forbidden(UNCONFIRMED.format(email=pending.email))
    with db.session() as session:
        found = session.get(Account, account.id)
        if found is None:
            raise Unauthorized(INVALID_CREDENTIALS)
        require_login(session, found)
        login_throttle.clear(session, throttle_keys[0])
        return open_session(session, found)


def check_admin_token(db: Database, *, given: str, expected: str | None, client: str) -> str:
    """The admin token when `given` is it; Forbidden for a wrong one (counted per client address), 429 while locked."""
    if not expected:
        raise Forbidden(NO_ADMIN_TOKEN)
    now = utcnow()
    throttle_keys = login_throttle.admin_keys(client)
    with db.read_session() as session:
        login_throttle.require_open(session, throttle_keys, now)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        with db.session() as session:
            login_throttle.record_failure(session, throttle_keys, now)
        raise Forbidden(WRONG_ADMIN_TOKEN)
    with db.session() as session:
        login_throttle.clear(session, throttle_keys[0])
    return expected


def _by_username(session: Session, username: str) -> Account | None:
    account = session.scalar(select(Account).where(Account.username == username.strip()))
    return None if account is None or account.kind in NO_SIGN_IN_KINDS else account


def _pending_signup(session: Session, username: str) -> ConsoleSignup | None:
    query = select(ConsoleSignup).where(ConsoleSignup.username == username.strip(), ConsoleSignup.expires_at > utcnow())
    return session.scalar(query.order_by(ConsoleSignup.created_at.desc()).limit(1))


def password_problems(password: str, confirm: str, *, field: str = "password") -> list[ErrorDetail]:
    """What is wrong with a new password (and its confirmation)."""
    problems = []
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        limits = f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH}"
        problems.append(ErrorDetail(f"Your password must be {limits} characters long.", field))
    if password != confirm:
        problems.append(ErrorDetail("The passwords do not match.", f"{field}_confirm"))
    return problems


def change_password(db: Database, *, account_id: str, token: str, current: str, new: str, confirm: str) -> None:
    """Set a new password after checking the current one; other sessions end, API keys stay as they are."""
    problems = password_problems(new, confirm, field="new_password")
    with db.read_session() as session:
        account = session.get(Account, account_id)
        hashed = account.password_hash if account else None
    if not _password_matches(current, hashed):
        problems.insert(0, ErrorDetail("Your current password is not correct.", "current_password"))
    if problems:
        raise BadRequest(details=problems)
    new_hash = passwords.hash_password(new)
    with db.session() as session:
        set_password(session, account_id=account_id, password_hash=new_hash, keep_token=token)


def set_password(session: Session, *, account_id: str, password_hash: str, keep_token: str | None) -> None:
    """Store a password hash and end the account's other console sessions (keys are separate credentials)."""
    account = session.get(Account, account_id)
    if account is None:
        raise BadRequest(INVALID_LINK)
    account.password_hash = password_hash
    others = delete(ConsoleSession).where(ConsoleSession.account_id == account_id)
    if keep_token is not None:
        others = others.where(ConsoleSession.digest != credentials.digest(keep_token))
    session.execute(others)
    session.flush()
