"""The console inbox: your account's mail at /console/mail, every account's at /console/all-mail (admin).

Both are the same pages over a different Mailbox; the data comes from the inspection service. Pages that
read a message's MIME use a write session, so the first rendering is stored and every view agrees with
/_mirror/messages (a rendering's multipart boundaries are random).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.console import mailbox, pages
from app.console.deps import AdminDep, ConsoleRoute, ReadSessionDep, SignedInDep
from app.kernel.db.session import Database
from app.kernel.deps import SessionDep

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

TABS = ("html", "text", "headers", "raw")
# Shown in the page itself (thumbnails); anything else is only ever downloaded.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_BODY_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'{remote}; "
    "img-src data:{remote}; font-src data:{remote}; frame-ancestors 'self'"
)
_DOWNLOAD_POLICY = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Box:
    """One inbox as a page sees it: whose mail, at which path, under which name."""

    mailbox: mailbox.Mailbox
    base: str
    title: str
    viewer: pages.Viewer
    all_accounts: bool


def account_box(viewer: SignedInDep, session: ReadSessionDep) -> Box:
    assert viewer.account is not None
    box = mailbox.for_account(session, viewer.account)
    return Box(
        box, "/console/mail", "Inbox", viewer, all_accounts=box.account_ids is not None and len(box.account_ids) > 1
    )


def admin_box(viewer: AdminDep) -> Box:
    return Box(mailbox.ALL_MAIL, "/console/all-mail", "All mail", viewer, all_accounts=True)


def _search(
    to: str = "",
    from_: Annotated[str, Query(alias="from")] = "",
    subject: str = "",
    category: str = "",
    since: str = "",
    until: str = "",
) -> mailbox.Search:
    return mailbox.Search(to=to, from_=from_, subject=subject, category=category, since=since, until=until)


SearchDep = Annotated[mailbox.Search, Depends(_search)]


def _page_url(path: str, search: mailbox.Search, offset: int, cursor: str | None = None) -> str:
    fields = {
        "to": search.to, "from": search.from_, "subject": search.subject, "category": search.category,
        "since": search.since, "until": search.until, "offset": str(max(offset, 0)) if offset > 0 else "",
        "cursor": cursor or "",
    }  # fmt: skip
    query = urlencode({name: value for name, value in fields.items() if value})
    return f"{path}?{query}" if query else path


def _position(p: int) -> int:
    return max(p, 0)


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _register(prefix: str, box_dependency: Callable[..., Box]) -> None:
    """The inbox pages under `prefix`, for the mailbox the dependency resolves."""
    # A default rather than an Annotated alias: this module's annotations are strings resolved at import.
    box_of = Depends(box_dependency)

    @router.get(prefix, name=f"{prefix}:inbox")
    def inbox(
        request: Request,
        session: ReadSessionDep,
        search: SearchDep,
        offset: int = 0,
        cursor: str = "",
        box: Box = box_of,
    ) -> Response:
        """The inbox: search, newest first, 50 a page; the page polls for new mail.

        Older pages seek from the last row shown (`cursor`), so any depth costs the same; `offset` then only
        numbers the rows. Newer pages skip by offset.
        """
        page = mailbox.page(session, box.mailbox, search, offset=offset, cursor=cursor or None)
        newer = _page_url(box.base, search, page.offset - page.limit) if page.offset > 0 else None
        older = _page_url(box.base, search, page.offset + page.limit, page.next_cursor) if page.next_cursor else None
        return pages.render(
            request, box.viewer, "inbox.html", title=box.title, box=box, page=page, search=search,
            poll_url=_page_url(f"{box.base}/poll", search, 0), newer_url=newer, older_url=older, section=box.base,
        )  # fmt: skip

    @router.get(f"{prefix}/poll", name=f"{prefix}:poll")
    def poll(session: ReadSessionDep, search: SearchDep, box: Box = box_of) -> Response:
        """How many messages match and the newest one's id (JSON, for the live update)."""
        state = mailbox.poll_state(session, box.mailbox, search)
        return JSONResponse(state, headers={"Cache-Control": "no-store"})

    @router.post(f"{prefix}/clear", name=f"{prefix}:clear")
    async def clear(request: Request, box: Box = box_of) -> Response:
        """Forget every message of this inbox."""
        await pages.read_form(request, box.viewer)
        await run_in_threadpool(_write, _db(request), mailbox.clear, box.mailbox)
        return pages.redirect(box.base)

    @router.get(f"{prefix}/{{message_id}}", name=f"{prefix}:message")
    def message(
        request: Request,
        session: SessionDep,
        message_id: str,
        tab: str = "",
        p: int = 0,
        images: int = 0,
        box: Box = box_of,
    ) -> Response:
        """One message: HTML (sandboxed), text, headers, raw source, attachments, links and events."""
        view = mailbox.view(session, box.mailbox, message_id, _position(p))
        chosen = tab if tab in TABS else ("html" if view.parsed.html is not None else "text")
        return pages.render(
            request, box.viewer, "message.html", title=view.message.subject or "(no subject)", box=box, view=view,
            tab=chosen, images=bool(images), section=box.base, inline_types=INLINE_TYPES,
        )  # fmt: skip

    @router.get(f"{prefix}/{{message_id}}/html", name=f"{prefix}:html")
    def html_body(session: SessionDep, message_id: str, p: int = 0, images: int = 0, box: Box = box_of) -> Response:
        """The HTML body for the sandboxed iframe; remote images only when asked for."""
        document = mailbox.html_document(session, box.mailbox, message_id, _position(p))
        policy = _BODY_POLICY.format(remote=" http: https:" if images else "")
        headers = {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        return Response(document, media_type="text/html; charset=utf-8", headers=headers)

    @router.get(f"{prefix}/{{message_id}}/raw", name=f"{prefix}:raw")
    def raw(session: SessionDep, message_id: str, p: int = 0, box: Box = box_of) -> Response:
        """The .eml source, as a download."""
        source = mailbox.raw(session, box.mailbox, message_id, _position(p))
        return _download(source, "message/rfc822", f"{message_id}-{_position(p)}.eml", inline=False)

    @router.get(f"{prefix}/{{message_id}}/attachments/{{index}}", name=f"{prefix}:attachment")
    def attachment(
        session: SessionDep, message_id: str, index: int, p: int = 0, inline: int = 0, box: Box = box_of
    ) -> Response:
        """One attachment: a download, or (images only) shown in the page."""
        part = mailbox.attachment(session, box.mailbox, message_id, _position(p), index)
        shown = bool(inline) and part.content_type in INLINE_TYPES
        return _download(part.payload, part.content_type, part.filename or f"attachment-{index}", inline=shown)

    @router.post(f"{prefix}/{{message_id}}/delete", name=f"{prefix}:delete")
    async def delete(request: Request, message_id: str, box: Box = box_of) -> Response:
        """Forget one message."""
        await pages.read_form(request, box.viewer)
        await run_in_threadpool(_write, _db(request), mailbox.delete_one, box.mailbox, message_id)
        return pages.redirect(box.base)


def _write(db: Database, action: Callable[..., Any], *args: Any) -> None:
    with db.session() as session:
        action(session, *args)


def _download(payload: bytes, content_type: str, filename: str, *, inline: bool) -> Response:
    printable = "".join(c for c in filename if c.isprintable() and c not in '"\\;') or "download"
    ascii_name = printable.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f'{"inline" if inline else "attachment"}; filename="{ascii_name}"'
    if ascii_name != printable:
        disposition += f"; filename*=UTF-8''{quote(printable)}"
    headers = {
        "Content-Disposition": disposition,
        "Content-Security-Policy": _DOWNLOAD_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(
        payload, media_type=content_type if inline else content_type or "application/octet-stream", headers=headers
    )


_register("/console/mail", account_box)
_register("/console/all-mail", admin_box)
