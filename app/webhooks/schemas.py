"""Event Webhook bodies (`/v3/user/webhooks/event/...`) and the mirror's delivery log (`/_mirror/webhooks`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class EventWebhookRequest(BaseModel):
    enabled: bool | None = None
    url: str
    group_resubscribe: bool | None = None
    delivered: bool | None = None
    group_unsubscribe: bool | None = None
    spam_report: bool | None = None
    bounce: bool | None = None
    deferred: bool | None = None
    unsubscribe: bool | None = None
    processed: bool | None = None
    open: bool | None = None
    click: bool | None = None
    dropped: bool | None = None
    account_status_change: bool | None = None
    friendly_name: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_token_url: str | None = None


class EventWebhook(BaseModel):
    """Fields are present as SendGrid sends them: `public_key` only when signed, OAuth only when set."""

    enabled: bool
    url: str
    account_status_change: bool | None = None
    group_resubscribe: bool
    delivered: bool
    group_unsubscribe: bool
    spam_report: bool
    bounce: bool
    deferred: bool
    unsubscribe: bool
    processed: bool
    open: bool
    click: bool
    dropped: bool
    friendly_name: str | None = None
    id: str | None = None
    oauth_client_id: str | None = None
    oauth_token_url: str | None = None
    public_key: str | None = None
    created_date: str | None = None
    updated_date: str | None = None


class EventWebhookAll(BaseModel):
    max_allowed: int
    webhooks: list[EventWebhook]


class SignedRequest(BaseModel):
    enabled: bool


class SignedWebhook(BaseModel):
    id: str
    public_key: str


class EventWebhookTestRequest(BaseModel):
    id: str | None = None
    url: str
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_token_url: str | None = None


class WebhookAttempt(BaseModel):
    attempted_at: str
    url: str
    status_code: int | None
    error: str | None
    response: str | None
    event_count: int
    signed: bool


class WebhookDelivery(BaseModel):
    id: int
    account_id: str
    webhook_id: str | None
    kind: str
    replay_of: int | None
    url: str
    status: str
    attempts: int
    event_count: int
    created_at: str
    next_attempt_at: str | None
    give_up_at: str
    last_attempt: WebhookAttempt | None


class WebhookDeliveryDetail(WebhookDelivery):
    payload: list[dict[str, Any]]
    attempt_log: list[WebhookAttempt]


class WebhookDeliveryPage(BaseModel):
    deliveries: list[WebhookDelivery]


class WebhookPass(BaseModel):
    events: int
    attempts: int
