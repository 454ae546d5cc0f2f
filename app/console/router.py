"""The web console's front door: sign in and out, SSO links, the admin token, static files (HTML, no OpenAPI)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from app.console import pages
from app.console import signin as console_signin
from app.console.deps import ConsoleRoute, ViewerDep
from app.kernel.db.session import Database
from app.kernel.deps import SessionDep
from app.kernel.errors import SendGridError

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

COOKIE = pages.COOKIE
NOTICES = {
    "signed-out": "You have signed out.",
    "confirmed": "Your email address is confirmed and your account is ready: sign in.",
    "password-reset": "Your password was changed: sign in with the new one.",
    "admin-signed-out": "The admin views are closed in this browser.",
}
_STATIC = {"console.css": "text/css", "console.js": "text/javascript"}


def sso_link(request: Request, code: str) -> str:
    """The console URL an SSO redirect points at (SGMIRROR_PUBLIC_URL, else the URL the caller used)."""
    return f"{pages.base_url(request)}/console/sso?{urlencode({'code': code})}"


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/")
def root() -> Response:
    """The mirror's home is the console."""
    return pages.redirect("/console/")


@router.get("/console/")
def home(viewer: ViewerDep) -> Response:
    """The inbox when signed in, else the sign-in page."""
    return pages.redirect("/console/mail" if viewer.account else "/console/login")


@router.get("/console/static/{name}")
def static(name: str) -> Response:
    """The console's stylesheet and script."""
    if name not in _STATIC:
        raise pages.PageError(404, "Not found", "There is no such file.")
    return FileResponse(pages.STATIC / name, media_type=_STATIC[name], headers={"Cache-Control": "no-cache"})


@router.get("/console/login")
def login_page(request: Request, viewer: ViewerDep, username: str = "", notice: str = "") -> Response:
    """The sign-in form."""
    if viewer.account is not None:
        return pages.redirect("/console/mail")
    return pages.render(
        request, viewer, "login.html", title="Sign in", username=username, notice=NOTICES.get(notice), error=None
    )


@router.post("/console/login")
async def log_in(request: Request, viewer: ViewerDep) -> Response:
    """Check the password (throttled) and the state matrix; a new session cookie, or the form with the refusal."""
    form = await pages.read_form(request, viewer)
    username = form.get("username").strip()
    try:
        token = await run_in_threadpool(
            console_signin.log_in,
            _db(request),
            username=username,
            password=form.get("password"),
            client=_client(request),
        )
    except SendGridError as refused:
        return pages.render(
            request, viewer, "login.html", status=refused.status, title="Sign in", username=username,
            notice=None, error=str(refused),
        )  # fmt: skip
    response = pages.redirect("/console/mail")
    pages.set_cookie(response, request, token)
    return response


@router.post("/console/logout")
async def log_out(request: Request, viewer: ViewerDep) -> Response:
    """End the session; the browser gets a fresh anonymous token."""
    await pages.read_form(request, viewer)
    await run_in_threadpool(_end_session, _db(request), viewer.token)
    response = pages.redirect("/console/login?notice=signed-out")
    pages.set_cookie(response, request, pages.Viewer.anonymous().token)
    return response


def _end_session(db: Database, token: str) -> None:
    with db.session() as session:
        console_signin.end_session(session, token)


@router.get("/console/sso")
def sso_sign_in(request: Request, session: SessionDep, code: Annotated[str | None, Query()] = None) -> Response:
    """Spend a one-time SSO code (from POST /v3/partners/accounts/{id}/sso): a session cookie, or the refusal."""
    try:
        token = console_signin.redeem_sso_code(session, code)
    except SendGridError as refusal:
        raise pages.PageError(refusal.status, "Sign-in refused", str(refusal)) from None
    response = pages.redirect("/console/")
    pages.set_cookie(response, request, token)
    return response


@router.get("/console/admin")
def admin_page(request: Request, viewer: ViewerDep) -> Response:
    """Open the admin views (all mail) in this browser with SGMIRROR_ADMIN_TOKEN."""
    return pages.render(request, viewer, "admin_login.html", title="Mirror admin", error=None)


@router.post("/console/admin")
async def admin_sign_in(request: Request, viewer: ViewerDep) -> Response:
    """Check the admin token (wrong ones throttled per client address); its HMAC goes in an HttpOnly cookie."""
    form = await pages.read_form(request, viewer)
    try:
        token = await run_in_threadpool(
            console_signin.check_admin_token, _db(request), given=form.get("token"),
            expected=request.app.state.settings.admin_token, client=_client(request),
        )  # fmt: skip
    except SendGridError as refused:
        return pages.render(
            request, viewer, "admin_login.html", status=refused.status, title="Mirror admin", error=str(refused)
        )
    response = pages.redirect("/console/all-mail")
    response.set_cookie(
        pages.ADMIN_COOKIE, pages.admin_cookie_value(token), path=pages.COOKIE_PATH, httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.post("/console/admin/logout")
async def admin_sign_out(request: Request, viewer: ViewerDep) -> Response:
    """Forget the admin cookie."""
    await pages.read_form(request, viewer)
    response = pages.redirect("/console/login?notice=admin-signed-out")
    response.delete_cookie(pages.ADMIN_COOKIE, path=pages.COOKIE_PATH)
    return response
