"""The delivery simulator's built-in rules: each address pattern gets SendGrid's event sequence and fields."""

from __future__ import annotations

import httpx
import pytest

from app.kernel.db.session import Database
from tests.conftest import Keys
from tests.support.delivery import activity, advance, events, lists_of, pending_count, recipient, send

pytestmark = pytest.mark.anyio

MINUTE = 60
HOUR = 3600


async def test_plain_delivery_is_processed_and_delivered_with_nothing_pending(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    msg_id = await send(client, keys.default, "alice@example.com")
    found = await recipient(client, msg_id)
    assert (found["status"], [(e["event"], e["detail"]) for e in found["events"]]) == (
        "delivered",
        [("processed", None), ("delivered", None)],
    )
    assert pending_count(db) == 0


async def test_bounce_local_part_hard_bounces_and_fills_the_bounce_list(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    msg_id = await send(client, keys.default, "bounce@example.com")
    found = await recipient(client, msg_id)
    assert found["status"] == "not_delivered"
    assert [e["event"] for e in found["events"]] == ["processed", "bounce"]
    bounce = found["events"][1]
    assert bounce["reason"].startswith("550 5.1.1 ")
    assert bounce["detail"] == {"type": "bounce", "status": "5.1.1", "bounce_classification": "Invalid Address"}
    assert lists_of(db, "bounce@example.com") == {"bounce"}
    feed = await activity(client, keys.default, msg_id)
    assert (feed["status"], feed["events"][1]["event_name"], feed["events"][1]["bounce_type"]) == (
        "not_delivered",
        "bounced",
        "hard",
    )


async def test_bounce_tag_bounces_too(client: httpx.AsyncClient, keys: Keys) -> None:
    assert await events(client, await send(client, keys.default, "carol+bounce@example.com")) == ["processed", "bounce"]


@pytest.mark.parametrize("tag", ["block", "blocked"])
async def test_blocked_is_a_bounce_of_type_blocked_on_the_block_list(
    client: httpx.AsyncClient, keys: Keys, db: Database, tag: str
) -> None:
    address = f"dan+{tag}@example.com"
    found = await recipient(client, await send(client, keys.default, address))
    assert [e["event"] for e in found["events"]] == ["processed", "bounce"]
    assert found["events"][1]["detail"]["type"] == "blocked"
    assert found["events"][1]["detail"]["status"] == "5.7.1"
    assert lists_of(db, address) == {"block"}
    # SendGrid does not suppress blocked addresses: the next send is attempted (and blocked) again.
    assert await events(client, await send(client, keys.default, address)) == ["processed", "bounce"]


async def test_deferred_retries_at_growing_intervals_then_delivers(client: httpx.AsyncClient, keys: Keys) -> None:
    msg_id = await send(client, keys.default, "erin+deferred@example.com")
    found = await recipient(client, msg_id)
    assert (found["status"], [e["event"] for e in found["events"]]) == ("processed", ["processed", "deferred"])
    first = found["events"][1]
    assert first["detail"]["attempt"] == 1
    assert first["detail"]["response"].startswith("451 4.7.1 ")
    await advance(client, 5 * MINUTE)
    assert await events(client, msg_id) == ["processed", "deferred", "deferred"]
    await advance(client, 9 * MINUTE)
    assert await events(client, msg_id) == ["processed", "deferred", "deferred"]
    await advance(client, MINUTE)
    await advance(client, 20 * MINUTE)
    found = await recipient(client, msg_id)
    assert (found["status"], [e["event"] for e in found["events"]]) == (
        "delivered",
        ["processed", "deferred", "deferred", "deferred", "delivered"],
    )
    assert [e["detail"]["attempt"] for e in found["events"][1:4]] == [1, 2, 3]
    feed = await activity(client, keys.default, msg_id)
    assert [e.get("attempt_num") for e in feed["events"]] == [None, 1, 2, 3, None]


async def test_a_domain_that_always_defers_expires_after_72_hours_onto_the_block_list(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    msg_id = await send(client, keys.default, "frank@defer.example.com")
    await advance(client, 71 * HOUR)
    found = await recipient(client, msg_id)
    assert found["status"] == "processed"
    assert [e["event"] for e in found["events"]] == ["processed"] + ["deferred"] * 10
    assert lists_of(db, "frank@defer.example.com") == set()
    await advance(client, HOUR)
    found = await recipient(client, msg_id)
    assert (found["status"], found["events"][-1]["event"]) == ("not_delivered", "bounce")
    assert found["events"][-1]["detail"]["type"] == "expired"
    assert lists_of(db, "frank@defer.example.com") == {"block"}


async def test_dropped_tag_is_dropped(client: httpx.AsyncClient, keys: Keys) -> None:
    found = await recipient(client, await send(client, keys.default, "gina+dropped@example.com"))
    assert (found["status"], [(e["event"], e["reason"]) for e in found["events"]]) == (
        "not_delivered",
        [("processed", None), ("dropped", "Spam Content")],
    )


async def test_invalid_is_dropped_as_invalid_and_the_next_send_too(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    found = await recipient(client, await send(client, keys.default, "hank+invalid@example.com"))
    assert [(e["event"], e["reason"]) for e in found["events"]] == [("processed", None), ("dropped", "Invalid")]
    assert lists_of(db, "hank+invalid@example.com") == {"invalid_email"}


async def test_open_comes_after_delivery_when_the_clock_moves(client: httpx.AsyncClient, keys: Keys) -> None:
    msg_id = await send(client, keys.default, "ivy+open@example.com")
    assert await events(client, msg_id) == ["processed", "delivered"]
    await advance(client, 10)
    found = await recipient(client, msg_id)
    assert [e["event"] for e in found["events"]] == ["processed", "delivered", "open"]
    assert found["events"][2]["detail"]["useragent"]
    feed = await activity(client, keys.default, msg_id)
    assert [e["event_name"] for e in feed["events"]] == ["processed", "delivered", "opened"]
    listed = await client.get(
        "/v3/messages", params={"query": f'msg_id="{msg_id}"'}, headers={"Authorization": f"Bearer {keys.default}"}
    )
    assert listed.json()["messages"][0]["opens_count"] == 1


async def test_click_reports_the_first_link_of_the_html(client: httpx.AsyncClient, keys: Keys) -> None:
    content = [
        {"type": "text/plain", "value": "Hi"},
        {"type": "text/html", "value": '<p><a href="https://shop.example.com/cart?id=7">cart</a></p>'},
    ]
    msg_id = await send(client, keys.default, "jack+click@example.com", content=content)
    await advance(client, 20)
    found = await recipient(client, msg_id)
    assert [e["event"] for e in found["events"]] == ["processed", "delivered", "open", "click"]
    assert found["events"][3]["detail"]["url"] == "https://shop.example.com/cart?id=7"
    feed = await activity(client, keys.default, msg_id)
    assert feed["events"][3]["url"] == "https://shop.example.com/cart?id=7"


async def test_spamreport_after_delivery_fills_the_spam_list(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    msg_id = await send(client, keys.default, "kim+spamreport@example.com")
    assert lists_of(db, "kim+spamreport@example.com") == set()
    await advance(client, 30)
    found = await recipient(client, msg_id)
    assert (found["status"], [e["event"] for e in found["events"]]) == (
        "delivered",
        ["processed", "delivered", "spamreport"],
    )
    assert lists_of(db, "kim+spamreport@example.com") == {"spam_report"}
    feed = await activity(client, keys.default, msg_id)
    assert feed["events"][2]["event_name"] == "spam_report"


async def test_unsubscribe_is_global_without_a_group(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    msg_id = await send(client, keys.default, "lee+unsubscribe@example.com")
    await advance(client, 30)
    assert await events(client, msg_id) == ["processed", "delivered", "unsubscribe"]
    assert lists_of(db, "lee+unsubscribe@example.com") == {"global_unsubscribe"}


async def test_unsubscribe_with_a_group_is_a_group_unsubscribe(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    group = await client.post(
        "/v3/asm/groups",
        headers={"Authorization": f"Bearer {keys.default}"},
        json={"name": "Newsletter", "description": "Weekly news"},
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    msg_id = await send(client, keys.default, "mo+group_unsubscribe@example.com", asm={"group_id": group_id})
    await advance(client, 30)
    found = await recipient(client, msg_id)
    assert found["events"][-1]["event"] == "group_unsubscribe"
    assert found["events"][-1]["detail"]["asm_group_id"] == group_id
    assert lists_of(db, "mo+group_unsubscribe@example.com") == {"group_unsubscribe"}
    again = await send(client, keys.default, "mo+group_unsubscribe@example.com", asm={"group_id": group_id})
    assert [(e["event"], e["reason"]) for e in (await recipient(client, again))["events"]] == [
        ("processed", None),
        ("dropped", "Unsubscribed Address"),
    ]


async def test_sandbox_mode_records_no_events_even_for_a_bounce(client: httpx.AsyncClient, keys: Keys) -> None:
    sandbox = {"sandbox_mode": {"enable": True}}
    response = await client.post(
        "/v3/mail/send",
        headers={"Authorization": f"Bearer {keys.default}"},
        json={
            "personalizations": [{"to": [{"email": "bounce@example.com"}]}],
            "from": {"email": "sender@example.com"},
            "subject": "Hi",
            "content": [{"type": "text/plain", "value": "Hi"}],
            "mail_settings": sandbox,
        },
    )
    assert response.status_code == 200, response.text
    messages = (await client.get("/_mirror/messages")).json()
    listed = messages["messages"] if isinstance(messages, dict) else messages
    detail = (await client.get(f"/_mirror/messages/{listed[0]['id']}")).json()
    assert detail["recipients"][0]["events"] == []
