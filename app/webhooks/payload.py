"""Stored events as the Event Webhook's JSON: SendGrid's field names, one object per event, batched arrays.

Pure: the dispatcher reads the rows, this module says what SendGrid would POST for them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from app.mail.mime import MESSAGE_ID_DOMAIN

# The settings' event switches, in the order SendGrid's API documents them.
EVENT_SETTINGS: tuple[str, ...] = (
    "bounce",
    "click",
    "deferred",
    "delivered",
    "dropped",
    "group_resubscribe",
    "group_unsubscribe",
    "open",
    "processed",
    "spam_report",
    "unsubscribe",
)

# Stored event name -> (the switch that lets it through, the `event` value SendGrid posts).
_EVENTS: dict[str, tuple[str, str]] = {
    "processed": ("processed", "processed"),
    "delivered": ("delivered", "delivered"),
    "deferred": ("deferred", "deferred"),
    "dropped": ("dropped", "dropped"),
    "bounce": ("bounce", "bounce"),
    "blocked": ("bounce", "bounce"),
    "open": ("open", "open"),
    "click": ("click", "click"),
    "spamreport": ("spam_report", "spamreport"),
    "spam_report": ("spam_report", "spamreport"),
    "unsubscribe": ("unsubscribe", "unsubscribe"),
    "group_unsubscribe": ("group_unsubscribe", "group_unsubscribe"),
    "group_resubscribe": ("group_resubscribe", "group_resubscribe"),
}

# Event details SendGrid posts as top-level fields, in this order, when the event carries them.
_DETAIL_FIELDS = (
    "type",
    "status",
    "bounce_classification",
    "attempt",
    "response",
    "tls",
    "url",
    "url_offset",
    "useragent",
    "ip",
    "sg_machine_open",
    "asm_group_id",
)
_WITH_REASON = frozenset({"dropped", "bounce"})
RESERVED = frozenset({"email", "timestamp", "smtp-id", "event", "category", "sg_event_id", "sg_message_id", "reason"})
RESERVED |= frozenset(_DETAIL_FIELDS) | {"sg_template_id"}

MAX_BATCH_BYTES = 768 * 1024
RETRY_WINDOW = timedelta(hours=24)
_FIRST_RETRY_SECONDS = 60
_LONGEST_RETRY_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of message_events with what its recipient and message add to it."""

    id: int
    event: str
    occurred_at: datetime
    recipient_id: str
    email: str
    message_id: str
    position: int
    reason: str | None = None
    detail: Mapping[str, Any] | None = None
    categories: list[str] = field(default_factory=list)
    custom_args: Mapping[str, Any] = field(default_factory=dict)
    template_id: str | None = None


def switch_for(event: str) -> str | None:
    """The settings switch that lets a stored event through (None: the webhook never posts it)."""
    known = _EVENTS.get(event)
    return known[0] if known else None


def wanted(event: str, switches: Mapping[str, bool]) -> bool:
    switch = switch_for(event)
    return switch is not None and bool(switches.get(switch))


def sg_event_id(recipient_id: str, event_id: int) -> str:
    """A stable, unique, base64url id per event (22 characters), the same on every retry and replay."""
    digest = hashlib.sha256(f"{recipient_id}:{event_id}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def smtp_id(message_id: str, position: int) -> str:
    """The Message-ID header of the personalization's email, which SendGrid posts as `smtp-id`."""
    return f"<{message_id}.{position}@{MESSAGE_ID_DOMAIN}>"


def to_json(stored: StoredEvent) -> dict[str, Any]:
    """The object SendGrid posts for one event."""
    name = _EVENTS[stored.event][1]
    detail = dict(stored.detail or {})
    if stored.event == "blocked":
        detail.setdefault("type", "blocked")
    if name == "bounce":
        detail.setdefault("type", "bounce")
    if name == "delivered":
        detail.setdefault("response", "250 OK")
    body: dict[str, Any] = {
        "email": stored.email,
        "timestamp": int(stored.occurred_at.replace(tzinfo=stored.occurred_at.tzinfo or UTC).timestamp()),
        "smtp-id": smtp_id(stored.message_id, stored.position),
        "event": name,
    }
    if stored.categories:
        body["category"] = list(stored.categories)
    body["sg_event_id"] = sg_event_id(stored.recipient_id, stored.id)
    body["sg_message_id"] = stored.recipient_id
    if name in _WITH_REASON and stored.reason:
        body["reason"] = stored.reason
    body.update({key: detail[key] for key in _DETAIL_FIELDS if detail.get(key) is not None})
    if stored.template_id:
        body["sg_template_id"] = stored.template_id
    body.update({key: value for key, value in stored.custom_args.items() if key not in RESERVED})
    return body


def batches(objects: Iterable[Mapping[str, Any]], max_bytes: int = MAX_BATCH_BYTES) -> list[tuple[bytes, int]]:
    """JSON arrays of at most `max_bytes` (one object may exceed it alone), each with its event count."""
    done: list[tuple[bytes, int]] = []
    current: list[bytes] = []
    size = 2
    for obj in objects:
        item = orjson.dumps(obj)
        if current and size + len(item) + 1 > max_bytes:
            done.append((b"[" + b",".join(current) + b"]", len(current)))
            current, size = [], 2
        current.append(item)
        size += len(item) + 1
    if current:
        done.append((b"[" + b",".join(current) + b"]", len(current)))
    return done


def retry_delay(failures: int) -> timedelta:
    """Wait after the `failures`-th failed POST: one minute, doubling, at most an hour."""
    seconds = _FIRST_RETRY_SECONDS * 2 ** max(failures - 1, 0)
    return timedelta(seconds=min(seconds, _LONGEST_RETRY_SECONDS))


def sample_events(now: datetime) -> list[dict[str, Any]]:
    """What the test endpoint posts: one event of each kind, for an example recipient."""
    timestamp = int(now.timestamp())
    common = {"email": "example@test.com", "timestamp": timestamp, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>"}
    message = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"
    extras: dict[str, dict[str, Any]] = {
        "processed": {},
        "deferred": {"response": "400 try again later", "attempt": "5"},
        "delivered": {"response": "250 OK"},
        "open": {"useragent": "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP)", "ip": "255.255.255.255"},
        "click": {"useragent": "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP)", "ip": "255.255.255.255",
                  "url": "http://www.sendgrid.com/"},
        "bounce": {"reason": "500 unknown recipient", "status": "5.0.0", "type": "bounce",
                   "bounce_classification": "Invalid Address"},
        "dropped": {"reason": "Bounced Address", "status": "5.0.0"},
        "spamreport": {},
        "unsubscribe": {},
        "group_unsubscribe": {"useragent": "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP)", "ip": "255.255.255.255",
                              "url": "http://www.sendgrid.com/", "asm_group_id": 10},
        "group_resubscribe": {"useragent": "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP)", "ip": "255.255.255.255",
                              "url": "http://www.sendgrid.com/", "asm_group_id": 10},
    }  # fmt: skip
    return [
        {**common, "event": name, "category": ["cat facts"], "sg_event_id": sg_event_id(message, index),
         "sg_message_id": message, **extra}
        for index, (name, extra) in enumerate(extras.items())
    ]  # fmt: skip
