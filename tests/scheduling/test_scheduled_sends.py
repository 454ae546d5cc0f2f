"""Scheduled sends: held until the mirror clock reaches send_at; batches paused or cancelled for real."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import Keys, bearer
from tests.support.mail import body

pytestmark = pytest.mark.anyio

SCHEDULED = "/v3/user/scheduled_sends"
HOUR = 3600


async def _batch(client: httpx.AsyncClient, key: str) -> str:
    response = await client.post("/v3/mail/batch", headers=bearer(key))
    batch_id: str = response.json()["batch_id"]
    return batch_id


async def _schedule(client: httpx.AsyncClient, key: str, *, after: int, **changes: Any) -> str:
    now = (await client.get("/_mirror/clock")).json()["now"]
    response = await client.post("/v3/mail/send", headers=bearer(key), json=body(send_at=now + after, **changes))
    assert response.status_code == 202, response.text
    message_id: str = response.headers["x-message-id"]
    return message_id


async def _state(client: httpx.AsyncClient, message_id: str) -> tuple[str, list[str], list[str]]:
    """The message's status, its recipients' statuses, and every event name in order."""
    detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
    recipients = detail["recipients"]
    events = [e["event"] for r in recipients for e in r["events"]]
    return detail["status"], [r["status"] for r in recipients], events


async def _advance(client: httpx.AsyncClient, seconds: int) -> dict[str, Any]:
    response = await client.post("/_mirror/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    advanced: dict[str, Any] = response.json()
    return advanced


async def test_a_send_two_hours_ahead_is_delivered_when_the_clock_passes_it(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    message_id = await _schedule(client, keys.default, after=2 * HOUR)
    assert await _state(client, message_id) == ("scheduled", ["processed"], ["processed"])
    assert (await _advance(client, HOUR))["delivered"] == 0
    assert await _state(client, message_id) == ("scheduled", ["processed"], ["processed"])
    assert (await _advance(client, HOUR + 1))["delivered"] == 1
    assert await _state(client, message_id) == ("sent", ["delivered"], ["processed", "delivered"])


async def test_cancelling_the_batch_first_means_it_never_delivers(client: httpx.AsyncClient, keys: Keys) -> None:
    batch_id = await _batch(client, keys.default)
    message_id = await _schedule(client, keys.default, after=2 * HOUR, batch_id=batch_id)
    cancel = await client.post(SCHEDULED, headers=bearer(keys.default), json={"batch_id": batch_id, "status": "cancel"})
    assert (cancel.status_code, cancel.json()) == (201, {"batch_id": batch_id, "status": "cancel"})
    await _advance(client, 3 * HOUR)
    assert await _state(client, message_id) == ("cancelled", ["not_delivered"], ["processed", "dropped"])
    detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
    assert detail["recipients"][0]["events"][1]["reason"] == "Scheduled send cancelled"
    await client.delete(f"{SCHEDULED}/{batch_id}", headers=bearer(keys.default))
    await _advance(client, HOUR)
    assert (await _state(client, message_id))[0] == "cancelled"


async def test_a_paused_batch_waits_and_goes_out_when_resumed(client: httpx.AsyncClient, keys: Keys) -> None:
    batch_id = await _batch(client, keys.default)
    message_id = await _schedule(client, keys.default, after=HOUR, batch_id=batch_id)
    other = await _schedule(client, keys.default, after=HOUR)
    await client.post(SCHEDULED, headers=bearer(keys.default), json={"batch_id": batch_id, "status": "pause"})
    await _advance(client, 2 * HOUR)
    assert (await _state(client, message_id))[0] == "scheduled"
    assert (await _state(client, other))[0] == "sent"
    assert (await client.delete(f"{SCHEDULED}/{batch_id}", headers=bearer(keys.default))).status_code == 204
    assert (await client.post("/_mirror/scheduler/run")).json() == {"delivered": 1}
    assert await _state(client, message_id) == ("sent", ["delivered"], ["processed", "delivered"])


async def test_a_pause_expires_72_hours_after_send_at(client: httpx.AsyncClient, keys: Keys) -> None:
    batch_id = await _batch(client, keys.default)
    message_id = await _schedule(client, keys.default, after=HOUR, batch_id=batch_id)
    await client.post(SCHEDULED, headers=bearer(keys.default), json={"batch_id": batch_id, "status": "pause"})
    await _advance(client, HOUR + 71 * HOUR)
    assert (await _state(client, message_id))[0] == "scheduled"
    await _advance(client, HOUR)
    assert await _state(client, message_id) == ("expired", ["not_delivered"], ["processed", "dropped"])


async def test_each_personalization_goes_out_at_its_own_send_at(client: httpx.AsyncClient, keys: Keys) -> None:
    now = (await client.get("/_mirror/clock")).json()["now"]
    personalizations = [
        {"to": [{"email": "now@example.com"}]},
        {"to": [{"email": "later@example.com"}], "send_at": now + HOUR},
    ]
    response = await client.post(
        "/v3/mail/send", headers=bearer(keys.default), json=body(personalizations=personalizations)
    )
    message_id = response.headers["x-message-id"]
    assert (await _state(client, message_id))[1] == ["delivered", "processed"]
    await _advance(client, HOUR)
    assert (await _state(client, message_id))[1] == ["delivered", "delivered"]


async def test_send_at_is_checked_against_the_mirror_clock(client: httpx.AsyncClient, keys: Keys) -> None:
    await _advance(client, 10 * HOUR)
    real_now = int(time.time())
    ahead = await client.post("/v3/mail/send", headers=bearer(keys.default), json=body(send_at=real_now + 80 * HOUR))
    assert ahead.status_code == 202
    too_far = await client.post("/v3/mail/send", headers=bearer(keys.default), json=body(send_at=real_now + 83 * HOUR))
    assert too_far.status_code == 400
    assert too_far.json()["errors"][0]["message"] == "Scheduling more than 72 hours in advance is forbidden."
    past_real_time = await client.post(
        "/v3/mail/send", headers=bearer(keys.default), json=body(send_at=real_now + HOUR)
    )
    assert (await _state(client, past_real_time.headers["x-message-id"]))[0] == "sent"


async def test_the_clock_endpoints(client: httpx.AsyncClient) -> None:
    clock = (await client.get("/_mirror/clock")).json()
    assert clock["offset_seconds"] == 0
    assert abs(clock["now"] - time.time()) < 5
    assert (await client.put("/_mirror/clock", json={"offset_seconds": 60})).json()["offset_seconds"] == 60
    assert (await _advance(client, 40))["offset_seconds"] == 100
    assert (await client.delete("/_mirror/clock")).json()["offset_seconds"] == 0
    bad = await client.post("/_mirror/clock/advance", json={"seconds": -5})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "seconds"


async def test_scheduled_sends_api(client: httpx.AsyncClient, keys: Keys) -> None:
    headers = bearer(keys.default)
    first, second = await _batch(client, keys.default), await _batch(client, keys.default)
    await client.post(SCHEDULED, headers=headers, json={"batch_id": first, "status": "pause"})
    await client.post(SCHEDULED, headers=headers, json={"batch_id": second, "status": "cancel"})
    listed = (await client.get(SCHEDULED, headers=headers)).json()
    assert listed == [{"batch_id": first, "status": "pause"}, {"batch_id": second, "status": "cancel"}]
    assert (await client.get(f"{SCHEDULED}/{first}", headers=headers)).json() == [
        {"batch_id": first, "status": "pause"}
    ]
    patched = await client.patch(f"{SCHEDULED}/{first}", headers=headers, json={"status": "cancel"})
    assert (patched.status_code, patched.content) == (204, b"")
    assert (await client.get(f"{SCHEDULED}/{first}", headers=headers)).json()[0]["status"] == "cancel"
    assert (await client.delete(f"{SCHEDULED}/{first}", headers=headers)).status_code == 204
    for response in (
        await client.get(f"{SCHEDULED}/{first}", headers=headers),
        await client.patch(f"{SCHEDULED}/{first}", headers=headers, json={"status": "pause"}),
        await client.delete(f"{SCHEDULED}/{first}", headers=headers),
    ):
        assert response.status_code == 404
        assert response.json() == {"errors": [{"field": None, "message": "batch id not found"}]}


async def test_scheduled_sends_errors(client: httpx.AsyncClient, keys: Keys) -> None:
    headers = bearer(keys.default)
    batch_id = await _batch(client, keys.default)

    async def refused(payload: dict[str, Any]) -> dict[str, Any]:
        response = await client.post(SCHEDULED, headers=headers, json=payload)
        assert response.status_code == 400, response.text
        error: dict[str, Any] = response.json()["errors"][0]
        return error

    assert await refused({"status": "pause"}) == {"field": "batch_id", "message": "missing required argument"}
    assert await refused({"batch_id": batch_id}) == {"field": "status", "message": "missing required argument"}
    assert (await refused({"batch_id": batch_id, "status": "stop"}))["message"] == "status must be one of pause, cancel"
    assert await refused({"batch_id": "unknown", "status": "pause"}) == {
        "field": "batch_id",
        "message": "invalid batch id",
    }
    await client.post(SCHEDULED, headers=headers, json={"batch_id": batch_id, "status": "pause"})
    assert (await refused({"batch_id": batch_id, "status": "cancel"}))["field"] == "batch_id"
    for _ in range(9):
        other = await _batch(client, keys.default)
        await client.post(SCHEDULED, headers=headers, json={"batch_id": other, "status": "pause"})
    eleventh = await _batch(client, keys.default)
    limit = await refused({"batch_id": eleventh, "status": "pause"})
    assert limit["message"] == "no more than 10 batches can be paused or cancelled at one time"
    narrow = await client.post("/v3/api_keys", headers=headers, json={"name": "m", "scopes": ["mail.send"]})
    forbidden = await client.get(SCHEDULED, headers=bearer(narrow.json()["api_key"]))
    assert forbidden.status_code == 403
