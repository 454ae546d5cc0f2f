"""GET /v3/messages and /v3/messages/{msg_id} (Email Activity)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.activity import schemas
from app.activity import service as activity
from app.kernel.deps import ReadSessionDep, scoped
from app.kernel.error_schemas import error_responses
from app.kernel.principal import Principal
from app.kernel.timestamps import rfc3339
from app.mail.models import Recipient

router = APIRouter(tags=["Email Activity"])

Reader = Annotated[Principal, Depends(scoped("messages.read"))]
# The mirror delivers from loopback; SendGrid reports the sending and outbound IPs here.
_MIRROR_IP = "127.0.0.1"


def _summary(recipient: Recipient) -> schemas.ActivitySummary:
    return schemas.ActivitySummary(
        from_email=recipient.from_email,
        msg_id=recipient.id,
        subject=recipient.subject or "",
        to_email=recipient.email,
        status=recipient.status,
        opens_count=recipient.opens_count,
        clicks_count=recipient.clicks_count,
        last_event_time=rfc3339(recipient.last_event_time),
    )


@router.get("/v3/messages", response_model=schemas.ActivityList, responses=error_responses(400, 403, 429))
def list_messages(
    session: ReadSessionDep,
    principal: Reader,
    query: Annotated[str | None, Query(description='Email Activity query, e.g. to_email="a@example.com"')] = None,
    limit: Annotated[str | None, Query(description="1 to 1000, default 10")] = None,
) -> schemas.ActivityList:
    """Filter the account's messages with SendGrid's query language."""
    found = activity.search(session, principal, query=query, limit=limit)
    return schemas.ActivityList(messages=[_summary(r) for r in found])


@router.get(
    "/v3/messages/{msg_id}",
    response_model=schemas.ActivityDetailOut,
    # An event carries only the fields that apply to it (no `"url": null` on a delivered event).
    response_model_exclude_none=True,
    responses=error_responses(400, 403, 404),
)
def get_message(session: ReadSessionDep, principal: Reader, msg_id: str) -> schemas.ActivityDetailOut:
    """One recipient's message with its event history."""
    found = activity.detail(session, principal, msg_id)
    summary = _summary(found.recipient)
    return schemas.ActivityDetailOut(
        **summary.model_dump(exclude={"opens_count", "clicks_count", "last_event_time"}),
        template_id=found.message.template_id or "",
        # Sends made with an API key have no teammate; SendGrid's schema allows the empty name.
        teammate="",
        api_key_id=found.message.api_key_id,
        events=[
            schemas.ActivityEventOut(
                event_name=e.event_name, processed=rfc3339(e.processed), reason=e.reason, **e.extra
            )
            for e in found.events
        ],
        categories=found.message.categories,
        # SendGrid reports custom args as a JSON hash in a string.
        unique_args=json.dumps({str(k): str(v) for k, v in found.message.custom_args.items()}),
        originating_ip=_MIRROR_IP,
        outbound_ip=_MIRROR_IP,
        outbound_ip_type="shared",
    )
