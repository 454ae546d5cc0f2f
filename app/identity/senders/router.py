"""/v3/verified_senders: single senders, their verification email and link, and the account's steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.clock import service as clock
from app.identity.models import VerifiedSender
from app.identity.senders import schemas
from app.identity.senders import service as verified_senders
from app.kernel.db.session import Database
from app.kernel.deps import JsonBody, SessionDep, optional_int, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal

router = APIRouter(tags=["Sender Verification"])

# SendGrid documents no scope for these endpoints: any valid key may use them (CONTRACT §1.3).
AnyKey = Annotated[Principal, Depends(scoped(None))]
T = TypeVar("T")


def _view(sender: VerifiedSender) -> schemas.VerifiedSender:
    return schemas.VerifiedSender.model_validate(sender, from_attributes=True)


def base_url(request: Request) -> str:
    """Where emailed links point: SGMIRROR_PUBLIC_URL, else the URL the caller used."""
    configured: str | None = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


async def _committed(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in its own transaction, committed before the verification email is sent."""
    db: Database = request.app.state.db

    def run() -> T:
        with db.session() as session:
            return work(session)

    return await run_in_threadpool(run)


@router.post(
    "/v3/verified_senders",
    status_code=201,
    response_model=schemas.VerifiedSender,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.VerifiedSenderRequest),
)
async def create_verified_sender(request: Request, principal: AnyKey, body: JsonBody) -> schemas.VerifiedSender:
    """Create an unverified sender and email it a verification link."""
    now = clock.now(request.app.state.db)
    issued = await _committed(request, lambda s: verified_senders.create(s, principal, body, now=now))
    await verified_senders.send_verification(request.app.state.db, issued, base_url=base_url(request))
    return _view(issued.sender)


@router.get("/v3/verified_senders", response_model=schemas.VerifiedSenderList, responses=error_responses(400, 403, 404))
def list_verified_senders(
    session: SessionDep,
    principal: AnyKey,
    limit: Annotated[str | None, Query()] = None,
    last_seen_id: Annotated[str | None, Query(alias="lastSeenID")] = None,
    sender_id: Annotated[str | None, Query(alias="id")] = None,
) -> schemas.VerifiedSenderList:
    """The account's senders, verified or not, by id (`lastSeenID` pages, `id` picks one)."""
    found = verified_senders.list_senders(
        session,
        principal,
        limit=optional_int(limit, field="limit"),
        last_seen_id=optional_int(last_seen_id, field="lastSeenID", minimum=0),
        sender_id=optional_int(sender_id, field="id", minimum=0),
    )
    return schemas.VerifiedSenderList(results=[_view(sender) for sender in found])


@router.get("/v3/verified_senders/domains", response_model=schemas.DmarcDomains, responses=error_responses(403, 404))
def list_verified_sender_domains(principal: AnyKey) -> schemas.DmarcDomains:
    """Domains whose DMARC policy makes them fail (hard) or risk failing (soft) as sender identities."""
    failures = schemas.DmarcFailures(
        soft_failures=list(verified_senders.SOFT_FAILURES), hard_failures=list(verified_senders.HARD_FAILURES)
    )
    return schemas.DmarcDomains(results=failures)


@router.get(
    "/v3/verified_senders/steps_completed", response_model=schemas.StepsCompleted, responses=error_responses(403, 404)
)
def list_verified_sender_steps_completed(session: SessionDep, principal: AnyKey) -> schemas.StepsCompleted:
    """Whether the account has a verified single sender and a validated authenticated domain."""
    sender, domain = verified_senders.steps_completed(session, principal)
    return schemas.StepsCompleted(results=schemas.Steps(sender_verified=sender, domain_verified=domain))


@router.get(
    "/v3/verified_senders/verify/{token}",
    status_code=204,
    response_class=Response,
    responses=error_responses(403, 404),
)
def verify_sender_token(request: Request, session: SessionDep, principal: AnyKey, token: str) -> Response:
    """Verify the sender a token was emailed for (the link in the email does the same)."""
    now = clock.now(request.app.state.db)
    verified_senders.verify(session, token, now=now, account_id=principal.account_id)
    return Response(status_code=204)


@router.post(
    "/v3/verified_senders/resend/{id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 403, 404),
)
async def resend_verified_sender(request: Request, principal: AnyKey, id: str) -> Response:
    """Email a new verification link (the previous one stops working)."""
    now = clock.now(request.app.state.db)
    issued = await _committed(request, lambda s: verified_senders.reissue(s, principal, id, now=now))
    await verified_senders.send_verification(request.app.state.db, issued, base_url=base_url(request))
    return Response(status_code=204)


@router.patch(
    "/v3/verified_senders/{id}",
    response_model=schemas.VerifiedSender,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.VerifiedSenderRequest),
)
async def update_verified_sender(
    request: Request, principal: AnyKey, id: str, body: JsonBody
) -> schemas.VerifiedSender:
    """Change the given fields; a new from_email is unverified until its new link is followed."""
    now = clock.now(request.app.state.db)
    issued = await _committed(request, lambda s: verified_senders.update(s, principal, id, body, now=now))
    await verified_senders.send_verification(request.app.state.db, issued, base_url=base_url(request))
    return _view(issued.sender)


@router.delete(
    "/v3/verified_senders/{id}", status_code=204, response_class=Response, responses=error_responses(403, 404)
)
def delete_verified_sender(session: SessionDep, principal: AnyKey, id: str) -> Response:
    """Delete a sender; mail from its address is refused again (unless its domain is authenticated)."""
    verified_senders.delete(session, principal, id)
    return Response(status_code=204)
