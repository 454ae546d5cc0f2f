"""Accounts: creation, lookup and state changes with their on-enter effects."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.accounts import state as account_state
from app.accounts.models import Account
from app.accounts.partners import rules as provisioning
from app.accounts.state import AccountState, Effect
from app.api_keys import credentials
from app.api_keys.models import ApiKey
from app.ips.models import IpAddress
from app.kernel.errors import BadRequest, NotFound

# SendGrid's numeric user ids look like 7 to 9 digits.
_USER_ID_RANGE = (1_000_000, 999_999_999)


def create_account(
    session: Session,
    *,
    kind: str,
    parent_id: str | None = None,
    username: str | None = None,
    email: str | None = None,
    profile: dict[str, Any] | None = None,
    is_test: bool = False,
    password_hash: str | None = None,
    region: str = "global",
    offerings: list[dict[str, Any]] | None = None,
    account_id: str | None = None,
) -> Account:
    account = Account(
        id=account_id or credentials.new_account_id(),
        kind=kind,
        parent_id=parent_id,
        username=username,
        email=email,
        state=AccountState.ACTIVATED.value,
        disabled=False,
        is_test=is_test,
        profile=profile or {},
        user_id=_new_user_id(session),
        password_hash=password_hash,
        region=region,
        offerings=offerings or [],
    )
    session.add(account)
    session.flush()
    return account


def _new_user_id(session: Session) -> int:
    while True:
        candidate = _USER_ID_RANGE[0] + secrets.randbelow(_USER_ID_RANGE[1] - _USER_ID_RANGE[0])
        if session.scalar(select(Account.id).where(Account.user_id == candidate)) is None:
            return candidate


def serialize_account_writes(session: Session, account_id: str) -> None:
    """Hold the account's row until commit, so that writes checked against the account's other rows (a
    limit, a unique name) run one after the other (PostgreSQL; SQLite's write transactions already do)."""
    session.execute(select(Account.id).where(Account.id == account_id).with_for_update())


def by_username(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == username))


def get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound()
    return account


def find(session: Session, id_or_username: str) -> Account:
    """An account by id, else by username; 404 otherwise."""
    account = session.get(Account, id_or_username) or by_username(session, id_or_username)
    if account is None:
        raise NotFound()
    return account


def delete_account(session: Session, account: Account) -> None:
    """Remove an account for good: its keys, subusers, IPs and console sessions go with it."""
    session.delete(account)
    session.flush()


def set_state(session: Session, account: Account, target: AccountState) -> None:
    """Move an account to `target` and apply the state's effects in this transaction."""
    if not account_state.changes(account.state, target):
        return
    if not account_state.can_transition(account.state, target):
        raise BadRequest(_refusal(account.state, target), field="state", error_id=provisioning.STATE_CHANGE)
    account.state = target.value
    for effect in account_state.on_enter(target):
        _EFFECTS[effect](session, account)
    session.flush()


def _refusal(current: str, target: AccountState) -> str:
    if account_state.is_terminal(current):
        return f"The account is {current}, a final state: its state cannot be changed to {target.value}"
    return f"Account state cannot change from {current} to {target.value}"


def _family_ids(session: Session, account: Account) -> list[str]:
    children = session.scalars(select(Account.id).where(Account.parent_id == account.id)).all()
    return [account.id, *children]


def _deactivate_keys(session: Session, account: Account) -> None:
    session.execute(
        update(ApiKey)
        .where(ApiKey.account_id.in_(_family_ids(session, account)), ApiKey.active.is_(True))
        .values(active=False, disabled_by_state=True)
    )


def _restore_keys(session: Session, account: Account) -> None:
    session.execute(
        update(ApiKey)
        .where(ApiKey.account_id.in_(_family_ids(session, account)), ApiKey.disabled_by_state.is_(True))
        .values(active=True, disabled_by_state=False)
    )


def _remove_subusers(session: Session, account: Account) -> None:
    session.execute(delete(Account).where(Account.parent_id == account.id, Account.kind == "subuser"))


def _unassign_ips(session: Session, account: Account) -> None:
    """The account's dedicated IPs go back to the pool (their subuser assignments cascade)."""
    session.execute(delete(IpAddress).where(IpAddress.account_id == account.id))


_EFFECTS = {
    Effect.DEACTIVATE_API_KEYS: _deactivate_keys,
    Effect.RESTORE_API_KEYS: _restore_keys,
    Effect.REMOVE_SUBUSERS: _remove_subusers,
    Effect.UNASSIGN_IPS: _unassign_ips,
}
