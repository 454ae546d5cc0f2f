"""/v3/user/scheduled_sends: pause or cancel a batch's scheduled sends, and undo it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.kernel.deps import JsonBody, SessionDep, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal
from app.scheduling import schemas
from app.scheduling import service as scheduled_sends
from app.scheduling.models import ScheduledSend

router = APIRouter(tags=["Cancel Scheduled Sends"])

Creator = Annotated[Principal, Depends(scoped("user.scheduled_sends.create"))]
Reader = Annotated[Principal, Depends(scoped("user.scheduled_sends.read"))]
Updater = Annotated[Principal, Depends(scoped("user.scheduled_sends.update"))]
Deleter = Annotated[Principal, Depends(scoped("user.scheduled_sends.delete"))]


def _view(row: ScheduledSend) -> schemas.ScheduledSendStatus:
    return schemas.ScheduledSendStatus.model_validate({"batch_id": row.batch_id, "status": row.status})


@router.post(
    "/v3/user/scheduled_sends",
    status_code=201,
    response_model=schemas.ScheduledSendStatus,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.ScheduledSendCreate),
)
def create_scheduled_send(session: SessionDep, principal: Creator, body: JsonBody) -> schemas.ScheduledSendStatus:
    """Pause or cancel the scheduled sends of a batch."""
    return _view(scheduled_sends.create(session, principal, body))


@router.get(
    "/v3/user/scheduled_sends",
    response_model=list[schemas.ScheduledSendStatus],
    responses=error_responses(400, 403, 404),
)
def list_scheduled_sends(session: SessionDep, principal: Reader) -> list[schemas.ScheduledSendStatus]:
    """Every paused or cancelled batch of the account (a bare array)."""
    return [_view(row) for row in scheduled_sends.list_statuses(session, principal)]


@router.get(
    "/v3/user/scheduled_sends/{batch_id}",
    response_model=list[schemas.ScheduledSendStatus],
    responses=error_responses(400, 403, 404),
)
def get_scheduled_send(session: SessionDep, principal: Reader, batch_id: str) -> list[schemas.ScheduledSendStatus]:
    """The status of one batch, as a one-element array (the spec's shape)."""
    return [_view(scheduled_sends.get(session, principal, batch_id))]


@router.patch(
    "/v3/user/scheduled_sends/{batch_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.ScheduledSendUpdate),
)
def update_scheduled_send(session: SessionDep, principal: Updater, batch_id: str, body: JsonBody) -> Response:
    """Switch a batch between pause and cancel."""
    scheduled_sends.update(session, principal, batch_id, body)
    return Response(status_code=204)


@router.delete(
    "/v3/user/scheduled_sends/{batch_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 403, 404),
)
def delete_scheduled_send(session: SessionDep, principal: Deleter, batch_id: str) -> Response:
    """Remove the pause or cancellation: waiting messages go out when due."""
    scheduled_sends.delete(session, principal, batch_id)
    return Response(status_code=204)
