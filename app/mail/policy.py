"""What the ingest path asks before it stores a message: is every `from` a verified sender identity, and
does the plan's daily quota have room. Both transports (HTTP, SMTP) get it through `app.mail.service.accept`.

Per account the mirror keeps a small "sending profile" (verified addresses, validated domains, daily cap)
for a second, so the mail hot path costs a dictionary lookup; a refusal is re-checked against the database
first, so a sender verified a moment ago in another process is never refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import Connection, select

from app.accounts.models import Account
from app.identity.models import AuthenticatedDomain, VerifiedSender
from app.kernel import local_caches
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.kernel.errors import SenderNotVerified
from app.kernel.principal import Principal
from app.mail.message import OutboundMessage
from app.quotas import plans
from app.quotas import service as quotas

Check = Callable[[Connection], None]

_TTL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """The switches of the send checks (from settings; system mail turns both off)."""

    require_verified_sender: bool = True
    enforce_quota: bool = True


SYSTEM = SendPolicy(require_verified_sender=False, enforce_quota=False)


def from_settings(settings: Settings) -> SendPolicy:
    return SendPolicy(require_verified_sender=settings.require_verified_sender)


@dataclass(frozen=True, slots=True)
class SendingProfile:
    senders: frozenset[str]
    domains: frozenset[str]
    # A subuser spends its parent's plan.
    quota_account_id: str
    daily_cap: int | None

    def allows(self, address: str) -> bool:
        email = address.lower()
        return email in self.senders or email.rpartition("@")[2] in self.domains


_profiles: dict[tuple[str, str], tuple[float, SendingProfile]] = {}


def profile(db: Database, account_id: str, *, fresh: bool = False) -> SendingProfile:
    """The account's sending profile, at most a second old unless `fresh`."""
    key = (db.url, account_id)
    cached = _profiles.get(key)
    if not fresh and cached is not None and time.monotonic() - cached[0] < _TTL_SECONDS:
        return cached[1]
    with db.reader.connect() as conn:
        loaded = _load(conn, account_id)
    if len(_profiles) > 10_000:
        _profiles.clear()
    _profiles[key] = (time.monotonic(), loaded)
    return loaded


def _load(conn: Connection, account_id: str) -> SendingProfile:
    senders = conn.scalars(
        select(VerifiedSender.email_key).where(VerifiedSender.account_id == account_id, VerifiedSender.verified)
    )
    domains = conn.scalars(
        select(AuthenticatedDomain.domain).where(
            AuthenticatedDomain.account_id == account_id, AuthenticatedDomain.valid
        )
    )
    account = conn.execute(select(Account.kind, Account.parent_id, Account.offerings).where(Account.id == account_id))
    row = account.first()
    quota_account_id, offerings = account_id, list(row.offerings) if row is not None else []
    if row is not None and row.kind == "subuser" and row.parent_id is not None:
        quota_account_id = row.parent_id
        offerings = list(conn.scalar(select(Account.offerings).where(Account.id == row.parent_id)) or [])
    return SendingProfile(frozenset(senders), frozenset(domains), quota_account_id, plans.daily_cap(offerings))


def forget() -> None:
    _profiles.clear()


local_caches.register(forget)


def check(
    db: Database, principal: Principal, message: OutboundMessage, policy: SendPolicy, *, day: date
) -> Check | None:
    """Refuse an unverified `from` (SenderNotVerified); return the quota reservation for the writer, if any."""
    if not policy.require_verified_sender and not policy.enforce_quota:
        return None
    current = profile(db, principal.account_id)
    if policy.require_verified_sender:
        current = _require_verified(db, principal.account_id, message, current)
    if not policy.enforce_quota or message.sandbox or current.daily_cap is None:
        return None
    return partial(
        quotas.reserve,
        account_id=current.quota_account_id,
        day=day,
        count=message.recipient_count,
        cap=current.daily_cap,
    )


def _require_verified(
    db: Database, account_id: str, message: OutboundMessage, current: SendingProfile
) -> SendingProfile:
    addresses = {message.from_for(p).email for p in message.personalizations} | {message.from_.email}
    if all(current.allows(address) for address in addresses):
        return current
    current = profile(db, account_id, fresh=True)
    if not all(current.allows(address) for address in addresses):
        raise SenderNotVerified(field="from")
    return current


def chain(*checks: Check | None) -> Check | None:
    """One writer check running `checks` in order (a reservation must come last: it writes)."""
    present = [c for c in checks if c is not None]
    if len(present) <= 1:
        return present[0] if present else None

    def run_all(conn: Connection) -> None:
        for one in present:
            one(conn)

    return run_all
