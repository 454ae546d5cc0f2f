"""/_mirror/accounts: the mirror's admin API (any state, as SendGrid's compliance would set it)."""

from __future__ import annotations

from fastapi import APIRouter

from app.accounts import admin, bootstrap, schemas
from app.kernel.deps import AdminDep, JsonBody, SessionDep, SettingsDep
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.timestamps import rfc3339

router = APIRouter(prefix="/_mirror", tags=["Mirror admin"], dependencies=[AdminDep])


def _account(view: admin.AccountView) -> schemas.Account:
    account = view.account
    return schemas.Account(
        id=account.id,
        kind=account.kind,
        parent_id=account.parent_id,
        username=account.username,
        email=account.email,
        state=account.state,
        disabled=account.disabled,
        is_test=account.is_test,
        created_at=rfc3339(account.created_at),
        offerings=account.offerings,
        ips=view.ips,
    )


@router.get("/accounts", response_model=schemas.AccountList, responses=error_responses(403))
def list_mirror_accounts(session: SessionDep) -> schemas.AccountList:
    """Every account (partner, customers, subusers) with its state and IPs."""
    return schemas.AccountList(accounts=[_account(view) for view in admin.list_accounts(session)])


@router.get("/accounts/{account}", response_model=schemas.Account, responses=error_responses(403, 404))
def get_mirror_account(session: SessionDep, account: str) -> schemas.Account:
    """One account, by id or username."""
    return _account(admin.account_view(session, account))


@router.put(
    "/accounts/{account}/state",
    response_model=schemas.Account,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.StateChange),
)
def set_mirror_account_state(session: SessionDep, account: str, body: JsonBody) -> schemas.Account:
    """Set any state (suspended and banned included); the state's effects apply at once."""
    return _account(admin.set_state(session, account, body))


@router.post("/reset", response_model=schemas.ResetReport, responses=error_responses(403))
def reset_mirror(session: SessionDep, settings: SettingsDep) -> schemas.ResetReport:
    """Back to the first start: every message, event, setting and account removed, then bootstrapped again.

    The partner and `default` accounts and the configured keys (`SGMIRROR_API_KEY`, `SGMIRROR_PARTNER_API_KEY`)
    come back; a key made at first start without a configured one is replaced, and the new one is in `bootstrap`.
    """
    removed, report = bootstrap.reset(session, settings)
    return schemas.ResetReport(removed=removed, bootstrap=report.lines)
