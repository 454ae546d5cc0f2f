"""Console sign-up, email confirmation, password reset and username reminders (HTML, no OpenAPI)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.console import pages
from app.console import signup as console_signup
from app.console.deps import ConsoleRoute, ReadSessionDep, ViewerDep
from app.kernel.db.session import Database
from app.kernel.deps import SessionDep
from app.kernel.errors import BadRequest

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

SENT = (
    "If an account uses the details you gave, we sent it an email. The mirror captures every email it sends: "
    "find it in All mail (the mirror admin's view) or in /_mirror/messages."
)


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _errors(problem: BadRequest) -> dict[str, str]:
    """Form problems by field (the first one of each), for the templates."""
    found: dict[str, str] = {}
    for detail in problem.details:
        found.setdefault(detail.field or "form", detail.message)
    return found


def _form_page(request: Request, viewer: pages.Viewer, template: str, **context: Any) -> Response:
    status = 400 if context.get("errors") else 200
    return pages.render(request, viewer, template, status=status, **{"errors": {}, "values": {}, **context})


@router.get("/console/signup")
def signup_page(request: Request, viewer: ViewerDep) -> Response:
    """The sign-up form."""
    return _form_page(request, viewer, "signup.html", title="Create your account")


@router.post("/console/signup")
async def sign_up(request: Request, viewer: ViewerDep) -> Response:
    """Keep the sign-up pending and email the confirmation link (the account does not exist yet)."""
    form = await pages.read_form(request, viewer)
    fields = console_signup.SignupForm(
        username=form.get("username").strip(), email=form.get("email").strip(),
        password=form.get("password"), password_confirm=form.get("password_confirm"),
    )  # fmt: skip
    try:
        await console_signup.sign_up(_db(request), fields, base_url=pages.base_url(request))
    except BadRequest as problem:
        values = {"username": fields.username, "email": fields.email}
        return _form_page(
            request, viewer, "signup.html", title="Create your account", errors=_errors(problem), values=values
        )
    return pages.render(request, viewer, "signup_sent.html", title="Check your email", email=fields.email)


@router.get("/console/signup/confirm")
def confirm_signup(session: SessionDep, token: str = "") -> Response:
    """Follow the emailed link: the account is created now, then the sign-in page."""
    account = console_signup.confirm_signup(session, token)
    return pages.redirect(f"/console/login?{urlencode({'notice': 'confirmed', 'username': account.username or ''})}")


@router.get("/console/forgot-password")
def forgot_password_page(request: Request, viewer: ViewerDep) -> Response:
    """Ask for a reset link."""
    return _form_page(request, viewer, "forgot.html", title="Reset your password", mode="password")


@router.post("/console/forgot-password")
async def forgot_password(request: Request, viewer: ViewerDep) -> Response:
    """Email a reset link if the username exists; the same answer either way."""
    form = await pages.read_form(request, viewer)
    await console_signup.request_reset(_db(request), username=form.get("username"), base_url=pages.base_url(request))
    return pages.render(request, viewer, "notice.html", title="Check your email", message=SENT)


@router.get("/console/forgot-username")
def forgot_username_page(request: Request, viewer: ViewerDep) -> Response:
    """Ask for a username reminder."""
    return _form_page(request, viewer, "forgot.html", title="Forgot your username?", mode="username")


@router.post("/console/forgot-username")
async def forgot_username(request: Request, viewer: ViewerDep) -> Response:
    """Email the usernames of the accounts using the address; the same answer either way."""
    form = await pages.read_form(request, viewer)
    await console_signup.remind_username(_db(request), email=form.get("email"), base_url=pages.base_url(request))
    return pages.render(request, viewer, "notice.html", title="Check your email", message=SENT)


@router.get("/console/reset-password")
def reset_password_page(request: Request, viewer: ViewerDep, session: ReadSessionDep, token: str = "") -> Response:
    """The new-password form of an emailed link (or why the link no longer works)."""
    if not console_signup.reset_token_is_live(session, token):
        raise pages.PageError(400, "Link expired", console_signup.INVALID_LINK)
    return _form_page(request, viewer, "reset_password.html", title="Choose a new password", token=token)


@router.post("/console/reset-password")
async def reset_password(request: Request, viewer: ViewerDep) -> Response:
    """Spend the link and set the password; API keys keep working."""
    form = await pages.read_form(request, viewer)
    token = form.get("token")
    try:
        await run_in_threadpool(
            console_signup.reset_password, _db(request), token=token,
            password=form.get("password"), confirm=form.get("password_confirm"),
        )  # fmt: skip
    except BadRequest as problem:
        if problem.details[0].message == console_signup.INVALID_LINK:
            raise pages.PageError(400, "Link expired", console_signup.INVALID_LINK) from None
        errors = _errors(problem)
        return _form_page(
            request, viewer, "reset_password.html", title="Choose a new password", token=token, errors=errors
        )
    return pages.redirect("/console/login?notice=password-reset")
