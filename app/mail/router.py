"""POST /v3/mail/send and /v3/mail/batch."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.requests import ClientDisconnect

from app.api_keys import auth
from app.clock import service as clock
from app.faults import middleware as faults
from app.kernel.db.session import Database
from app.kernel.deps import SessionDep, scoped
from app.kernel.error_schemas import ErrorResponse, error_responses, json_request_body
from app.kernel.errors import BadRequest, InternalError, SendGridError
from app.kernel.http_errors import error_response, storage_error_response
from app.kernel.principal import Principal
from app.mail import batches
from app.mail import body as mail_body
from app.mail import service as mail
from app.mail import validation as mail_validation
from app.mail.schemas import BatchId, MailSendRequest

log = logging.getLogger("sgmirror.mail")

router = APIRouter(tags=["Mail Send"])

_SEND_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Accepted; `X-Message-Id` identifies the message",
        "headers": {"X-Message-Id": {"schema": {"type": "string"}}},
    },
    200: {"description": "Sandbox mode: validated, not delivered"},
    **error_responses(400, 403, 413, 415),
    503: {"model": ErrorResponse, "description": "Service Unavailable: the mirror cannot store mail now (Retry-After)"},
}
_SEND_OPENAPI = {**json_request_body(MailSendRequest), "security": [{"HTTPBearer": []}]}


def _authenticate(db: Database, request: Request) -> Principal:
    principal = auth.key_principal(db, request.headers.get("authorization"))
    principal.require_scope("mail.send")
    return principal


@router.post(
    "/v3/mail/send", status_code=202, response_class=Response, responses=_SEND_RESPONSES, openapi_extra=_SEND_OPENAPI
)
async def send_mail(request: Request) -> Response:
    """Validate, store durably, answer 202 with X-Message-Id (200 in sandbox mode)."""
    return await respond(request)


async def respond(request: Request) -> Response:
    """The mail-send answer with errors rendered here: app.mail.lane calls it without the framework's
    exception layers."""
    try:
        return await _send(request)
    except SendGridError as error:
        return error_response(request, error)
    except faults.FaultFired:
        raise  # the fault-injection middleware above answers
    except ClientDisconnect:
        # Nobody will read this answer; nothing was stored.
        return error_response(request, BadRequest("Bad Request"))
    except Exception as error:
        refused = storage_error_response(request, error)
        if refused is not None:
            return refused
        log.exception("unhandled error on POST %s", request.url.path)
        return error_response(request, InternalError())


async def _send(request: Request) -> Response:
    db: Database = request.app.state.db
    mail_body.check_declared_size(request)
    principal = _authenticate(db, request)
    raw = await mail_body.read_body(request)
    message = mail_validation.parse_mail_send(mail_body.decode_json(request, raw), now=clock.unix(db))
    if faults.SCOPE_KEY in request.scope:
        await faults.check_recipients(request, message)
    policy = request.app.state.send_policy
    message_id = await mail.accept(db, principal, message, transport="http", raw_request=raw, policy=policy)
    return Accepted(200 if message.sandbox else 202, message_id)


class Accepted(Response):
    """A send's answer: no body, `X-Message-Id`. The two headers are written out directly, for the one
    response nearly every client call gets."""

    def __init__(self, status: int, message_id: str) -> None:
        self.status_code = status
        self.background = None
        self.body = b""
        self.raw_headers = [(b"content-length", b"0"), (b"x-message-id", message_id.encode("ascii"))]


@router.post("/v3/mail/batch", status_code=201, response_model=BatchId, responses=error_responses(403))
def create_batch(session: SessionDep, principal: Annotated[Principal, Depends(scoped("mail.batch.create"))]) -> BatchId:
    """A new batch id to group sends (and later pause or cancel them)."""
    return BatchId(batch_id=batches.create(session, principal))


@router.get("/v3/mail/batch/{batch_id}", response_model=BatchId, responses=error_responses(400, 403))
def get_batch(
    session: SessionDep, principal: Annotated[Principal, Depends(scoped("mail.batch.read"))], batch_id: str
) -> BatchId:
    """Confirm a batch id exists (400 `invalid batch id` otherwise)."""
    return BatchId(batch_id=batches.get(session, principal, batch_id))
