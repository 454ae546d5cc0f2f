"""/_mirror/messages: see what was sent (every account), for people and tests."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from app.inspection import schemas
from app.inspection import service as inspection
from app.kernel.db.base import as_utc
from app.kernel.db.session import Database
from app.kernel.deps import AdminDep, ReadSessionDep, SessionDep, get_database, optional_int
from app.kernel.error_schemas import error_responses
from app.kernel.errors import BadRequest, ErrorDetail, SendGridError
from app.kernel.timestamps import rfc3339
from app.mail.models import Envelope, Message, Recipient

router = APIRouter(prefix="/_mirror/messages", tags=["Mirror: messages"], dependencies=[AdminDep])

Personalization = Annotated[str | None, Query(description="which personalization (default 0)")]
_ERRORS = error_responses(400, 403, 404)


class WaitTimedOut(SendGridError):
    status = 408


def _filters(
    to: Annotated[str | None, Query(description="a recipient address (to, cc or bcc), exact")] = None,
    from_: Annotated[str | None, Query(alias="from", description="the from address, exact")] = None,
    subject: Annotated[str | None, Query(description="part of the subject")] = None,
    text: Annotated[str | None, Query(description="part of the subject, text or HTML body (any case)")] = None,
    category: Annotated[str | None, Query()] = None,
    custom_arg: Annotated[str | None, Query(description="key=value")] = None,
    account: Annotated[str | None, Query(description="account id or username")] = None,
    since: Annotated[str | None, Query(description="ISO 8601, unix seconds or `now`")] = None,
    until: Annotated[str | None, Query(description="ISO 8601 or unix seconds")] = None,
) -> inspection.Filters:
    return inspection.Filters(
        to=to, from_=from_, subject=subject, category=category, custom_arg=custom_arg, account=account,
        since=inspection.parse_time(since, name="since"), until=inspection.parse_time(until, name="until"),
        text=text,
    )  # fmt: skip


FiltersDep = Annotated[inspection.Filters, Depends(_filters)]
FILTERS = ("to", "from", "subject", "text", "category", "custom_arg", "account", "since", "until")


def _only(*names: str) -> Any:
    """A dependency that refuses any query parameter but `names`, with a 400 naming each one."""

    def refuse_unknown(request: Request) -> None:
        unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in names]
        takes = f"this endpoint takes {', '.join(names)}" if names else "this endpoint takes none"
        if unknown:
            raise BadRequest(details=[ErrorDetail(f"unknown query parameter '{n}': {takes}", n) for n in unknown])

    return Depends(refuse_unknown)


def _summary(message: Message, recipients: list[Recipient], envelope_count: int) -> dict[str, Any]:
    def kind(name: str) -> list[str]:
        return [r.email for r in recipients if r.kind == name]

    return {
        "id": message.id, "account_id": message.account_id, "transport": message.transport,
        "status": message.status, "sandbox": message.sandbox,
        "from": {"email": message.from_email, "name": message.from_name}, "subject": message.subject,
        "to": kind("to"), "cc": kind("cc"), "bcc": kind("bcc"), "categories": message.categories,
        "custom_args": message.custom_args, "batch_id": message.batch_id,
        "send_at": rfc3339(message.send_at) if message.send_at else None,
        "created_at": as_utc(message.created_at).isoformat(), "personalizations": envelope_count,
    }  # fmt: skip


def _page(session: Session, messages: list[Message]) -> list[schemas.MessageSummary]:
    recipients = inspection.recipients_of(session, [m.id for m in messages])
    counts = {m.id: len({r.position for r in recipients[m.id]}) or 1 for m in messages}
    return [schemas.MessageSummary.model_validate(_summary(m, recipients[m.id], counts[m.id])) for m in messages]


@router.get(
    "",
    response_model=schemas.MessagePage,
    responses=_ERRORS,
    dependencies=[_only(*FILTERS, "limit", "offset", "cursor")],
)
def list_stored_messages(
    session: ReadSessionDep,
    filters: FiltersDep,
    limit: Annotated[str | None, Query(description="1 to 500, default 50")] = None,
    offset: Annotated[str | None, Query(description="skip this many (after `cursor`, if given)")] = None,
    cursor: Annotated[str | None, Query(description="continue after a page: its `next_cursor`")] = None,
) -> schemas.MessagePage:
    """Stored messages, newest first, filtered; `next_cursor` pages on at any depth in constant time."""
    page_size = optional_int(limit, field="limit", maximum=inspection.MAX_PAGE) or 50
    start = optional_int(offset, field="offset", minimum=0) or 0
    found = inspection.search(session, filters, limit=page_size, offset=start, cursor=cursor or None)
    return schemas.MessagePage(
        total=found.total, total_exact=found.total_exact, limit=page_size, offset=start,
        next_cursor=found.next_cursor, messages=_page(session, found.messages),
    )  # fmt: skip


@router.get(
    "/wait", response_model=schemas.MessageSummary, responses=error_responses(400, 403, 408),
    dependencies=[_only(*FILTERS, "timeout")],
)  # fmt: skip
async def wait_for_message(
    db: Annotated[Database, Depends(get_database)],
    filters: FiltersDep,
    timeout: Annotated[float, Query(ge=0, le=inspection.MAX_WAIT_SECONDS, description="seconds")] = 30.0,
) -> schemas.MessageSummary:
    """Long poll: the first matching message stored after `since` (default: when this call started)."""
    if filters.since is None:
        filters = inspection.Filters(**{**filters.__dict__, "since": inspection.parse_time("now", name="since")})
    found = await inspection.wait_for(db, filters, timeout=timeout)
    if found is None:
        raise WaitTimedOut(f"no matching message arrived within {timeout:g} seconds")
    with db.read_session() as session:
        return _page(session, [found])[0]


@router.get("/{message_id}", response_model=schemas.MessageDetail, responses=_ERRORS)
def get_stored_message(session: SessionDep, message_id: str) -> schemas.MessageDetail:
    """One message: envelopes (headers, text, html, attachments), recipients and their events."""
    message = inspection.get(session, message_id)
    envelopes = inspection.envelopes_of(session, message_id)
    recipients = inspection.recipients_of(session, [message_id])[message_id]
    events = inspection.events_of(session, [r.id for r in recipients])
    return schemas.MessageDetail.model_validate(
        {
            **_summary(message, recipients, len(envelopes)),
            "envelopes": [_envelope(e, inspection.parsed_envelope(session, e)) for e in envelopes],
            "recipients": [_recipient(r, events[r.id]) for r in recipients],
            "request": _request_json(message.request),
        }
    )


def _envelope(envelope: Envelope, parsed: inspection.ParsedMime) -> dict[str, Any]:
    return {
        "position": envelope.position, "from_email": envelope.from_email, "subject": envelope.subject,
        "send_at": rfc3339(envelope.send_at) if envelope.send_at else None, "custom_args": envelope.custom_args,
        "headers": parsed.headers, "text": parsed.text, "html": parsed.html, "size": len(envelope.mime or b""),
        "attachments": [
            {"index": a.index, "filename": a.filename, "content_type": a.content_type,
             "disposition": a.disposition, "content_id": a.content_id, "size": len(a.payload)}
            for a in parsed.attachments
        ],
    }  # fmt: skip


def _recipient(recipient: Recipient, events: list[Any]) -> dict[str, Any]:
    return {
        "msg_id": recipient.id, "email": recipient.email, "name": recipient.name, "kind": recipient.kind,
        "personalization": recipient.position, "status": recipient.status,
        "events": [
            {"event": e.event, "timestamp": rfc3339(e.occurred_at), "reason": e.reason, "detail": e.detail}
            for e in events
        ],
    }  # fmt: skip


def _request_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _position(personalization: str | None) -> int:
    return optional_int(personalization, field="personalization", minimum=0) or 0


@router.get(
    "/{message_id}/raw", response_class=Response, responses={200: {"content": {"message/rfc822": {}}}, **_ERRORS}
)
def get_raw(session: SessionDep, message_id: str, personalization: Personalization = None) -> Response:
    """The RFC 5322 source (.eml) of one personalization."""
    position = _position(personalization)
    source = inspection.raw(session, message_id, position)
    disposition = f'inline; filename="{message_id}-{position}.eml"'
    return Response(source, media_type="message/rfc822", headers={"Content-Disposition": disposition})


@router.get("/{message_id}/text", response_class=Response, responses={200: {"content": {"text/plain": {}}}, **_ERRORS})
def get_text(session: SessionDep, message_id: str, personalization: Personalization = None) -> Response:
    """The text/plain body (404 when the message has none)."""
    text = inspection.body(session, message_id, _position(personalization), "text")
    return Response(text, media_type="text/plain; charset=utf-8")


@router.get("/{message_id}/html", response_class=Response, responses={200: {"content": {"text/html": {}}}, **_ERRORS})
def get_html(session: SessionDep, message_id: str, personalization: Personalization = None) -> Response:
    """The text/html body, served with a sandboxing CSP (no scripts, no remote loads)."""
    html = inspection.body(session, message_id, _position(personalization), "html")
    policy = "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"
    return Response(html, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": policy})


@router.get(
    "/{message_id}/attachments/{index}", response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **_ERRORS},
)  # fmt: skip
def get_attachment(
    session: SessionDep, message_id: str, index: int, personalization: Personalization = None
) -> Response:
    """One attachment's bytes, by its index in the message detail."""
    part = inspection.attachment(session, message_id, _position(personalization), index)
    filename = (part.filename or f"attachment-{index}").replace('"', "")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(part.payload, media_type=part.content_type, headers=headers)


@router.delete("/{message_id}", status_code=204, response_class=Response, responses=_ERRORS)
def delete_message(session: SessionDep, message_id: str) -> Response:
    """Forget one message."""
    inspection.delete_one(session, message_id)
    return Response(status_code=204)


@router.delete(
    "", status_code=204, response_class=Response, responses=error_responses(400, 403), dependencies=[_only()]
)
def clear_messages(session: SessionDep) -> Response:
    """Forget every stored message (refused with any query parameter: it never deletes only some)."""
    inspection.clear(session)
    return Response(status_code=204)
