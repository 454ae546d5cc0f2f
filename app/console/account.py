"""What the console's account pages show and change, through the same services the API uses.

The signed-in person acts as a full-access principal of their account (they own it), so API keys,
subusers, IPs and a partner's customer states obey exactly the API's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import state as account_state
from app.accounts.models import Account
from app.accounts.partners import service as partners
from app.accounts.state import AccountState, Capability
from app.accounts.subusers import service as subusers
from app.api_keys import scopes
from app.api_keys import service as api_keys
from app.api_keys.models import ApiKey
from app.clock import service as clock
from app.identity.models import AuthenticatedDomain, VerifiedSender
from app.ips import service as ips
from app.kernel.errors import BadRequest
from app.kernel.principal import Principal
from app.quotas import plans
from app.quotas.models import DailySendCount

# How the console names each capability of the state matrix.
CAPABILITY_LABELS: dict[Capability, str] = {
    Capability.LOGIN: "Sign in to the console",
    Capability.SEND_MAIL: "Send mail (API and SMTP)",
    Capability.USE_API_KEYS: "Use API keys",
    Capability.MANAGE_SUBUSERS: "Manage subusers",
    Capability.MANAGE_IPS: "Manage dedicated IPs",
}
ACCESS_LEVELS = ("full", "restricted", "billing")


@dataclass(frozen=True, slots=True)
class StateRow:
    state: str
    allowed: dict[Capability, bool]
    current: bool


@dataclass(frozen=True, slots=True)
class Quota:
    plan: str | None
    cap: int | None
    used: int
    day: date


def principal(account: Account, parent: Account | None = None) -> Principal:
    """The account owner in the console: every scope the account could grant."""
    return Principal(
        key_id="console",
        key_account_id=account.id,
        account_id=account.id,
        account_kind=account.kind,
        account_state=account.state,
        scopes=scopes.grantable_scopes(),
        parent_state=parent.state if parent is not None else None,
    )


def state_matrix(current: str) -> list[StateRow]:
    """Every state with what it allows, the account's own marked."""
    return [
        StateRow(s.value, {c: account_state.allows(s.value, c) for c in Capability}, s.value == current)
        for s in AccountState
    ]


def scope_families() -> list[str]:
    """The first segment of every non-billing scope (`mail`, `api_keys`, ...), for restricted keys."""
    return sorted({s.split(".")[0] for s in scopes.full_access_scopes()})


def requested_scopes(access: str, families: list[str]) -> list[str] | None:
    """The scopes of a key created with an access level (None: full access, as the API's omitted scopes)."""
    if access == "full":
        return None
    if access == "billing":
        return sorted(s for s in scopes.grantable_scopes() if scopes.is_billing(s))
    if access != "restricted" or not families:
        raise BadRequest("Choose at least one permission for a restricted key.", field="families")
    wanted = set(families)
    return [s for s in scopes.full_access_scopes() if s.split(".")[0] in wanted]


def access_of(key: ApiKey) -> str:
    if key.scopes and all(scopes.is_billing(s) for s in key.scopes):
        return "Billing Access"
    return "Full Access" if set(scopes.full_access_scopes()) <= set(key.scopes) else "Restricted Access"


def create_key(
    session: Session, owner: Principal, *, name: str, access: str, families: list[str]
) -> api_keys.CreatedKey:
    return api_keys.create(
        session, owner, name=name.strip() or None, requested_scopes=requested_scopes(access, families)
    )


def list_keys(session: Session, owner: Principal) -> list[ApiKey]:
    return api_keys.list_keys(session, owner, limit=None)


def revoke_key(session: Session, owner: Principal, key_id: str) -> None:
    api_keys.delete(session, owner, key_id)


def list_subusers(session: Session, owner: Principal) -> list[Account]:
    if owner.is_subuser:
        return []
    return subusers.list_subusers(session, owner, username=None, region="all", limit=None, offset=0)


def list_ips(session: Session, owner: Principal) -> list[ips.IpView]:
    return ips.views(session, ips.assigned_ips(session, owner))


def senders(session: Session, account_id: str) -> list[VerifiedSender]:
    query = select(VerifiedSender).where(VerifiedSender.account_id == account_id)
    return list(session.scalars(query.order_by(VerifiedSender.id)))


def domains(session: Session, account_id: str) -> list[AuthenticatedDomain]:
    query = select(AuthenticatedDomain).where(AuthenticatedDomain.account_id == account_id)
    return list(session.scalars(query.order_by(AuthenticatedDomain.id)))


def quota(session: Session, account: Account) -> Quota:
    """The plan's daily cap and what today's sends (mirror clock, UTC day) used of it."""
    today = clock.session_now(session).date()
    used = session.scalar(
        select(DailySendCount.count).where(DailySendCount.account_id == account.id, DailySendCount.day == today)
    )
    package = next((o.get("name") for o in account.offerings if o.get("type") == "package"), None)
    return Quota(plan=package, cap=plans.daily_cap(account.offerings), used=int(used or 0), day=today)


def customers(session: Session, owner: Principal) -> list[Account]:
    """A partner's customer accounts, oldest first."""
    partners.require_partner(owner)
    query = select(Account).where(Account.parent_id == owner.account_id, Account.kind == "customer")
    return list(session.scalars(query.order_by(Account.created_at, Account.id)))


def set_customer_state(session: Session, owner: Principal, account_id: str, state: str) -> None:
    """A partner's state change, with the partner API's rules (activated or deactivated only)."""
    partners.set_state(session, owner, account_id, {"state": state})


def settable_states() -> list[str]:
    return sorted(s.value for s in account_state.PARTNER_SETTABLE)


def describe(account: Account) -> dict[str, Any]:
    """The profile lines of the account page."""
    return {
        "Username": account.username or "—",
        "Email": account.email or "—",
        "Account ID": account.id,
        "User ID": account.user_id or "—",
        "Kind": account.kind,
        "Region": account.region,
        "Created": account.created_at,
    }
