"""Console account pages: state and plan, password, API keys, senders, subusers, IPs, a partner's customers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.accounts import state as account_state
from app.console import account as console_account
from app.console import pages
from app.console import signin as console_signin
from app.console.deps import ConsoleRoute, ReadSessionDep, SignedInDep
from app.kernel.db.session import Database
from app.kernel.deps import SessionDep
from app.kernel.errors import BadRequest, SendGridError
from app.kernel.principal import Principal

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

_NOTICES = {
    "password": "Your password was changed. Your API keys keep working; other browsers were signed out.",
    "revoked": "The API key was deleted: it stops working at once.",
    "state": "The customer's state was changed.",
}


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _owner(viewer: pages.Viewer) -> Principal:
    assert viewer.account is not None
    return console_account.principal(viewer.account, viewer.parent)


def _page(request: Request, viewer: pages.Viewer, template: str, **context: Any) -> Response:
    notice = _NOTICES.get(request.query_params.get("notice", ""))
    return pages.render(request, viewer, template, **{"notice": notice, "error": None, **context})


def _account_page(
    request: Request, viewer: pages.Viewer, session: Any, *, errors: dict[str, str], status: int = 200
) -> Response:
    assert viewer.account is not None
    return pages.render(
        request, viewer, "account.html", status=status, title="Account", section="account", error=None,
        notice=_NOTICES.get(request.query_params.get("notice", "")), errors=errors,
        profile=console_account.describe(viewer.account), matrix=console_account.state_matrix(viewer.account.state),
        labels=console_account.CAPABILITY_LABELS, quota=console_account.quota(session, viewer.parent or viewer.account),
    )  # fmt: skip


@router.get("/console/account")
def account_page(request: Request, viewer: SignedInDep, session: ReadSessionDep) -> Response:
    """Profile, state with what it allows (from the matrix), plan and daily quota, password change."""
    return _account_page(request, viewer, session, errors={})


@router.post("/console/account/password")
async def change_password(request: Request, viewer: SignedInDep) -> Response:
    """Check the current password and set the new one; API keys are untouched."""
    form = await pages.read_form(request, viewer)
    assert viewer.account is not None
    try:
        await run_in_threadpool(
            console_signin.change_password, _db(request), account_id=viewer.account.id, token=viewer.token,
            current=form.get("current_password"), new=form.get("new_password"),
            confirm=form.get("new_password_confirm"),
        )  # fmt: skip
    except BadRequest as problem:
        errors = {d.field or "form": d.message for d in reversed(problem.details)}
        with _db(request).read_session() as session:
            return _account_page(request, viewer, session, errors=errors, status=400)
    return pages.redirect("/console/account?notice=password")


def _keys_page(request: Request, viewer: pages.Viewer, session: Any, **context: Any) -> Response:
    keys = console_account.list_keys(session, _owner(viewer))
    return _page(
        request, viewer, "api_keys.html", title="API Keys", section="api-keys", keys=keys,
        access_of=console_account.access_of, families=console_account.scope_families(), **context,
    )  # fmt: skip


@router.get("/console/api-keys")
def api_keys_page(request: Request, viewer: SignedInDep, session: ReadSessionDep) -> Response:
    """The account's API keys and the create form."""
    return _keys_page(request, viewer, session, created=None)


@router.post("/console/api-keys")
async def create_api_key(request: Request, viewer: SignedInDep, session: SessionDep) -> Response:
    """Create a key and show its secret, this once."""
    form = await pages.read_form(request, viewer)
    try:
        created = console_account.create_key(
            session, _owner(viewer), name=form.get("name"), access=form.get("access"), families=form.getlist("families")
        )
    except SendGridError as problem:
        return _keys_page(request, viewer, session, created=None, error=str(problem))
    return _keys_page(request, viewer, session, created=created)


@router.post("/console/api-keys/{key_id}/delete")
async def revoke_api_key(request: Request, viewer: SignedInDep, session: SessionDep, key_id: str) -> Response:
    """Delete a key; it stops working at once."""
    await pages.read_form(request, viewer)
    console_account.revoke_key(session, _owner(viewer), key_id)
    return pages.redirect("/console/api-keys?notice=revoked")


@router.get("/console/senders")
def senders_page(request: Request, viewer: SignedInDep, session: ReadSessionDep) -> Response:
    """Verified single senders and authenticated domains."""
    account_id = _owner(viewer).account_id
    return _page(
        request, viewer, "senders.html", title="Sender Authentication", section="senders",
        senders=console_account.senders(session, account_id), domains=console_account.domains(session, account_id),
    )  # fmt: skip


@router.get("/console/subusers")
def subusers_page(request: Request, viewer: SignedInDep, session: ReadSessionDep) -> Response:
    """The account's subusers."""
    subusers = console_account.list_subusers(session, _owner(viewer))
    return _page(request, viewer, "subusers.html", title="Subusers", section="subusers", subusers=subusers)


@router.get("/console/ips")
def ips_page(request: Request, viewer: SignedInDep, session: ReadSessionDep) -> Response:
    """The account's dedicated IPs (a subuser's: those assigned to it)."""
    ips = console_account.list_ips(session, _owner(viewer))
    return _page(request, viewer, "ips.html", title="IP Addresses", section="ips", ips=ips)


@router.get("/console/customers")
def customers_page(request: Request, viewer: SignedInDep, session: ReadSessionDep) -> Response:
    """A partner's customer accounts with their states."""
    customers = console_account.customers(session, _owner(viewer))
    return _page(
        request, viewer, "customers.html", title="Customer accounts", section="customers", customers=customers,
        settable=console_account.settable_states(), terminal=account_state.is_terminal,
    )  # fmt: skip


@router.post("/console/customers/{account_id}/state")
async def set_customer_state(request: Request, viewer: SignedInDep, session: SessionDep, account_id: str) -> Response:
    """Activate or deactivate a customer, as PUT /v3/partners/accounts/{id}/state would."""
    form = await pages.read_form(request, viewer)
    console_account.set_customer_state(session, _owner(viewer), account_id, form.get("state"))
    return pages.redirect("/console/customers?notice=state")


@router.get("/console/{path:path}")
def not_found(path: str) -> Response:
    """Any other console address (this router is included last)."""
    raise pages.PageError(404, "Not found", "There is no such page in the console.")
