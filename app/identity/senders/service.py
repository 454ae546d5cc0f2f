"""Single sender verification: create a sender, email it a link, and mark it verified when the link is followed.

The verification email goes through the one ingest path (`system_mail`), so it is captured like any
message; the link points at the mirror itself (`/_mirror/senders/verify/<token>`). Only the SHA-256 of a
token is stored; a resend (or a new from_email) replaces it, and it expires after 48 hours.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.api_keys import credentials
from app.identity.models import AuthenticatedDomain, VerifiedSender
from app.identity.senders import rules
from app.kernel import row_ids
from app.kernel.db.base import as_utc
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, ErrorDetail, NotFound
from app.kernel.principal import Principal
from app.mail import system as system_mail

TOKEN_TTL = timedelta(hours=48)
SUBJECT = "Please Verify Your Single Sender"
VERIFY_PATH = "/_mirror/senders/verify/"
# Domains whose DMARC policy makes them poor sender identities (the spec's example lists).
SOFT_FAILURES = ("gmail.com",)
HARD_FAILURES = ("yahoo.com",)


@dataclass(frozen=True, slots=True)
class Issued:
    """A sender and, when a verification email is due, the token it must carry."""

    sender: VerifiedSender
    token: str | None


def list_senders(
    session: Session, principal: Principal, *, limit: int | None, last_seen_id: int | None, sender_id: int | None
) -> list[VerifiedSender]:
    """The account's senders, verified or not, by id."""
    query = select(VerifiedSender).where(VerifiedSender.account_id == principal.account_id)
    if last_seen_id is not None:
        query = query.where(VerifiedSender.id > last_seen_id)
    if sender_id is not None:
        query = query.where(VerifiedSender.id == sender_id)
    query = query.order_by(VerifiedSender.id)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def create(session: Session, principal: Principal, body: Any, *, now: datetime) -> Issued:
    """A new, unverified sender and the token of its verification email."""
    fields, errors = rules.validate(body, partial=False)
    accounts.serialize_account_writes(session, principal.account_id)
    if not errors and _taken(session, principal.account_id, fields["from_email"]):
        errors.append(_exists())
    if errors:
        raise BadRequest(details=errors)
    sender = VerifiedSender(account_id=principal.account_id, verified=False, locked=False, **_defaults())
    _assign(sender, fields)
    session.add(sender)
    token = _new_token(sender, now)
    session.flush()
    return Issued(sender, token)


def update(session: Session, principal: Principal, sender_id: str, body: Any, *, now: datetime) -> Issued:
    """Change the given fields; a new from_email must be verified again."""
    sender = get(session, principal, sender_id)
    fields, errors = rules.validate(body, partial=True)
    new_email = fields.get("from_email")
    changes_email = new_email is not None and new_email.lower() != sender.email_key
    if changes_email:
        accounts.serialize_account_writes(session, principal.account_id)
    if not errors and changes_email and new_email and _taken(session, principal.account_id, new_email):
        errors.append(_exists())
    if errors:
        raise BadRequest(details=errors)
    _assign(sender, fields)
    token = None
    if changes_email:
        sender.verified = False
        token = _new_token(sender, now)
    session.flush()
    return Issued(sender, token)


def get(session: Session, principal: Principal, sender_id: str) -> VerifiedSender:
    """One of the account's senders; 404 otherwise."""
    number = row_ids.parse_row_id(sender_id)
    sender = session.get(VerifiedSender, number) if number is not None else None
    if sender is None or sender.account_id != principal.account_id:
        raise NotFound(details=[ErrorDetail("resource not found", "id", error_id=rules.NOT_FOUND_ID)])
    return sender


def delete(session: Session, principal: Principal, sender_id: str) -> None:
    session.delete(get(session, principal, sender_id))
    session.flush()


def reissue(session: Session, principal: Principal, sender_id: str, *, now: datetime) -> Issued:
    """A fresh token for an unverified sender's verification email (the old link stops working)."""
    sender = get(session, principal, sender_id)
    if sender.verified:
        raise BadRequest(details=[ErrorDetail("sender is already verified", "id", error_id=rules.VERIFIED_ID)])
    token = _new_token(sender, now)
    session.flush()
    return Issued(sender, token)


def verify(session: Session, token: str, *, now: datetime, account_id: str | None = None) -> VerifiedSender:
    """Mark the sender of a current token verified (again is fine); 404 for unknown or expired tokens."""
    sender = session.scalar(select(VerifiedSender).where(VerifiedSender.token_digest == credentials.digest(token)))
    expires_at = sender.token_expires_at if sender is not None else None
    usable = sender is not None and expires_at is not None and as_utc(expires_at) > now
    if sender is None or not usable or (account_id is not None and sender.account_id != account_id):
        raise NotFound(details=[ErrorDetail("invalid or expired verification token", "token", error_id=rules.TOKEN_ID)])
    sender.verified = True
    session.flush()
    return sender


def steps_completed(session: Session, principal: Principal) -> tuple[bool, bool]:
    """(a sender is verified, a domain is authenticated and valid) for the account."""
    sender = session.scalar(
        select(VerifiedSender.id).where(VerifiedSender.account_id == principal.account_id, VerifiedSender.verified)
    )
    domain = session.scalar(
        select(AuthenticatedDomain.id).where(
            AuthenticatedDomain.account_id == principal.account_id, AuthenticatedDomain.valid
        )
    )
    return sender is not None, domain is not None


def verification_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{VERIFY_PATH}{token}"


async def send_verification(db: Database, issued: Issued, *, base_url: str) -> None:
    """Email the verification link to the sender's from_email (call it after the sender is committed)."""
    if issued.token is None:
        return
    sender = issued.sender
    link = verification_link(base_url, issued.token)
    text = (
        f"Hello {sender.from_name or sender.nickname},\n\n"
        f"Please verify {sender.from_email} as a single sender by following this link:\n\n{link}\n\n"
        f"The link expires in {int(TOKEN_TTL.total_seconds() // 3600)} hours.\n"
    )
    markup = (
        f"<p>Please verify <strong>{html.escape(sender.from_email)}</strong> as a single sender.</p>"
        f'<p><a href="{html.escape(link)}">Verify Single Sender</a></p>'
    )
    letter = system_mail.Letter(sender.from_email, SUBJECT, text, markup, sender.account_id)
    await system_mail.send(db, letter)


def seed_verified(session: Session, *, account_id: str, entry: dict[str, Any]) -> VerifiedSender:
    """A verified sender from a seed file entry (`from_email` required; the rest defaults from it)."""
    email = str(entry["from_email"])
    found = session.scalar(
        select(VerifiedSender).where(VerifiedSender.account_id == account_id, VerifiedSender.email_key == email.lower())
    )
    fields = {"nickname": email, "reply_to": email, **{k: str(v) for k, v in entry.items() if k in rules.LIMITS}}
    sender = found or VerifiedSender(account_id=account_id, locked=False, **_defaults())
    _assign(sender, fields)
    sender.verified = True
    session.add(sender)
    session.flush()
    return sender


def _defaults() -> dict[str, str]:
    return {name: "" for name in rules.LIMITS if name not in rules.REQUIRED}


def _assign(sender: VerifiedSender, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        setattr(sender, name, value)
    sender.email_key = sender.from_email.lower()


def _new_token(sender: VerifiedSender, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    sender.token_digest = credentials.digest(token)
    sender.token_expires_at = now + TOKEN_TTL
    return token


def _taken(session: Session, account_id: str, email: str) -> bool:
    found = session.scalar(
        select(VerifiedSender.id).where(
            VerifiedSender.account_id == account_id, VerifiedSender.email_key == email.lower()
        )
    )
    return found is not None


def _exists() -> ErrorDetail:
    return ErrorDetail("a sender with this from_email already exists", "from_email", error_id=rules.EXISTS_ID)
