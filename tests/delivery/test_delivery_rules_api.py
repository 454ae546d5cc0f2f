"""Delivery simulator rules from the API, the setting and a seed file; suppression drops at ingest;
scheduled sends meeting their fate when they go out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.accounts import bootstrap
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import Keys, bearer
from tests.support.delivery import advance, events, lists_of, pending_count, recipient, send

pytestmark = pytest.mark.anyio

RULES = "/_mirror/delivery-rules"
HOUR = 3600


def _reasons(found: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["event"], e["reason"]) for e in found["events"]]


async def test_the_next_send_to_a_bounced_address_is_dropped(client: httpx.AsyncClient, keys: Keys) -> None:
    await send(client, keys.default, "bounce@example.com")
    found = await recipient(client, await send(client, keys.default, "bounce@example.com"))
    assert found["status"] == "not_delivered"
    assert _reasons(found) == [("processed", None), ("dropped", "Bounced Address")]
    assert found["events"][1]["detail"] == {"status": "5.0.0"}


@pytest.mark.parametrize("setting", ["bypass_bounce_management", "bypass_list_management"])
async def test_bypass_settings_let_a_bounced_address_through(
    client: httpx.AsyncClient, keys: Keys, setting: str
) -> None:
    await send(client, keys.default, "bounce@example.com")
    again = await send(client, keys.default, "bounce@example.com", mail_settings={setting: {"enable": True}})
    assert await events(client, again) == ["processed", "bounce"]


async def test_bypass_spam_management_does_not_cover_bounces(client: httpx.AsyncClient, keys: Keys) -> None:
    await send(client, keys.default, "bounce@example.com")
    settings = {"bypass_spam_management": {"enable": True}}
    again = await send(client, keys.default, "bounce@example.com", mail_settings=settings)
    assert _reasons(await recipient(client, again))[1] == ("dropped", "Bounced Address")


async def test_a_spam_reporter_is_dropped_after_the_report(client: httpx.AsyncClient, keys: Keys) -> None:
    await send(client, keys.default, "nia+spamreport@example.com")
    await advance(client, 30)
    again = await send(client, keys.default, "nia+spamreport@example.com")
    assert _reasons(await recipient(client, again))[1] == ("dropped", "Spam Reporting Address")


async def test_only_the_suppressed_recipient_of_a_send_is_dropped(client: httpx.AsyncClient, keys: Keys) -> None:
    await send(client, keys.default, "bounce@example.com")
    response = await client.post(
        "/v3/mail/send",
        headers=bearer(keys.default),
        json={
            "personalizations": [{"to": [{"email": "bounce@example.com"}, {"email": "ok@example.com"}]}],
            "from": {"email": "sender@example.com"},
            "subject": "Hi",
            "content": [{"type": "text/plain", "value": "Hi"}],
        },
    )
    detail = (await client.get(f"/_mirror/messages/{response.headers['x-message-id']}")).json()
    assert [(r["email"], r["status"]) for r in detail["recipients"]] == [
        ("bounce@example.com", "not_delivered"),
        ("ok@example.com", "delivered"),
    ]


async def test_rules_set_through_the_api_take_effect_and_can_be_reset(client: httpx.AsyncClient, keys: Keys) -> None:
    assert (await client.get(RULES)).json()["source"] == "default"
    rules = {"rules": [{"match": {"domain": "example.org"}, "fate": "bounce"}], "defaults": False}
    put = await client.put(RULES, json=rules)
    assert put.status_code == 200, put.text
    assert (put.json()["source"], put.json()["rules"], put.json()["defaults"]) == ("api", rules["rules"], False)
    assert (await client.get(RULES)).json()["rules"] == rules["rules"]
    assert await events(client, await send(client, keys.default, "ann@example.org")) == ["processed", "bounce"]
    # The built-in rules are off: bounce@ is delivered.
    assert await events(client, await send(client, keys.default, "bounce@example.com")) == ["processed", "delivered"]
    reset = await client.delete(RULES)
    assert (reset.status_code, reset.json()["source"]) == (200, "default")
    assert await events(client, await send(client, keys.default, "bob@example.org")) == ["processed", "delivered"]


async def test_a_rule_may_list_its_own_events(client: httpx.AsyncClient, keys: Keys) -> None:
    custom = [
        {"event": "deferred", "after": 0, "reason": "421 busy", "attempt": 1, "response": "421 busy"},
        {"event": "bounce", "after": 600, "reason": "550 5.2.2 mailbox full", "type": "bounce", "status": "5.2.2"},
    ]
    put = await client.put(RULES, json={"rules": [{"match": {"email": "full@example.com"}, "events": custom}]})
    assert put.status_code == 200, put.text
    msg_id = await send(client, keys.default, "full@example.com")
    assert await events(client, msg_id) == ["processed", "deferred"]
    await advance(client, 600)
    found = await recipient(client, msg_id)
    assert _reasons(found)[-1] == ("bounce", "550 5.2.2 mailbox full")
    assert found["events"][-1]["detail"] == {"type": "bounce", "status": "5.2.2"}


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"rules": [{"match": {"tag": "x"}, "fate": "explode"}]}, "rules.0.fate"),
        ({"rules": [{"match": {"tag": "x"}}]}, "rules.0"),
        ({"rules": [{"match": {"color": "red"}, "fate": "bounce"}]}, "rules.0.match"),
        ({"rules": [{"events": [{"event": "open", "after": -1}]}]}, "rules.0.events.0.after"),
        ({"rules": [], "defaults": "no"}, "defaults"),
        ({"rules": [{"events": [{"event": "bounce", "status": 5}]}]}, "rules.0.events.0.status"),
        ({"rules": [{"events": [{"event": "bounce", "status": "5.1.1 " * 8}]}]}, "rules.0.events.0.status"),
        (
            {"rules": [{"events": [{"event": "bounce", "bounce_classification": "Grumpy"}]}]},
            "rules.0.events.0.bounce_classification",
        ),
        (
            {"rules": [{"events": [{"event": "group_unsubscribe", "asm_group_id": "7"}]}]},
            "rules.0.events.0.asm_group_id",
        ),
        ({"rules": [{"events": [{"event": "click", "url": 5}]}]}, "rules.0.events.0.url"),
        ("bounce", "rules"),
    ],
)
async def test_invalid_rules_are_refused_with_the_field(client: httpx.AsyncClient, rules: Any, field: str) -> None:
    response = await client.put(RULES, json=rules)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


async def test_rules_need_the_admin_token(db: Database, keys: Keys, scratch_dir: Path) -> None:
    guarded = create_app(
        Settings(data_dir=scratch_dir / "data", admin_token="s3cret", trusted_hosts="mirror.test"), database=db
    )
    transport = httpx.ASGITransport(app=guarded)
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as http:
        assert (await http.get(RULES)).status_code == 401
        assert (await http.put(RULES, json={"rules": []}, headers=bearer("wrong"))).status_code == 401
        assert (await http.get(RULES, headers=bearer("s3cret"))).status_code == 200


async def _client_with(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mirror.test")


@pytest.mark.parametrize("as_file", [False, True])
async def test_rules_from_the_setting_apply(db: Database, keys: Keys, scratch_dir: Path, as_file: bool) -> None:
    document = json.dumps({"rules": [{"match": {"local": "nobody"}, "fate": "dropped"}]})
    value = document
    if as_file:
        path = scratch_dir / "rules.json"
        path.write_text(document)
        value = str(path)
    settings = Settings(
        data_dir=scratch_dir / "data", require_verified_sender=False, delivery_rules=value, trusted_hosts="mirror.test"
    )
    try:
        async with await _client_with(create_app(settings, database=db)) as http:
            assert (await http.get(RULES)).json()["source"] == "setting"
            assert await events(http, await send(http, keys.default, "nobody@example.com")) == ["processed", "dropped"]
            assert await events(http, await send(http, keys.default, "bounce@example.com")) == ["processed", "bounce"]
    finally:
        # The setting's rules belong to the database; later apps on it are built with the default settings.
        create_app(Settings(data_dir=scratch_dir / "data"), database=db)


def test_an_invalid_setting_stops_the_app(db: Database, scratch_dir: Path) -> None:
    with pytest.raises(Exception, match="unknown fate"):
        create_app(Settings(data_dir=scratch_dir / "data", delivery_rules='[{"fate": "explode"}]'), database=db)
    create_app(Settings(data_dir=scratch_dir / "data"), database=db)


async def test_a_seed_file_sets_rules(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    with db.session() as session:
        report = bootstrap.apply_seed(
            session, {"delivery_rules": {"rules": [{"match": {"tag": "vip"}, "fate": "open"}]}}
        )
    assert report.lines == ["Set 1 delivery simulator rule(s)."]
    assert (await client.get(RULES)).json()["source"] == "api"
    msg_id = await send(client, keys.default, "olga+vip@example.com")
    await advance(client, 10)
    assert await events(client, msg_id) == ["processed", "delivered", "open"]


async def _schedule(client: httpx.AsyncClient, key: str, to: str, *, after: int, **changes: Any) -> str:
    now = (await client.get("/_mirror/clock")).json()["now"]
    return await send(client, key, to, send_at=now + after, **changes)


async def test_a_scheduled_send_meets_its_fate_when_it_goes_out(client: httpx.AsyncClient, keys: Keys) -> None:
    msg_id = await _schedule(client, keys.default, "pat+open@example.com", after=2 * HOUR)
    assert (await recipient(client, msg_id))["status"] == "processed"
    assert await events(client, msg_id) == ["processed"]
    await advance(client, HOUR)
    assert await events(client, msg_id) == ["processed"]
    await advance(client, HOUR + 5)
    found = await recipient(client, msg_id)
    assert (found["status"], [e["event"] for e in found["events"]]) == ("delivered", ["processed", "delivered"])
    await advance(client, 10)
    assert await events(client, msg_id) == ["processed", "delivered", "open"]
    message = (await client.get(f"/_mirror/messages/{msg_id.split('.', 1)[0]}")).json()
    assert message["status"] == "sent"


async def test_a_scheduled_bounce_bounces_at_send_time(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    msg_id = await _schedule(client, keys.default, "bounce@example.com", after=HOUR)
    assert lists_of(db, "bounce@example.com") == set()
    await advance(client, HOUR + 1)
    assert await events(client, msg_id) == ["processed", "bounce"]
    assert lists_of(db, "bounce@example.com") == {"bounce"}


async def test_a_cancelled_scheduled_send_discards_its_fate(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    batch_id = (await client.post("/v3/mail/batch", headers=bearer(keys.default))).json()["batch_id"]
    msg_id = await _schedule(client, keys.default, "quin+click@example.com", after=HOUR, batch_id=batch_id)
    assert pending_count(db) == 3
    await client.post(
        "/v3/user/scheduled_sends", headers=bearer(keys.default), json={"batch_id": batch_id, "status": "cancel"}
    )
    await advance(client, 2 * HOUR)
    assert await events(client, msg_id) == ["processed", "dropped"]
    assert pending_count(db) == 0
