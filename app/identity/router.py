"""The mirror's sender identity helpers: the emailed verification link, and DNS records marked as published."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.clock import service as clock
from app.identity.domains import schemas
from app.identity.domains import service as domains
from app.identity.senders import service as verified_senders
from app.kernel.deps import AdminDep, JsonBody, SessionDep
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.errors import BadRequest, NotFound

router = APIRouter(prefix="/_mirror", tags=["Mirror sender identity"])

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


def _page(title: str, text: str, status: int) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), text=html.escape(text)), status_code=status)


@router.get("/senders/verify/{token}", response_class=HTMLResponse, include_in_schema=False)
def follow_sender_verification_link(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """The link of the verification email: the token is the credential, no key needed."""
    try:
        sender = verified_senders.verify(session, token, now=clock.now(request.app.state.db))
    except NotFound:
        return _page("Link expired", "This verification link is invalid or has expired. Resend it.", 404)
    return _page("Sender verified", f"{sender.from_email} is now a verified single sender.", 200)


@router.put(
    "/domains/{domain_id}/dns",
    response_model=schemas.PublishedState,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.PublishedRecords),
    dependencies=[AdminDep],
)
def mark_domain_records(session: SessionDep, domain_id: int, body: JsonBody) -> schemas.PublishedState:
    """Manual validation: mark a domain's records (all, or `records`) as published, or not (`present`)."""
    fields = body if isinstance(body, dict) else {}
    present, names = fields.get("present", True), fields.get("records")
    if not isinstance(present, bool) or not (
        names is None or (isinstance(names, list) and all(isinstance(n, str) for n in names))
    ):
        raise BadRequest("present must be a boolean and records an array of record names")
    row = domains.mark_published(session, domain_id, present=present, names=names)
    return schemas.PublishedState(id=row.id, published=row.published)
