"""The Event Webhook POSTs events to a real receiver on loopback: SendGrid's JSON, signed, retried, replayable."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.kernel.db.session import Database
from app.webhooks import dispatch as webhook_dispatch
from tests.conftest import Keys, bearer
from tests.support.mail import body
from tests.support.webhooks import SIGNATURE, TIMESTAMP, Receiver, advance, deliveries, dispatch, enable, receiver

pytestmark = pytest.mark.anyio
__all__ = ["receiver"]

HOUR = 3600


async def send(client: httpx.AsyncClient, key: str, **changes: Any) -> str:
    response = await client.post("/v3/mail/send", headers=bearer(key), json=body(**changes))
    assert response.status_code == 202, response.text
    message_id: str = response.headers["x-message-id"]
    return message_id


async def test_events_arrive_as_sendgrid_posts_them_and_the_sdk_verifies_the_signature(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    public_key = await enable(client, keys.default, receiver.url)
    assert public_key
    message_id = await send(
        client, keys.default, categories=["welcome", "trial"], custom_args={"order": "42"},
        personalizations=[{"to": [{"email": "Alice@Example.com"}], "custom_args": {"user": "7"}}],
    )  # fmt: skip

    assert (await dispatch(client))["attempts"] == 1
    [post] = receiver.posts
    assert post.headers["Content-Type"] == "application/json;charset=utf-8"
    assert post.headers["User-Agent"] == "SendGrid Event API"
    assert post.verified_by_the_sdk(public_key)
    assert post.headers[TIMESTAMP].isdigit()
    processed, delivered = post.events
    recipient = f"{message_id}.filter0001.0.0.0"
    assert list(processed) == [
        "email", "timestamp", "smtp-id", "event", "category", "sg_event_id", "sg_message_id", "order", "user",
    ]  # fmt: skip
    assert processed["email"] == "alice@example.com"
    assert processed["event"] == "processed"
    assert processed["category"] == ["welcome", "trial"]
    assert processed["sg_message_id"] == recipient
    assert processed["smtp-id"] == f"<{message_id}.0@sendgrid-mirror.local>"
    assert (processed["order"], processed["user"]) == ("42", "7")
    assert isinstance(processed["timestamp"], int)
    assert len(processed["sg_event_id"]) == 22
    assert delivered["event"] == "delivered"
    assert delivered["response"] == "250 OK"
    assert delivered["sg_event_id"] != processed["sg_event_id"]


async def test_a_tampered_body_or_another_key_fails_verification(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    public_key = await enable(client, keys.default, receiver.url)
    assert public_key
    await send(client, keys.default)
    await dispatch(client)
    [post] = receiver.posts
    post.body = post.body.replace(b"processed", b"delivered")
    assert not post.verified_by_the_sdk(public_key)


async def test_only_the_switched_on_event_types_are_sent(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    await enable(client, keys.default, receiver.url, events=("delivered",), signed=False)
    await send(client, keys.default)
    await dispatch(client)
    [post] = receiver.posts
    assert [e["event"] for e in post.events] == ["delivered"]
    assert SIGNATURE not in post.headers


async def test_nothing_is_sent_while_disabled_nor_what_happened_before_enabling(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    await enable(client, keys.default, receiver.url, signed=False)
    off = await client.patch("/v3/user/webhooks/event/settings", headers=bearer(keys.default), json={"enabled": False})
    assert off.status_code == 200
    await send(client, keys.default, subject="while disabled")
    assert (await dispatch(client))["attempts"] == 0
    await enable(client, keys.default, receiver.url, signed=False)
    assert (await dispatch(client))["attempts"] == 0
    assert receiver.posts == []
    await send(client, keys.default, subject="after enabling")
    await dispatch(client)
    assert len(receiver.posts) == 1


async def test_a_failing_receiver_is_retried_with_backoff_and_given_up_after_24_hours(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    receiver.status = 500
    await enable(client, keys.default, receiver.url, signed=False)
    await send(client, keys.default)
    await dispatch(client)
    [delivery] = await deliveries(client)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert delivery["last_attempt"]["status_code"] == 500
    assert delivery["last_attempt"]["response"] == "receiver is down"

    await dispatch(client, settle=False)
    assert len(receiver.posts) == 1, "not due yet: the first retry waits a minute"
    await advance(client, 61)
    await dispatch(client, settle=False)
    assert len(receiver.posts) == 2
    await advance(client, 61)
    await dispatch(client, settle=False)
    assert len(receiver.posts) == 2, "the second retry waits two minutes"

    hours = 0
    while (await deliveries(client))[0]["status"] == "pending":
        await advance(client, HOUR)
        await dispatch(client, settle=False)
        hours += 1
        assert hours <= 25
    [gave_up] = await deliveries(client)
    assert gave_up["status"] == "failed"
    assert 23 <= hours <= 25
    assert len({post.body for post in receiver.posts}) == 1, "every retry posts the same batch"
    attempts = len(receiver.posts)
    assert gave_up["attempts"] == attempts
    await advance(client, 2 * HOUR)
    await dispatch(client, settle=False)
    assert len(receiver.posts) == attempts


async def test_a_connection_refused_is_logged_as_an_error_and_retried(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    await enable(client, keys.default, "http://127.0.0.1:9/closed", signed=False)
    await send(client, keys.default)
    await dispatch(client)
    [delivery] = await deliveries(client)
    assert delivery["status"] == "pending"
    assert delivery["last_attempt"]["status_code"] is None
    assert "Connect" in delivery["last_attempt"]["error"]


async def test_replay_posts_the_same_events_again_newly_signed(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    public_key = await enable(client, keys.default, receiver.url)
    assert public_key
    await send(client, keys.default)
    receiver.status = 503
    await dispatch(client)
    [failed] = await deliveries(client)
    receiver.status = 200
    await advance(client, 5)

    response = await client.post(f"/_mirror/webhooks/deliveries/{failed['id']}/replay")
    assert response.status_code == 201, response.text
    replayed = response.json()
    assert (replayed["kind"], replayed["replay_of"], replayed["status"]) == ("replay", failed["id"], "delivered")
    first, again = receiver.posts
    assert again.body == first.body
    assert again.headers[TIMESTAMP] != first.headers[TIMESTAMP]
    assert again.verified_by_the_sdk(public_key)
    detail = (await client.get(f"/_mirror/webhooks/deliveries/{failed['id']}")).json()
    assert [e["event"] for e in detail["payload"]] == ["processed", "delivered"]
    assert detail["attempt_log"][0]["status_code"] == 503


async def test_the_test_endpoint_posts_sample_events_signed(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    public_key = await enable(client, keys.default, "https://example.com/hook")
    assert public_key
    response = await client.post(
        "/v3/user/webhooks/event/test", headers=bearer(keys.default), json={"url": receiver.url}
    )
    assert response.status_code == 204, response.text
    [post] = receiver.posts
    assert post.verified_by_the_sdk(public_key)
    assert {e["event"] for e in post.events} == {
        "processed", "deferred", "delivered", "open", "click", "bounce", "dropped", "spamreport", "unsubscribe",
        "group_unsubscribe", "group_resubscribe",
    }  # fmt: skip
    [logged] = await deliveries(client)
    assert (logged["kind"], logged["url"], logged["status"]) == ("test", receiver.url, "delivered")


async def test_the_delivery_log_is_admin_only_and_404s_unknown_ids(client: httpx.AsyncClient, keys: Keys) -> None:
    assert (await client.get("/_mirror/webhooks/deliveries/999")).status_code == 404
    assert (await client.post("/_mirror/webhooks/deliveries/999/replay")).status_code == 404
    beyond_any_row = str(2**64)
    assert (await client.get(f"/_mirror/webhooks/deliveries/{beyond_any_row}")).status_code == 404
    assert (await client.post(f"/_mirror/webhooks/deliveries/{beyond_any_row}/replay")).status_code == 404
    bad = await client.get("/_mirror/webhooks/deliveries", params={"status": "lost"})
    assert bad.status_code == 400


async def test_a_simulated_bounce_reaches_the_receiver_with_its_details(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    public_key = await enable(client, keys.default, receiver.url)
    assert public_key
    await send(client, keys.default, personalizations=[{"to": [{"email": "user+bounce@example.com"}]}])
    await dispatch(client)
    [post] = receiver.posts
    assert post.verified_by_the_sdk(public_key)
    bounce = next(e for e in post.events if e["event"] == "bounce")
    assert bounce["email"] == "user+bounce@example.com"
    assert (bounce["type"], bounce["status"]) == ("bounce", "5.1.1")
    assert bounce["bounce_classification"] == "Invalid Address"
    assert bounce["reason"]


async def test_two_processes_post_each_event_once(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver, db: Database
) -> None:
    await enable(client, keys.default, receiver.url, signed=False)
    for index in range(6):
        await send(client, keys.default, subject=f"mail {index}")
    await advance(client, 3)
    other = Database(db.url)
    try:
        for _ in range(3):
            await asyncio.gather(webhook_dispatch.run_once(db), webhook_dispatch.run_once(other))
    finally:
        other.dispose()
    posted = [event["sg_event_id"] for post in receiver.posts for event in post.events]
    assert len(posted) == 12
    assert len(set(posted)) == 12


async def test_an_event_the_simulator_writes_late_waits_for_rows_written_with_it_to_settle(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver, db: Database
) -> None:
    # The open happens 10 s after delivery; an hour later the pass writes it with that old time. On
    # PostgreSQL another process may still be committing lower ids written at the same moment, so the
    # webhook waits until the row is two seconds old by when it was written, not by when it happened.
    await enable(client, keys.default, receiver.url, signed=False)
    await send(client, keys.default, personalizations=[{"to": [{"email": "reader+open@example.com"}]}])
    await dispatch(client)
    await advance(client, HOUR)
    await dispatch(client, settle=False)
    opened = [e for post in receiver.posts for e in post.events if e["event"] == "open"]
    assert len(opened) == (1 if db.is_sqlite else 0)
    await dispatch(client)
    opened = [e for post in receiver.posts for e in post.events if e["event"] == "open"]
    assert len(opened) == 1
