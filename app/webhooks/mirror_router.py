"""/_mirror/webhooks: the Event Webhook delivery log of every account, replay, and a dispatch pass on demand."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.kernel.db.base import as_utc
from app.kernel.deps import AdminDep, SessionDep, optional_int
from app.kernel.error_schemas import error_responses
from app.webhooks import delivery_log as webhook_log
from app.webhooks import dispatch as webhook_dispatch
from app.webhooks import schemas
from app.webhooks.models import WebhookAttempt

router = APIRouter(prefix="/_mirror/webhooks", tags=["Mirror: webhooks"], dependencies=[AdminDep])


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).isoformat()


def _attempt(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "attempted_at": _iso(attempt.attempted_at), "url": attempt.url, "status_code": attempt.status_code,
        "error": attempt.error, "response": attempt.response, "event_count": attempt.event_count,
        "signed": attempt.signed,
    }  # fmt: skip


def summary(entry: webhook_log.Entry) -> dict[str, Any]:
    """A delivery as the log lists it, with its latest attempt."""
    d = entry.delivery
    return {
        "id": d.id, "account_id": d.account_id, "webhook_id": d.webhook_id, "kind": d.kind, "replay_of": d.replay_of,
        "url": d.url, "status": d.status, "attempts": d.attempts, "event_count": d.event_count,
        "created_at": _iso(d.created_at), "next_attempt_at": _iso(d.next_attempt_at), "give_up_at": _iso(d.give_up_at),
        "last_attempt": _attempt(entry.last) if entry.last else None,
    }  # fmt: skip


def _detail(entry: webhook_log.Entry) -> schemas.WebhookDeliveryDetail:
    return schemas.WebhookDeliveryDetail.model_validate(
        {**summary(entry), "payload": entry.events(), "attempt_log": [_attempt(a) for a in entry.attempts]}
    )


@router.get("/deliveries", response_model=schemas.WebhookDeliveryPage, responses=error_responses(400, 403))
def list_webhook_deliveries(
    session: SessionDep,
    account: Annotated[str | None, Query(description="an account id")] = None,
    status: Annotated[str | None, Query(description="pending, delivered, failed or replayed")] = None,
    limit: Annotated[str | None, Query(description="1 to 200, default 50")] = None,
    offset: Annotated[str | None, Query()] = None,
) -> schemas.WebhookDeliveryPage:
    """Event Webhook deliveries (batches, tests and replays), newest first."""
    entries = webhook_log.list_deliveries(
        session, account_id=account, status=status,
        limit=optional_int(limit, field="limit", maximum=webhook_log.MAX_PAGE) or 50,
        offset=optional_int(offset, field="offset", minimum=0) or 0,
    )  # fmt: skip
    return schemas.WebhookDeliveryPage(deliveries=[schemas.WebhookDelivery.model_validate(summary(e)) for e in entries])


@router.get(
    "/deliveries/{delivery_id}", response_model=schemas.WebhookDeliveryDetail, responses=error_responses(403, 404)
)
def get_webhook_delivery(session: SessionDep, delivery_id: int) -> schemas.WebhookDeliveryDetail:
    """One delivery with the exact events it posts and every attempt."""
    return _detail(webhook_log.get_delivery(session, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/replay",
    status_code=201,
    response_model=schemas.WebhookDeliveryDetail,
    responses=error_responses(403, 404),
)
async def replay_webhook_delivery(request: Request, delivery_id: int) -> schemas.WebhookDeliveryDetail:
    """POST a delivery's events again now (newly signed), as a new `replay` delivery tried once."""
    db = request.app.state.db
    replayed = await webhook_log.replay(db, delivery_id)
    with db.read_session() as session:
        return _detail(webhook_log.get_delivery(session, replayed))


@router.post("/run", response_model=schemas.WebhookPass, responses=error_responses(403))
async def run_webhook_dispatch(request: Request) -> schemas.WebhookPass:
    """Batch new events and POST every due delivery now, without waiting for the background pass."""
    done = await webhook_dispatch.run_once(request.app.state.db)
    return schemas.WebhookPass(events=done.events, attempts=done.attempts)
