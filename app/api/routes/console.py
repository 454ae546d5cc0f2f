"""A minimal console: SSO sign-in and a page naming who is signed in (the console issue replaces it)."""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import SessionDep
from app.errors import SendGridError
from app.services import console

router = APIRouter(prefix="/console", include_in_schema=False)

COOKIE = "sgmirror_console"


def sso_link(request: Request, code: str) -> str:
    """The console URL an SSO redirect points at (SGMIRROR_PUBLIC_URL, else the URL the caller used)."""
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/console/sso?{urlencode({'code': code})}"


def _page(title: str, text: str, status: int) -> HTMLResponse:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)} - sendgrid-mirror</title>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


@router.get("/sso")
def sso_sign_in(session: SessionDep, code: Annotated[str | None, Query()] = None) -> Response:
    """Spend a one-time SSO code: a session cookie and a redirect, or the refusal page."""
    try:
        token = console.redeem_sso_code(session, code)
    except SendGridError as refusal:
        return _page("Sign-in refused", str(refusal), refusal.status)
    response = RedirectResponse("/console/", status_code=303)
    max_age = int(console.SESSION_TTL.total_seconds())
    response.set_cookie(COOKIE, token, max_age=max_age, path="/console", httponly=True, samesite="lax")
    return response


@router.get("/")
def home(session: SessionDep, token: Annotated[str | None, Cookie(alias=COOKIE)] = None) -> Response:
    """Who is signed in, asked of the state matrix again on every visit."""
    try:
        account = console.signed_in(session, token)
    except SendGridError as refusal:
        return _page("Sign-in refused", str(refusal), refusal.status)
    if account is None:
        return _page("Not signed in", "Sign in with a single sign-on link from your partner.", 200)
    who = account.email or account.username or account.id
    return _page("SendGrid console", f"Signed in as {who} (account {account.id}, state {account.state}).", 200)
