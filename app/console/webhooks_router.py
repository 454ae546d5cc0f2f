"""Console page of the Event Webhook: the account's webhooks and deliveries, with a replay button."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.console import account as console_account
from app.console import pages
from app.console.deps import ConsoleRoute, ReadSessionDep, SignedInDep
from app.webhooks import delivery_log as webhook_log
from app.webhooks import service as webhooks

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

_NOTICES = {"replayed": "The delivery was posted again: its outcome is the newest row."}
PAGE_SIZE = 50


@router.get("/console/webhooks")
def webhooks_page(request: Request, viewer: SignedInDep, session: ReadSessionDep) -> Response:
    """The account's Event Webhooks and its latest deliveries."""
    assert viewer.account is not None
    owner = console_account.principal(viewer.account, viewer.parent)
    return pages.render(
        request, viewer, "webhooks.html", title="Event Webhook", section="webhooks", error=None,
        notice=_NOTICES.get(request.query_params.get("notice", "")), hooks=webhooks.list_all(session, owner),
        entries=webhook_log.list_deliveries(session, account_id=owner.account_id, limit=PAGE_SIZE),
    )  # fmt: skip


@router.post("/console/webhooks/deliveries/{delivery_id}/replay")
async def replay_delivery(request: Request, viewer: SignedInDep, delivery_id: int) -> Response:
    """Post one of the account's deliveries again."""
    await pages.read_form(request, viewer)
    assert viewer.account is not None
    owner = console_account.principal(viewer.account, viewer.parent)
    await webhook_log.replay(request.app.state.db, delivery_id, account_id=owner.account_id)
    return pages.redirect("/console/webhooks?notice=replayed")
