"""Account Provisioning: a partner creates, lists, deletes and governs its customer accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts import state as account_state
from app.accounts.models import Account
from app.accounts.partners import rules as provisioning
from app.console import signin as console_signin
from app.kernel.errors import BadRequest, Forbidden, NotFound
from app.kernel.principal import Principal

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
_FALSE_HEADER_VALUES = ("", "0", "false", "no")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of accounts; `last` is set when more accounts follow (pass it back as `offset`)."""

    accounts: list[Account]
    last: str | None


def require_partner(principal: Principal) -> None:
    """The partner API answers partner keys only (customers are reached with On-Behalf-Of)."""
    if not principal.is_partner:
        raise Forbidden()


def customer(session: Session, principal: Principal, account_id: str) -> Account:
    """One of the partner's customer accounts; 404 `Account not found` otherwise."""
    account = session.get(Account, account_id)
    if account is None or account.kind != "customer" or account.parent_id != principal.account_id:
        raise NotFound(details=[provisioning.account_not_found()])
    return account


def list_accounts(session: Session, principal: Principal, *, offset: str | None, limit: str | None) -> Page:
    """The partner's customers ordered by id, after the `offset` id."""
    size = provisioning.parse_limit(limit, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    query = select(Account).where(Account.parent_id == principal.account_id, Account.kind == "customer")
    if offset:
        query = query.where(Account.id > offset)
    rows = list(session.scalars(query.order_by(Account.id).limit(size + 1)))
    return Page(accounts=rows[:size], last=rows[size - 1].id if len(rows) > size else None)


def create_account(session: Session, principal: Principal, body: Any, *, test_header: str | None) -> Account:
    """A new activated customer with a validated profile and offerings; all problems reported at once."""
    fields = body if isinstance(body, dict) else {}
    profile, profile_errors = provisioning.validate_profile(fields.get("profile"))
    offerings, offering_errors = provisioning.validate_offerings(fields.get("offerings"))
    provisioning.raise_if_any(profile_errors + offering_errors)
    return accounts.create_account(
        session,
        kind="customer",
        parent_id=principal.account_id,
        email=profile.get("email"),
        profile=profile,
        is_test=test_header is not None and test_header.strip().lower() not in _FALSE_HEADER_VALUES,
        offerings=offerings,
    )


def delete_account(session: Session, principal: Principal, account_id: str) -> None:
    """Irreversible: keys, SSO codes, sessions, subusers, offerings and IPs go with the account."""
    accounts.delete_account(session, customer(session, principal, account_id))


def set_state(session: Session, principal: Principal, account_id: str, body: Any) -> None:
    """PUT .../state: partners may set activated or deactivated; compliance sets the rest."""
    account = customer(session, principal, account_id)
    value = body.get("state") if isinstance(body, dict) else None
    if value is None:
        raise BadRequest(details=[provisioning.error("Field is required", "state", provisioning.REQUIRED)])
    target = account_state.partner_settable(value)
    if target is None:
        settable = ", ".join(sorted(s.value for s in account_state.PARTNER_SETTABLE))
        message = f"Field must be one of: {settable}"
        raise BadRequest(details=[provisioning.error(message, "state", provisioning.CHOICE)])
    accounts.set_state(session, account, target)


def set_offerings(session: Session, principal: Principal, account_id: str, body: Any) -> list[dict[str, Any]]:
    """PUT .../offerings: the account's offerings become exactly the given set."""
    account = customer(session, principal, account_id)
    offerings, errors = provisioning.validate_offerings(body.get("offerings") if isinstance(body, dict) else None)
    provisioning.raise_if_any(errors)
    account.offerings = offerings
    return offerings


def start_sso(session: Session, principal: Principal, account_id: str) -> str:
    """A one-time console sign-in code for the account; the console asks the matrix when it is used."""
    return console_signin.issue_sso_code(session, customer(session, principal, account_id))
