"""The pure rules of the Event Webhook's JSON: field mapping, batching and the retry schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from app.webhooks import payload as event_payload
from app.webhooks.payload import StoredEvent

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _event(event: str, **changes: object) -> StoredEvent:
    fields: dict[str, object] = {
        "id": 7, "event": event, "occurred_at": AT, "recipient_id": "m1.filter0001.0.0.0", "email": "a@example.com",
        "message_id": "m1", "position": 0, **changes,
    }  # fmt: skip
    return StoredEvent(**fields)  # type: ignore[arg-type]


def test_stored_names_map_to_the_switches_and_the_posted_names() -> None:
    assert event_payload.to_json(_event("spamreport"))["event"] == "spamreport"
    assert event_payload.switch_for("spamreport") == "spam_report"
    assert event_payload.wanted("spamreport", {"spam_report": True})
    assert not event_payload.wanted("spamreport", {"spam_report": False})
    assert not event_payload.wanted("something_else", dict.fromkeys(event_payload.EVENT_SETTINGS, True))
    blocked = event_payload.to_json(_event("blocked", reason="554 blocked", detail={"status": "5.7.1"}))
    assert (blocked["event"], blocked["type"], blocked["reason"]) == ("bounce", "blocked", "554 blocked")


def test_custom_args_never_replace_the_events_own_fields() -> None:
    posted = event_payload.to_json(_event("processed", custom_args={"event": "forged", "order": "1"}))
    assert posted["event"] == "processed"
    assert posted["order"] == "1"
    assert posted["timestamp"] == int(AT.timestamp())
    assert "reason" not in event_payload.to_json(_event("delivered", reason="kept out"))


def test_batches_stay_under_the_size_limit_and_keep_every_event() -> None:
    objects = [{"n": index, "pad": "x" * 100} for index in range(50)]
    batches = event_payload.batches(objects, max_bytes=1000)
    assert all(len(payload) <= 1000 for payload, _ in batches)
    assert sum(count for _, count in batches) == 50
    assert [o["n"] for payload, _ in batches for o in orjson.loads(payload)] == list(range(50))
    assert event_payload.batches([]) == []


def test_retries_wait_a_minute_then_double_up_to_an_hour() -> None:
    waits = [event_payload.retry_delay(n) for n in range(1, 10)]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[-1] == timedelta(hours=1)
