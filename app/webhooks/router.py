"""/v3/user/webhooks/event: Event Webhook settings, signing, and the test POST."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.kernel.deps import JsonBody, SessionDep, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal
from app.webhooks import delivery_log as webhook_log
from app.webhooks import schemas
from app.webhooks import service as webhooks

router = APIRouter(tags=["Event Webhook"])

Creator = Annotated[Principal, Depends(scoped("user.webhooks.event.settings.create"))]
Reader = Annotated[Principal, Depends(scoped("user.webhooks.event.settings.read"))]
Updater = Annotated[Principal, Depends(scoped("user.webhooks.event.settings.update"))]
Deleter = Annotated[Principal, Depends(scoped("user.webhooks.event.settings.delete"))]
Tester = Annotated[Principal, Depends(scoped("user.webhooks.event.test.create"))]
Include = Annotated[str | None, Query(description="`account_status_change` adds that field")]

SETTINGS = "/v3/user/webhooks/event/settings"
_ONE: dict[str, Any] = {"response_model": schemas.EventWebhook, "response_model_exclude_unset": True}


def _shown(body: dict[str, Any]) -> schemas.EventWebhook:
    return schemas.EventWebhook.model_validate(body)


@router.get(SETTINGS, **_ONE, responses=error_responses(403, 404))
def get_event_webhook_settings(session: SessionDep, principal: Reader, include: Include = None) -> schemas.EventWebhook:
    """The oldest Event Webhook (a disabled one without URL before any exists)."""
    webhook = webhooks.get(session, principal, None)
    return _shown(webhooks.view(webhook, dates=False, key=True, status_change=include == "account_status_change"))


@router.patch(
    SETTINGS, **_ONE, responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.EventWebhookRequest),
)  # fmt: skip
def update_event_webhook_settings(session: SessionDep, principal: Updater, body: JsonBody) -> schemas.EventWebhook:
    """Change the oldest Event Webhook (made on the first PATCH)."""
    return _shown(webhooks.view(webhooks.update(session, principal, None, body), dates=True, key=False))


@router.post(
    SETTINGS, status_code=201, **_ONE, responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.EventWebhookRequest),
)  # fmt: skip
def create_event_webhook(session: SessionDep, principal: Creator, body: JsonBody) -> schemas.EventWebhook:
    """A new Event Webhook (at most five); signing is switched on separately."""
    return _shown(webhooks.view(webhooks.create(session, principal, body), dates=True, key=False))


@router.get(f"{SETTINGS}/all", response_model=schemas.EventWebhookAll, response_model_exclude_unset=True,
            responses=error_responses(403))  # fmt: skip
def list_event_webhooks(session: SessionDep, principal: Reader, include: Include = None) -> schemas.EventWebhookAll:
    """Every Event Webhook of the account, oldest first, with its public key when signed."""
    status_change = include == "account_status_change"
    shown = [_shown(webhooks.view(w, dates=True, key=True, status_change=status_change))
             for w in webhooks.list_all(session, principal)]  # fmt: skip
    return schemas.EventWebhookAll(max_allowed=webhooks.MAX_WEBHOOKS, webhooks=shown)


@router.get(f"{SETTINGS}/signed", response_model=schemas.SignedWebhook, responses=error_responses(403, 404))
def get_signed_event_webhook(session: SessionDep, principal: Reader) -> schemas.SignedWebhook:
    """The oldest webhook's public key (empty while signing is off)."""
    webhook = webhooks.get(session, principal, None)
    return schemas.SignedWebhook.model_validate(webhooks.signed_view(webhook, webhook_id=None))


@router.patch(
    f"{SETTINGS}/signed", response_model=schemas.SignedWebhook, responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.SignedRequest),
)  # fmt: skip
def update_signed_event_webhook(session: SessionDep, principal: Updater, body: JsonBody) -> schemas.SignedWebhook:
    """Switch signing of the oldest webhook on or off; answers the public key (empty when off)."""
    webhook = webhooks.set_signed(session, principal, None, body)
    return schemas.SignedWebhook.model_validate(webhooks.signed_view(webhook, webhook_id=None))


@router.get(f"{SETTINGS}/signed/{{id}}", response_model=schemas.SignedWebhook, responses=error_responses(403, 404))
def get_signed_event_webhook_by_id(session: SessionDep, principal: Reader, id: str) -> schemas.SignedWebhook:
    """One webhook's public key (empty while signing is off)."""
    webhook = webhooks.get(session, principal, id)
    return schemas.SignedWebhook.model_validate(webhooks.signed_view(webhook, webhook_id=id))


@router.patch(
    f"{SETTINGS}/signed/{{id}}", response_model=schemas.SignedWebhook, responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.SignedRequest),
)  # fmt: skip
def update_signed_event_webhook_by_id(
    session: SessionDep, principal: Updater, id: str, body: JsonBody
) -> schemas.SignedWebhook:
    """Switch signing of one webhook on or off."""
    webhook = webhooks.set_signed(session, principal, id, body)
    return schemas.SignedWebhook.model_validate(webhooks.signed_view(webhook, webhook_id=id))


@router.get(f"{SETTINGS}/{{id}}", **_ONE, responses=error_responses(403, 404))
def get_event_webhook(session: SessionDep, principal: Reader, id: str, include: Include = None) -> schemas.EventWebhook:
    """One Event Webhook by id."""
    webhook = webhooks.get(session, principal, id)
    return _shown(webhooks.view(webhook, dates=False, key=True, status_change=include == "account_status_change"))


@router.patch(
    f"{SETTINGS}/{{id}}", **_ONE, responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.EventWebhookRequest),
)  # fmt: skip
def update_event_webhook(session: SessionDep, principal: Updater, id: str, body: JsonBody) -> schemas.EventWebhook:
    """Change one Event Webhook; settings left out keep their values."""
    return _shown(webhooks.view(webhooks.update(session, principal, id, body), dates=True, key=False))


@router.delete(f"{SETTINGS}/{{id}}", status_code=204, response_class=Response, responses=error_responses(403, 404))
def delete_event_webhook(session: SessionDep, principal: Deleter, id: str) -> Response:
    """Delete one Event Webhook for good (its delivery log stays)."""
    webhooks.delete(session, principal, id)
    return Response(status_code=204)


@router.post(
    "/v3/user/webhooks/event/test", status_code=204, response_class=Response, responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.EventWebhookTestRequest),
)  # fmt: skip
async def test_event_webhook(request: Request, principal: Tester, body: JsonBody) -> Response:
    """POST sample events to the given URL now (signed when the webhook is); the outcome is in the delivery log."""
    await webhook_log.send_test(request.app.state.db, principal, body)
    return Response(status_code=204)
