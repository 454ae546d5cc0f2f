"""The Event Webhook delivery log: list and read deliveries with their attempts, replay one, send a test."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import Session

from app.clock import service as clock
from app.kernel import row_ids
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, NotFound
from app.kernel.principal import Principal
from app.webhooks import dispatch as webhook_dispatch
from app.webhooks import payload as event_payload
from app.webhooks import posting as webhook_posting
from app.webhooks import service as webhooks
from app.webhooks.models import EventWebhook, WebhookAttempt, WebhookDelivery

MAX_PAGE = 200
# `replayed`: it was still pending when replayed, and the replay took the place of its remaining retries.
STATUSES = ("pending", "delivered", "failed", webhook_dispatch.REPLAYED)


@dataclass(frozen=True, slots=True)
class Entry:
    """A delivery and its attempts, oldest attempt first."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]

    @property
    def last(self) -> WebhookAttempt | None:
        return self.attempts[-1] if self.attempts else None

    def events(self) -> Any:
        return orjson.loads(self.delivery.payload)


def list_deliveries(
    session: Session, *, account_id: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0
) -> list[Entry]:
    """Deliveries, newest first, optionally of one account or in one status."""
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}", field="status")
    query = select(WebhookDelivery)
    if account_id is not None:
        query = query.where(WebhookDelivery.account_id == account_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    deliveries = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)))
    attempts = _attempts_of(session, [d.id for d in deliveries])
    return [Entry(d, attempts.get(d.id, [])) for d in deliveries]


def get_delivery(session: Session, delivery_id: int, *, account_id: str | None = None) -> Entry:
    delivery = session.get(WebhookDelivery, delivery_id) if _storable(delivery_id) else None
    if delivery is None or (account_id is not None and delivery.account_id != account_id):
        raise NotFound("webhook delivery not found")
    return Entry(delivery, _attempts_of(session, [delivery_id]).get(delivery_id, []))


def _storable(delivery_id: int) -> bool:
    """Whether an id from a path can name a row at all (the database compares 64-bit integers only)."""
    return 0 < delivery_id <= row_ids.MAX_INT64


def _attempts_of(session: Session, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    found: dict[int, list[WebhookAttempt]] = {}
    if not delivery_ids:
        return found
    query = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)).order_by(WebhookAttempt.id)
    for attempt in session.scalars(query):
        found.setdefault(attempt.delivery_id, []).append(attempt)
    return found


async def replay(db: Database, delivery_id: int, *, account_id: str | None = None) -> int:
    """POST a delivery's payload again, once, as a new `replay` delivery; returns the new delivery's id.

    A delivery still pending is retried no more (status `replayed`), so its events do not arrive twice.
    """

    def prepare(conn: Connection) -> webhook_posting.Post:
        d = WebhookDelivery
        if not _storable(delivery_id):
            raise NotFound("webhook delivery not found")
        row = conn.execute(
            select(d.id, d.account_id, d.webhook_id, d.url, d.payload, d.event_count).where(d.id == delivery_id)
        ).one_or_none()
        if row is None or (account_id is not None and row.account_id != account_id):
            raise NotFound("webhook delivery not found")
        conn.execute(
            update(d).where(d.id == row.id, d.status == "pending")
            .values(status=webhook_dispatch.REPLAYED, next_attempt_at=None)
        )  # fmt: skip
        return _one_shot(conn, "replay", row.account_id, row.webhook_id, row.url, row.payload, row.event_count, row.id)

    return await _post_once(db, prepare)


async def send_test(db: Database, principal: Principal, body: Any) -> int:
    """POST SendGrid's sample events to the given URL, signed and authorised like the named (or oldest) webhook."""
    fields = body if isinstance(body, dict) else {}
    if "url" not in fields:
        raise BadRequest("missing required argument", field="url")
    url = webhooks.valid_url(fields["url"])
    webhook_id = fields.get("id")
    if webhook_id is not None and not isinstance(webhook_id, str):
        raise BadRequest(webhooks.INVALID_ID, field="id")

    def prepare(conn: Connection) -> webhook_posting.Post:
        hook = _hook(conn, principal.account_id, webhook_id)
        payload = orjson.dumps(event_payload.sample_events(clock.read_now(conn)))
        post = _one_shot(conn, "test", principal.account_id, hook.id if hook else None, url, payload, 11, None)
        return webhook_posting.Post(
            post.delivery_id, url, payload, post.event_count, post.private_key, _test_oauth(fields, hook),
            post.clock_offset,
        )  # fmt: skip

    return await _post_once(db, prepare)


def _hook(conn: Connection, account_id: str, webhook_id: str | None) -> Any:
    query = select(EventWebhook.id, EventWebhook.oauth_client_secret).where(EventWebhook.account_id == account_id)
    if webhook_id is not None:
        found = conn.execute(query.where(EventWebhook.id == webhook_id)).one_or_none()
        if found is None:
            raise NotFound(webhooks.INVALID_ID)
        return found
    return conn.execute(query.order_by(EventWebhook.created_at, EventWebhook.id).limit(1)).one_or_none()


def _test_oauth(fields: dict[str, Any], hook: Any) -> webhook_posting.OAuth | None:
    """The OAuth given with the test; a saved secret fills in when only the id and token URL are given."""
    client_id, token_url = fields.get("oauth_client_id"), fields.get("oauth_token_url")
    if not client_id or not token_url:
        return None
    secret = fields.get("oauth_client_secret") or (hook.oauth_client_secret if hook is not None else None)
    if not isinstance(client_id, str) or not isinstance(token_url, str) or not isinstance(secret, str):
        raise BadRequest("oauth_client_id, oauth_client_secret and oauth_token_url must be strings")
    return webhook_posting.OAuth(client_id, secret, webhooks.valid_url(token_url, "oauth_token_url"))


def _one_shot(
    conn: Connection, kind: str, account_id: str, webhook_id: str | None, url: str, payload: bytes, count: int,
    replay_of: int | None,
) -> webhook_posting.Post:  # fmt: skip
    """A delivery row for a single POST now (no retries), and the POST for it."""
    now = clock.read_now(conn)
    delivery_id = conn.scalar(
        insert(WebhookDelivery)
        .values(account_id=account_id, webhook_id=webhook_id, kind=kind, replay_of=replay_of, url=url,
                payload=payload, event_count=count, status="pending", attempts=0,
                next_attempt_at=now + webhook_dispatch.LEASE, give_up_at=now, created_at=now)
        .returning(WebhookDelivery.id)
    )  # fmt: skip
    assert delivery_id is not None
    return webhook_posting.post_for(conn, delivery_id, url, payload, count, webhook_id)


async def _post_once(db: Database, prepare: Any) -> int:
    post: webhook_posting.Post = await db.writer.run(prepare)
    results = await webhook_posting.send_all([post])
    await db.writer.run(functools.partial(webhook_dispatch.record, results=results))
    return post.delivery_id
