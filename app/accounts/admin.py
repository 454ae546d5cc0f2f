"""The mirror's admin view of accounts: list them and set any state, as SendGrid's compliance would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts import state as account_state
from app.accounts.models import Account
from app.accounts.state import AccountState
from app.ips import service as ips
from app.ips.models import IpAddress, IpSubuser
from app.kernel.errors import BadRequest


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account with its IPs (owned ones, or for a subuser the parent IPs assigned to it)."""

    account: Account
    ips: list[str]


def list_accounts(session: Session) -> list[AccountView]:
    return _views(session, list(session.scalars(select(Account).order_by(Account.created_at, Account.id))))


def account_view(session: Session, id_or_username: str) -> AccountView:
    return _views(session, [accounts.find(session, id_or_username)])[0]


def set_state(session: Session, id_or_username: str, body: Any) -> AccountView:
    """Any state, suspended and banned included; banned stays terminal."""
    account = accounts.find(session, id_or_username)
    value = body.get("state") if isinstance(body, dict) else None
    target = account_state.parse_state(value) if isinstance(value, str) else None
    if target is None:
        raise BadRequest(f"state must be one of {', '.join(s.value for s in AccountState)}", field="state")
    accounts.set_state(session, account, target)
    return _views(session, [account])[0]


def _views(session: Session, rows: list[Account]) -> list[AccountView]:
    ids = [row.id for row in rows]
    owned = session.execute(select(IpAddress.account_id, IpAddress.ip).where(IpAddress.account_id.in_(ids)))
    assigned = session.execute(select(IpSubuser.subuser_id, IpSubuser.ip).where(IpSubuser.subuser_id.in_(ids)))
    by_account: dict[str, list[str]] = {}
    for account_id, ip in [*owned, *assigned]:
        by_account.setdefault(account_id, []).append(ip)
    return [AccountView(row, sorted(by_account.get(row.id, []), key=ips.ip_order)) for row in rows]
