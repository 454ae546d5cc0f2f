"""Server-rendered console pages: Jinja2 templates, the browser cookie, CSRF tokens and page errors.

Every browser gets a random token in an HttpOnly, SameSite=Lax cookie on its first visit; once signed in
the token names a console session (only its digest is stored). Each form carries an HMAC of that token,
so a form posted from another site, or from before a sign-in or sign-out, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.accounts import state as account_state
from app.accounts.models import Account
from app.accounts.state import Capability
from app.faults import service as faults
from app.kernel.db.base import as_utc

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
COOKIE = "sgmirror_console"
ADMIN_COOKIE = "sgmirror_console_admin"
COOKIE_PATH = "/console"
MAX_FORM_BYTES = 64 * 1024
CSRF_FIELD = "csrf_token"
CSRF_REFUSED = (
    "This form has expired or did not come from this console (its security token does not match). "
    "Reload the page and try again; cookies must be enabled."
)
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Emailed links carry tokens in their query: never pass them on.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _when(moment: datetime | None) -> str:
    return "" if moment is None else as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else as_utc(moment).isoformat()


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if count < 1024 or unit == "MB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} bytes"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(when=_when, iso=_iso, size=_size)


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"sgmirror console csrf", hashlib.sha256).hexdigest()


def admin_cookie_value(admin_token: str) -> str:
    """What the admin cookie holds once the admin token was given (changes when the token does)."""
    return hmac.new(admin_token.encode(), b"sgmirror console admin", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the browser token, the signed-in account (if any) and whether the admin views are open."""

    token: str
    fresh: bool
    account: Account | None = None
    parent: Account | None = None
    admin: bool = False
    admin_token_set: bool = False

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls(token=secrets.token_urlsafe(32), fresh=True)

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)

    @property
    def who(self) -> str:
        account = self.account
        return "" if account is None else account.email or account.username or account.id

    @property
    def can_send(self) -> bool:
        states = [a.state for a in (self.account, self.parent) if a is not None]
        return all(account_state.allows(state, Capability.SEND_MAIL) for state in states)

    @property
    def send_refusal(self) -> str:
        states = [a.state for a in (self.account, self.parent) if a is not None]
        refused = [s for s in states if not account_state.allows(s, Capability.SEND_MAIL)]
        return account_state.rule(refused[0]).denial if refused else ""


class PageError(Exception):
    """A page that says why (sign-in refused, not found, ...), with its HTTP status."""

    def __init__(self, status: int, title: str, message: str, *, end_session: bool = False) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.end_session = status, title, message, end_session


class Redirect(Exception):
    """Send the browser elsewhere (303), e.g. to the sign-in page."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class Form:
    """A posted urlencoded form; values are kept as typed (passwords are never stripped)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str) -> str:
        values = self._fields.get(name)
        return values[0] if values else ""

    def getlist(self, name: str) -> list[str]:
        return list(self._fields.get(name, []))


async def read_form(request: Request, viewer: Viewer) -> Form:
    """The posted form, after its CSRF token was checked against the browser's cookie."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if len(body) > MAX_FORM_BYTES or content_type != "application/x-www-form-urlencoded":
        raise PageError(400, "Form refused", "The console accepts urlencoded forms of up to 64 KB.")
    form = Form(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    presented = form.get(CSRF_FIELD)
    if viewer.fresh or not presented or not hmac.compare_digest(presented, viewer.csrf):
        raise PageError(403, "Form refused", CSRF_REFUSED)
    return form


def render(request: Request, viewer: Viewer, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from a template, with the console's security headers and the browser cookie when it is new."""
    banner = faults.banner(request.app.state.faults)
    storage = request.app.state.db.storage.failure  # the database cannot be written: a banner says so
    page = environment.get_template(template).render(
        viewer=viewer, path=request.url.path, fault_rules=banner, storage=storage, **context
    )
    response = HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)
    if viewer.fresh:
        set_cookie(response, request, viewer.token)
    return response


def set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )


def redirect(location: str) -> Response:
    return Response(status_code=303, headers={"Location": location, "Cache-Control": "no-store"})


def base_url(request: Request) -> str:
    """Where links the mirror emails point: SGMIRROR_PUBLIC_URL, else the URL the browser used."""
    configured: str | None = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")
