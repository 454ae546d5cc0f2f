"""Replaying a delivery that is still being retried: the receiver gets its events once more, not twice."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import httpx
import pytest

from app.kernel.db.session import Database
from app.webhooks import dispatch as webhook_dispatch
from app.webhooks import posting as webhook_posting
from tests.conftest import Keys, bearer
from tests.support.mail import body
from tests.support.webhooks import Receiver, advance, deliveries, dispatch, enable, receiver

pytestmark = pytest.mark.anyio
__all__ = ["receiver"]

DAY = 24 * 3600


async def _failed_once(client: httpx.AsyncClient, key: str, receiver: Receiver) -> dict[str, Any]:
    """A batch whose first POST the receiver refused: pending, its next retry a minute away."""
    await enable(client, key, receiver.url, signed=False)
    sent = await client.post("/v3/mail/send", headers=bearer(key), json=body())
    assert sent.status_code == 202, sent.text
    receiver.status = 503
    await dispatch(client)
    [pending] = await deliveries(client)
    assert (pending["status"], pending["attempts"]) == ("pending", 1)
    receiver.status = 200
    return pending


async def _replay(client: httpx.AsyncClient, delivery_id: int) -> dict[str, Any]:
    response = await client.post(f"/_mirror/webhooks/deliveries/{delivery_id}/replay")
    assert response.status_code == 201, response.text
    replayed: dict[str, Any] = response.json()
    return replayed


async def test_a_replayed_pending_delivery_is_not_retried_so_its_events_arrive_once_more(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    pending = await _failed_once(client, keys.default, receiver)

    replay = await _replay(client, pending["id"])
    assert (replay["kind"], replay["replay_of"], replay["status"]) == ("replay", pending["id"], "delivered")
    assert len(receiver.posts) == 2

    # The whole retry window passes: the original must not be posted again.
    for _ in range(30):
        await advance(client, 3600)
        await dispatch(client, settle=False)
    assert len(receiver.posts) == 2
    assert receiver.posts[1].body == receiver.posts[0].body
    original = (await client.get(f"/_mirror/webhooks/deliveries/{pending['id']}")).json()
    assert (original["status"], original["attempts"], original["next_attempt_at"]) == ("replayed", 1, None)
    [listed] = await deliveries(client, status="replayed")
    assert listed["id"] == pending["id"]


async def test_replaying_a_settled_delivery_leaves_its_status_alone(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    await enable(client, keys.default, receiver.url, signed=False)
    sent = await client.post("/v3/mail/send", headers=bearer(keys.default), json=body())
    assert sent.status_code == 202, sent.text
    await dispatch(client)
    [delivered] = await deliveries(client)
    assert delivered["status"] == "delivered"
    await _replay(client, delivered["id"])
    after = (await client.get(f"/_mirror/webhooks/deliveries/{delivered['id']}")).json()
    assert after["status"] == "delivered"
    assert len(receiver.posts) == 2


async def test_an_attempt_in_flight_when_the_replay_came_does_not_bring_the_retries_back(
    client: httpx.AsyncClient, keys: Keys, db: Database, receiver: Receiver
) -> None:
    pending = await _failed_once(client, keys.default, receiver)
    await advance(client, 61)
    [in_flight] = await db.writer.run(webhook_dispatch.claim_due)
    assert in_flight.delivery_id == pending["id"]

    await _replay(client, pending["id"])
    refused = webhook_posting.Result(
        in_flight.delivery_id,
        datetime.fromisoformat(pending["created_at"]),
        in_flight.url,
        in_flight.event_count,
        signed=False,
        status_code=500,
    )
    await db.writer.run(functools.partial(webhook_dispatch.record, results=[refused]))

    original = (await client.get(f"/_mirror/webhooks/deliveries/{pending['id']}")).json()
    assert (original["status"], original["attempts"], original["next_attempt_at"]) == ("replayed", 2, None)
    await advance(client, DAY)
    await dispatch(client, settle=False)
    assert len(receiver.posts) == 2
