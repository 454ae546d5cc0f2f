"""Mail batch ids (/v3/mail/batch): created per account, checked on send."""

from __future__ import annotations

import secrets
import string

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kernel.db.base import utcnow
from app.kernel.errors import BadRequest
from app.kernel.principal import Principal
from app.mail.models import MailBatch

_ALPHABET = string.ascii_letters + string.digits


def create(session: Session, principal: Principal) -> str:
    batch_id = "".join(secrets.choice(_ALPHABET) for _ in range(32))
    session.add(MailBatch(id=batch_id, account_id=principal.account_id, created_at=utcnow()))
    session.flush()
    return batch_id


def get(session: Session, principal: Principal, batch_id: str) -> str:
    """The id if this account created it; SendGrid's 400 `invalid batch id` otherwise."""
    found = session.scalar(
        select(MailBatch.id).where(MailBatch.id == batch_id, MailBatch.account_id == principal.account_id)
    )
    if found is None:
        raise BadRequest("invalid batch id")
    return found
