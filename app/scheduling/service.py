"""Pause or cancel the scheduled sends of a batch (`/v3/user/scheduled_sends`); the scheduler obeys.

A cancelled batch's messages are discarded when their send_at comes; a paused batch's wait, and are
discarded as expired 72 hours after their send_at; removing the status lets them go out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.kernel.db.base import utcnow
from app.kernel.errors import BadRequest, NotFound
from app.kernel.principal import Principal
from app.mail.models import MailBatch
from app.scheduling.models import ScheduledSend

STATUSES = ("pause", "cancel")
MAX_BATCHES = 10


def list_statuses(session: Session, principal: Principal) -> list[ScheduledSend]:
    query = select(ScheduledSend).where(ScheduledSend.account_id == principal.account_id)
    return list(session.scalars(query.order_by(ScheduledSend.created_at, ScheduledSend.batch_id)))


def create(session: Session, principal: Principal, body: Any) -> ScheduledSend:
    """Pause or cancel a batch of this account that has no status yet (at most 10 batches at a time)."""
    fields = body if isinstance(body, dict) else {}
    batch_id = fields.get("batch_id")
    if batch_id is None:
        raise BadRequest("missing required argument", field="batch_id")
    status = _status(fields)
    if not isinstance(batch_id, str) or session.scalar(_batch(batch_id, principal.account_id)) is None:
        raise BadRequest("invalid batch id", field="batch_id")
    if session.get(ScheduledSend, batch_id) is not None:
        raise BadRequest(
            "this batch is already paused or cancelled: change it with PATCH or remove it with DELETE", field="batch_id"
        )
    accounts.serialize_account_writes(session, principal.account_id)
    count = session.scalar(select(func.count()).where(ScheduledSend.account_id == principal.account_id)) or 0
    if count >= MAX_BATCHES:
        raise BadRequest(f"no more than {MAX_BATCHES} batches can be paused or cancelled at one time", field="batch_id")
    row = ScheduledSend(batch_id=batch_id, account_id=principal.account_id, status=status, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def get(session: Session, principal: Principal, batch_id: str) -> ScheduledSend:
    row = session.get(ScheduledSend, batch_id)
    if row is None or row.account_id != principal.account_id:
        raise NotFound("batch id not found")
    return row


def update(session: Session, principal: Principal, batch_id: str, body: Any) -> None:
    row = get(session, principal, batch_id)
    row.status = _status(body if isinstance(body, dict) else {})
    session.flush()


def delete(session: Session, principal: Principal, batch_id: str) -> None:
    """Remove the pause or cancellation: the batch's waiting messages go out when due."""
    session.delete(get(session, principal, batch_id))
    session.flush()


def _status(fields: dict[str, Any]) -> str:
    status = fields.get("status")
    if status is None:
        raise BadRequest("missing required argument", field="status")
    if status not in STATUSES:
        raise BadRequest("status must be one of pause, cancel", field="status")
    return str(status)


def _batch(batch_id: str, account_id: str) -> Any:
    return select(MailBatch.id).where(MailBatch.id == batch_id, MailBatch.account_id == account_id)
