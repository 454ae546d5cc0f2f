"""Helpers shared by the delivery simulator tests: send, read a recipient's events, move the clock."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from app.delivery.models import PendingEvent
from app.kernel.db.session import Database
from app.suppressions.models import Suppression
from tests.conftest import bearer
from tests.support.mail import body


async def send(client: httpx.AsyncClient, key: str, to: str, **changes: Any) -> str:
    """Send to one address; returns the recipient's msg_id (sg_message_id)."""
    response = await client.post(
        "/v3/mail/send", headers=bearer(key), json=body(personalizations=[{"to": [{"email": to}]}], **changes)
    )
    assert response.status_code == 202, response.text
    message_id = response.headers["x-message-id"]
    detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
    msg_id: str = detail["recipients"][0]["msg_id"]
    return msg_id


async def recipient(client: httpx.AsyncClient, msg_id: str) -> dict[str, Any]:
    """The inspection API's view of one recipient (status and events with reason and detail)."""
    message_id = msg_id.split(".", 1)[0]
    detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
    found: dict[str, Any] = next(r for r in detail["recipients"] if r["msg_id"] == msg_id)
    return found


async def events(client: httpx.AsyncClient, msg_id: str) -> list[str]:
    return [e["event"] for e in (await recipient(client, msg_id))["events"]]


async def advance(client: httpx.AsyncClient, seconds: int) -> None:
    response = await client.post("/_mirror/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


async def activity(client: httpx.AsyncClient, key: str, msg_id: str) -> dict[str, Any]:
    response = await client.get(f"/v3/messages/{msg_id}", headers=bearer(key))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def lists_of(db: Database, email: str) -> set[str]:
    """The suppression lists holding `email`."""
    with db.session() as session:
        return set(session.scalars(select(Suppression.kind).where(Suppression.email == email)))


def pending_count(db: Database) -> int:
    with db.session() as session:
        return len(list(session.scalars(select(PendingEvent.id))))
