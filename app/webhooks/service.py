"""Event Webhook settings (`/v3/user/webhooks/event/settings...`): create, read, update, delete, signing.

The single-webhook paths (no id) act on the account's oldest webhook, as SendGrid's do since it allowed
several; before the first one exists they show a disabled webhook with no URL, and a PATCH creates it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.clock import service as clock
from app.kernel.db.base import as_utc
from app.kernel.errors import BadRequest, ErrorDetail, NotFound
from app.kernel.principal import Principal
from app.mail.models import Event
from app.webhooks import signing as webhook_signing
from app.webhooks.models import EventWebhook
from app.webhooks.payload import EVENT_SETTINGS

MAX_WEBHOOKS = 5
MAX_FRIENDLY_NAME = 256
INVALID_ID = "Invalid id provided."
MAX_REACHED = "You have reached the maximum number of webhooks per your current billing plan."
_FLAGS = (*EVENT_SETTINGS, "account_status_change")
_OAUTH = ("oauth_client_id", "oauth_client_secret", "oauth_token_url")
# The order of SendGrid's examples.
_VIEW_FLAGS = (
    "group_resubscribe", "delivered", "group_unsubscribe", "spam_report", "bounce", "deferred", "unsubscribe",
    "processed", "open", "click", "dropped",
)  # fmt: skip


def _owned(session: Session, principal: Principal, webhook_id: str | None) -> EventWebhook | None:
    """The account's webhook by id, or its oldest when no id is given (None: it has none yet)."""
    query = select(EventWebhook).where(EventWebhook.account_id == principal.account_id)
    if webhook_id is not None:
        return session.scalar(query.where(EventWebhook.id == webhook_id))
    return session.scalar(query.order_by(EventWebhook.created_at, EventWebhook.id).limit(1))


def _require(session: Session, principal: Principal, webhook_id: str | None) -> EventWebhook:
    webhook = _owned(session, principal, webhook_id)
    if webhook is None:
        raise NotFound(INVALID_ID)
    return webhook


def _new(session: Session, principal: Principal) -> EventWebhook:
    now = clock.session_now(session)
    webhook = EventWebhook(
        id=str(uuid.uuid4()), account_id=principal.account_id, enabled=False, url="", friendly_name=None,
        signed=False, private_key=None, public_key=None, cursor=0, created_at=now, updated_at=now,
        oauth_client_id=None, oauth_client_secret=None, oauth_token_url=None, **dict.fromkeys(_FLAGS, False),
    )  # fmt: skip
    session.add(webhook)
    return webhook


def view(webhook: EventWebhook | None, *, dates: bool, key: bool, status_change: bool = False) -> dict[str, Any]:
    """A webhook as SendGrid shows it; `None` is the disabled webhook of an account that has none."""
    if webhook is None:
        return {"enabled": False, "url": "", **dict.fromkeys(_VIEW_FLAGS, False)}
    body: dict[str, Any] = {"enabled": webhook.enabled, "url": webhook.url}
    if status_change:
        body["account_status_change"] = webhook.account_status_change
    body.update({name: getattr(webhook, name) for name in _VIEW_FLAGS})
    if webhook.friendly_name is not None:
        body["friendly_name"] = webhook.friendly_name
    body["id"] = webhook.id
    if webhook.oauth_client_id:
        body["oauth_client_id"] = webhook.oauth_client_id
        body["oauth_token_url"] = webhook.oauth_token_url or ""
    if key and webhook.signed:
        body["public_key"] = webhook.public_key or ""
    if dates:
        body["created_date"] = _iso(webhook.created_at)
        body["updated_date"] = _iso(webhook.updated_at)
    return body


def _iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def get(session: Session, principal: Principal, webhook_id: str | None) -> EventWebhook | None:
    """A webhook by id (404 when it is not the account's); without an id the oldest, or None."""
    return _owned(session, principal, None) if webhook_id is None else _require(session, principal, webhook_id)


def list_all(session: Session, principal: Principal) -> list[EventWebhook]:
    query = select(EventWebhook).where(EventWebhook.account_id == principal.account_id)
    return list(session.scalars(query.order_by(EventWebhook.created_at, EventWebhook.id)))


def create(session: Session, principal: Principal, body: Any) -> EventWebhook:
    """A new webhook (at most five per account); the URL is required and unique within the account."""
    fields = _fields(body)
    if "url" not in fields:
        raise BadRequest("missing required argument", field="url")
    accounts.serialize_account_writes(session, principal.account_id)
    count = session.scalar(select(func.count()).where(EventWebhook.account_id == principal.account_id)) or 0
    if count >= MAX_WEBHOOKS:
        raise BadRequest(MAX_REACHED)
    webhook = _new(session, principal)
    _apply(session, webhook, fields)
    return webhook


def update(session: Session, principal: Principal, webhook_id: str | None, body: Any) -> EventWebhook:
    """Change the given settings (others keep their values); the oldest webhook, made if need be, without id."""
    fields = _fields(body)
    webhook = _owned(session, principal, webhook_id)
    if webhook is None:
        if webhook_id is not None:
            raise NotFound(INVALID_ID)
        webhook = _new(session, principal)
    _apply(session, webhook, fields)
    return webhook


def delete(session: Session, principal: Principal, webhook_id: str) -> None:
    session.delete(_require(session, principal, webhook_id))
    session.flush()


def set_signed(session: Session, principal: Principal, webhook_id: str | None, body: Any) -> EventWebhook:
    """Switch signing on or off; the key pair is made the first time and kept for later."""
    fields = body if isinstance(body, dict) else {}
    if "enabled" not in fields:
        raise BadRequest("missing required argument", field="enabled")
    enabled = _boolean(fields, "enabled")
    webhook = _owned(session, principal, webhook_id)
    if webhook is None:
        if webhook_id is not None:
            raise NotFound(INVALID_ID)
        webhook = _new(session, principal)
    if enabled and webhook.private_key is None:
        webhook.private_key, webhook.public_key = webhook_signing.new_key_pair()
    webhook.signed = enabled
    webhook.updated_at = clock.session_now(session)
    session.flush()
    return webhook


def signed_view(webhook: EventWebhook | None, *, webhook_id: str | None) -> dict[str, str]:
    """`{id, public_key}`: the key while signing is on, else empty; `id` is empty when none was given."""
    key = webhook.public_key if webhook is not None and webhook.signed else None
    return {"id": webhook_id or "", "public_key": key or ""}


def _fields(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def _apply(session: Session, webhook: EventWebhook, fields: dict[str, Any]) -> None:
    """Validate every given setting, then store them; enabling starts from the events stored after now."""
    was_live = webhook.enabled and bool(webhook.url)
    changes: dict[str, Any] = {name: _boolean(fields, name) for name in ("enabled", *_FLAGS) if name in fields}
    if "url" in fields:
        changes["url"] = _url(session, webhook, fields["url"])
    if "friendly_name" in fields:
        changes["friendly_name"] = _optional_text(fields, "friendly_name", limit=MAX_FRIENDLY_NAME)
    changes.update(_oauth(webhook, fields))
    enabled = changes.get("enabled", webhook.enabled)
    if enabled and not changes.get("url", webhook.url):
        raise BadRequest("'' is not a valid url", field="url")
    for name, value in changes.items():
        setattr(webhook, name, value)
    if webhook.enabled and webhook.url and not was_live:
        webhook.cursor = session.scalar(select(func.max(Event.id))) or 0
    webhook.updated_at = clock.session_now(session)
    session.flush()


def _boolean(fields: dict[str, Any], name: str) -> bool:
    value = fields[name]
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be a boolean", field=name)
    return value


def _optional_text(fields: dict[str, Any], name: str, *, limit: int | None = None) -> str | None:
    value = fields[name]
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", field=name)
    if value is not None and limit is not None and len(value) > limit:
        raise BadRequest(f"{name} must be at most {limit} characters", field=name)
    return value


def valid_url(value: Any, field: str = "url") -> str:
    """An absolute http(s) URL with a host, else 400 in the API's wording."""
    text = value if isinstance(value, str) else ""
    parts = urlsplit(text.strip()) if text.strip() == text else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(text) > 2048:
        raise BadRequest(f"'{value if isinstance(value, str) else ''}' is not a valid url", field=field)
    return text


def _url(session: Session, webhook: EventWebhook, value: Any) -> str:
    url = "" if value == "" else valid_url(value)
    if url:
        taken = session.scalar(
            select(EventWebhook.id).where(
                EventWebhook.account_id == webhook.account_id, EventWebhook.url == url, EventWebhook.id != webhook.id
            )
        )
        if taken is not None:
            message = f"Webhook at '{url}' already exists. Please provide a unique URL."
            raise BadRequest(details=[ErrorDetail(message, extra=(("id", taken), ("url", url)))])
    return url


def _oauth(webhook: EventWebhook, fields: dict[str, Any]) -> dict[str, str | None]:
    """OAuth settings: empty strings switch it off; a client id needs a token URL; the secret is kept."""
    given = {name: _optional_text(fields, name) for name in _OAUTH if name in fields}
    if not given:
        return {}
    if all(not value for value in given.values()):
        return dict.fromkeys(_OAUTH)
    client_id = given.get("oauth_client_id", webhook.oauth_client_id)
    token_url = given.get("oauth_token_url", webhook.oauth_token_url)
    if not client_id or not token_url:
        raise BadRequest("oauth_client_id and oauth_token_url must be given together", field="oauth_token_url")
    valid_url(token_url, "oauth_token_url")
    return {"oauth_client_id": client_id, "oauth_token_url": token_url,
            "oauth_client_secret": given.get("oauth_client_secret") or webhook.oauth_client_secret}  # fmt: skip
