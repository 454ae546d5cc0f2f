"""Dependencies of the console routes: who is looking, read-only sessions, and HTML error pages."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from app.console import pages
from app.console import signin as console_signin
from app.kernel import deps
from app.kernel.db.session import Database
from app.kernel.errors import CapabilityDenied, SendGridError

_TITLES = {400: "Something is not right", 401: "Not signed in", 403: "Not allowed", 404: "Not found"}


class ConsoleRoute(APIRoute):
    """A console route: page errors, redirects and service errors become HTML pages, never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except pages.Redirect as moved:
                return pages.redirect(moved.location)
            except pages.PageError as error:
                return error_page(request, error)
            except SendGridError as error:
                return error_page(
                    request, pages.PageError(error.status, _TITLES.get(error.status, "Error"), str(error))
                )

        return guarded


def error_page(request: Request, error: pages.PageError) -> Response:
    """The page saying why; it sets no cookie (and ends the session's when the matrix refused it)."""
    token = "" if error.end_session else request.cookies.get(pages.COOKIE, "")
    viewer = pages.Viewer(token=token, fresh=False)
    response = pages.render(
        request, viewer, "notice.html", status=error.status, title=error.title, message=error.message
    )
    if error.end_session:
        response.delete_cookie(pages.COOKIE, path=pages.COOKIE_PATH)
    return response


def get_read_session(request: Request) -> Iterator[Session]:
    """A read-only session: on SQLite it never takes the write lock that mail ingest needs."""
    db: Database = request.app.state.db
    with db.read_session() as session:
        yield session


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


def admin_allowed(request: Request) -> bool:
    """The /_mirror/ admin rule for browsers: the admin-token cookie when a token is set, else loopback."""
    token: str | None = request.app.state.settings.admin_token
    if token:
        return hmac.compare_digest(request.cookies.get(pages.ADMIN_COOKIE, ""), pages.admin_cookie_value(token))
    try:
        deps.require_admin(request)
    except SendGridError:
        return False
    return True


def get_viewer(request: Request) -> pages.Viewer:
    """Who is looking; a session whose account may no longer sign in ends here with the matrix's wording."""
    db: Database = request.app.state.db
    token = request.cookies.get(pages.COOKIE)
    admin = admin_allowed(request)
    token_set = bool(request.app.state.settings.admin_token)
    if not token or len(token) > 128:
        return pages.Viewer(token=pages.Viewer.anonymous().token, fresh=True, admin=admin, admin_token_set=token_set)
    with db.read_session() as session:
        found = console_signin.session_account(session, token)
        try:
            if found is not None:
                console_signin.require_login(session, found.account)
        except CapabilityDenied as refused:
            denial: str | None = str(refused)
        else:
            denial = None
    if denial is not None:
        with db.session() as session:
            console_signin.end_session(session, token)
        raise pages.PageError(403, "Sign-in refused", denial, end_session=True)
    account, parent = (found.account, found.parent) if found else (None, None)
    return pages.Viewer(
        token=token, fresh=False, account=account, parent=parent, admin=admin, admin_token_set=token_set
    )


ViewerDep = Annotated[pages.Viewer, Depends(get_viewer)]


def signed_in_viewer(viewer: ViewerDep, request: Request) -> pages.Viewer:
    """A viewer with an account; others are sent to the sign-in page."""
    if viewer.account is None:
        raise pages.Redirect("/console/login")
    return viewer


SignedInDep = Annotated[pages.Viewer, Depends(signed_in_viewer)]


def admin_viewer(viewer: ViewerDep) -> pages.Viewer:
    if not viewer.admin:
        message = (
            "All mail is the mirror admin's view: sign in with SGMIRROR_ADMIN_TOKEN at /console/admin."
            if viewer.admin_token_set
            else "All mail is open to loopback visitors only; set SGMIRROR_ADMIN_TOKEN to open it to others."
        )
        raise pages.PageError(403, "Not allowed", message)
    return viewer


AdminDep = Annotated[pages.Viewer, Depends(admin_viewer)]
