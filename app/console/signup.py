"""Console sign-up with email confirmation, password reset and username reminders, by emailed links.

Each link carries a random token of which only the SHA-256 digest is stored; following it deletes the
row, so a link works once. The emails go through `system_mail` (captured like any other message).
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.accounts import passwords
from app.accounts import service as accounts
from app.accounts.models import Account
from app.api_keys import credentials
from app.console import signin as console_signin
from app.console.models import ConsoleSignup, ConsoleToken
from app.kernel.db.base import as_utc, utcnow
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, ErrorDetail
from app.mail import system as system_mail

SIGNUP_TTL = timedelta(hours=24)
RESET_TTL = timedelta(hours=1)
RESET = "reset"
# A sign-up gets SendGrid's free plan, as on the real service.
FREE_PLAN = [{"name": "org.ei.free.v1", "type": "package", "quantity": 1}]
INVALID_LINK = "This link is invalid, has expired or was already used."
USERNAME_TAKEN = "That username is already taken."
_USERNAME = re.compile(r"[A-Za-z0-9@._+-]{3,64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_RESERVED = ("sgmirror", "system")


@dataclass(frozen=True, slots=True)
class SignupForm:
    username: str
    email: str
    password: str
    password_confirm: str


def signup_problems(session: Session, form: SignupForm) -> list[ErrorDetail]:
    """Everything wrong with a sign-up form, reported together."""
    problems = []
    if not _USERNAME.fullmatch(form.username) or form.username.lower().startswith(_RESERVED):
        problems.append(ErrorDetail("Usernames are 3 to 64 letters, digits or . _ - + @.", "username"))
    elif accounts.by_username(session, form.username) is not None:
        problems.append(ErrorDetail(USERNAME_TAKEN, "username"))
    if len(form.email) > 320 or not _EMAIL.fullmatch(form.email):
        problems.append(ErrorDetail("Enter a valid email address.", "email"))
    return problems + console_signin.password_problems(form.password, form.password_confirm)


def _store_signup(db: Database, form: SignupForm) -> tuple[str, str]:
    with db.read_session() as session:
        problems = signup_problems(session, form)
    if problems:
        raise BadRequest(details=problems)
    password_hash = passwords.hash_password(form.password)
    token, now = secrets.token_urlsafe(32), utcnow()
    with db.session() as session:
        session.execute(delete(ConsoleSignup).where(ConsoleSignup.expires_at <= now))
        account_id = credentials.new_account_id()
        session.add(
            ConsoleSignup(
                digest=credentials.digest(token), account_id=account_id, username=form.username,
                email=form.email, password_hash=password_hash, created_at=now, expires_at=now + SIGNUP_TTL,
            )
        )  # fmt: skip
    return token, account_id


async def sign_up(db: Database, form: SignupForm, *, base_url: str) -> None:
    """Keep the sign-up pending and email its confirmation link; no account exists yet."""
    token, account_id = await run_in_threadpool(_store_signup, db, form)
    link = _link(base_url, "/console/signup/confirm", token)
    await system_mail.send(
        db,
        _letter(
            form.email, account_id, "Please confirm your email address",
            f"Welcome to SendGrid, {form.username}! Confirm your email address to activate your account.",
            link, "Confirm email address", f"The link expires in {_hours(SIGNUP_TTL)}.",
        ),
    )  # fmt: skip


def confirm_signup(session: Session, token: str | None) -> Account:
    """Spend a confirmation token and create the account (activated, free plan)."""
    signup = _spend(session, ConsoleSignup, token)
    if not isinstance(signup, ConsoleSignup):
        raise BadRequest(INVALID_LINK)
    if accounts.by_username(session, signup.username) is not None:
        raise BadRequest(f"The username {signup.username} was taken before this link was followed: sign up again.")
    return accounts.create_account(
        session, kind="customer", username=signup.username, email=signup.email,
        password_hash=signup.password_hash, offerings=[dict(o) for o in FREE_PLAN], account_id=signup.account_id,
    )  # fmt: skip


def _spend(
    session: Session, model: type[ConsoleSignup] | type[ConsoleToken], token: str | None
) -> ConsoleSignup | ConsoleToken | None:
    """Delete and return the live row of a link token (None when unknown, expired or used)."""
    if not token:
        return None
    row = session.get(model, credentials.digest(token))
    if not isinstance(row, ConsoleSignup | ConsoleToken) or _expired(row):
        return None
    session.delete(row)
    session.flush()
    return row


def _expired(row: ConsoleSignup | ConsoleToken) -> bool:
    return as_utc(row.expires_at) <= utcnow()


def _reset_target(db: Database, username: str) -> tuple[str, str, str] | None:
    """Store a reset token for the account, if it exists and has an email address."""
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username.strip()))
        if account is None or not account.email or account.kind in console_signin.NO_SIGN_IN_KINDS:
            return None
        now = utcnow()
        session.execute(delete(ConsoleToken).where(ConsoleToken.expires_at <= now))
        token = secrets.token_urlsafe(32)
        session.add(
            ConsoleToken(
                digest=credentials.digest(token), purpose=RESET, account_id=account.id, expires_at=now + RESET_TTL
            )
        )
        return token, account.id, account.email


async def request_reset(db: Database, *, username: str, base_url: str) -> None:
    """Email a single-use reset link to the account's address; the same answer whether or not it exists."""
    target = await run_in_threadpool(_reset_target, db, username)
    if target is None:
        return
    token, account_id, email = target
    link = _link(base_url, "/console/reset-password", token)
    await system_mail.send(
        db,
        _letter(
            email, account_id, "Reset your password",
            f"Someone asked to reset the password of the SendGrid account {username.strip()}.",
            link, "Choose a new password",
            f"The link works once and expires in {_hours(RESET_TTL)}. If you did not ask, ignore this email.",
        ),
    )  # fmt: skip


def reset_token_is_live(session: Session, token: str | None) -> bool:
    row = session.get(ConsoleToken, credentials.digest(token)) if token else None
    return row is not None and row.purpose == RESET and not _expired(row)


def reset_password(db: Database, *, token: str | None, password: str, confirm: str) -> None:
    """Spend the reset token and set the password; the account's console sessions end, its keys stay."""
    with db.read_session() as session:
        live = reset_token_is_live(session, token)
    if not live:
        raise BadRequest(INVALID_LINK)
    problems = console_signin.password_problems(password, confirm)
    if problems:
        raise BadRequest(details=problems)
    password_hash = passwords.hash_password(password)
    with db.session() as session:
        row = _spend(session, ConsoleToken, token)
        if not isinstance(row, ConsoleToken) or row.purpose != RESET:
            raise BadRequest(INVALID_LINK)
        console_signin.set_password(session, account_id=row.account_id, password_hash=password_hash, keep_token=None)


def _username_targets(db: Database, email: str) -> list[tuple[str, str, str]]:
    with db.read_session() as session:
        rows = session.scalars(
            select(Account)
            .where(func.lower(Account.email) == email.strip().lower(), Account.username.is_not(None))
            .order_by(Account.created_at)
        )
        return [(a.id, a.username or "", a.email or "") for a in rows if a.kind not in console_signin.NO_SIGN_IN_KINDS]


async def remind_username(db: Database, *, email: str, base_url: str) -> None:
    """Email each account using the address its username; the same answer whether or not one exists."""
    for account_id, username, address in await run_in_threadpool(_username_targets, db, email):
        login = f"{base_url.rstrip('/')}/console/login?{urlencode({'username': username})}"
        await system_mail.send(
            db,
            _letter(
                address, account_id, "Your SendGrid username",
                f"The username of the SendGrid account that uses this email address is: {username}",
                login, "Sign in", "If you did not ask for this reminder, you can ignore this email.",
            ),
        )  # fmt: skip


def _link(base_url: str, path: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def _hours(ttl: timedelta) -> str:
    hours = int(ttl.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _letter(to: str, account_id: str, subject: str, lead: str, link: str, action: str, note: str) -> system_mail.Letter:
    text = f"{lead}\n\n{action}: {link}\n\n{note}\n\n-- SendGrid Mirror\n"
    button = (
        f'<p><a href="{html.escape(link)}" style="display:inline-block;padding:10px 18px;background:#1a82e2;'
        f'color:#fff;border-radius:4px;text-decoration:none;font-weight:600">{html.escape(action)}</a></p>'
    )
    body = (
        '<!doctype html><html><body style="font-family:Helvetica,Arial,sans-serif;color:#294661;line-height:1.5">'
        f'<h1 style="font-size:20px">{html.escape(subject)}</h1><p>{html.escape(lead)}</p>{button}'
        f'<p style="font-size:13px;color:#546b81">{html.escape(note)}<br>Or paste this link into your browser: '
        f'<a href="{html.escape(link)}">{html.escape(link)}</a></p></body></html>'
    )
    return system_mail.Letter(to=to, subject=subject, text=text, html=body, account_id=account_id)
