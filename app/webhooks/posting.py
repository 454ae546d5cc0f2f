"""The Event Webhook's HTTP side: sign and POST a payload (with OAuth when set), and say what came back."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, select

from app.clock import service as clock
from app.webhooks import signing as webhook_signing
from app.webhooks.models import EventWebhook

REQUEST_TIMEOUT = 10.0
SNIPPET = 500
USER_AGENT = "SendGrid Event API"
CONTENT_TYPE = "application/json;charset=utf-8"


@dataclass(frozen=True, slots=True)
class OAuth:
    client_id: str
    client_secret: str
    token_url: str


@dataclass(frozen=True, slots=True)
class Post:
    """One POST to make: the delivery it belongs to, where, what, and how to sign and authorise it."""

    delivery_id: int
    url: str
    payload: bytes
    event_count: int
    private_key: bytes | None
    oauth: OAuth | None
    clock_offset: int


@dataclass(frozen=True, slots=True)
class Result:
    delivery_id: int
    at: datetime
    url: str
    event_count: int
    signed: bool
    status_code: int | None = None
    error: str | None = None
    response: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def attempt_row(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id, "attempted_at": self.at, "url": self.url,
            "status_code": self.status_code, "error": self.error, "response": self.response,
            "event_count": self.event_count, "signed": self.signed,
        }  # fmt: skip


def post_for(
    conn: Connection, delivery_id: int, url: str, payload: bytes, event_count: int, webhook_id: str | None
) -> Post:
    """The POST for a delivery: to its webhook's current URL, signed and authorised as the webhook is now."""
    hook = None
    if webhook_id is not None:
        hook = conn.execute(
            select(EventWebhook.url, EventWebhook.signed, EventWebhook.private_key, EventWebhook.oauth_client_id,
                   EventWebhook.oauth_client_secret, EventWebhook.oauth_token_url)
            .where(EventWebhook.id == webhook_id)
        ).one_or_none()  # fmt: skip
    offset = clock.read_offset(conn)
    if hook is None:
        return Post(delivery_id, url, payload, event_count, None, None, offset)
    key = hook.private_key if hook.signed else None
    return Post(delivery_id, hook.url or url, payload, event_count, key, oauth_of(hook), offset)


def oauth_of(hook: Any) -> OAuth | None:
    if hook.oauth_client_id and hook.oauth_client_secret and hook.oauth_token_url:
        return OAuth(hook.oauth_client_id, hook.oauth_client_secret, hook.oauth_token_url)
    return None


async def send_all(posts: list[Post]) -> list[Result]:
    """Make every POST at once; each ends in a Result, whatever happens."""
    if not posts:
        return []
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, follow_redirects=False, trust_env=False) as http:
        return list(await asyncio.gather(*(send(http, post) for post in posts)))


async def send(http: httpx.AsyncClient, post: Post) -> Result:
    """One signed POST; connection problems and timeouts become the attempt's error."""
    now = datetime.now(UTC) + timedelta(seconds=post.clock_offset)
    headers = {"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT}
    headers.update(webhook_signing.headers(post.private_key, int(time.time()) + post.clock_offset, post.payload))
    result = Result(post.delivery_id, now, post.url, post.event_count, post.private_key is not None)
    try:
        if post.oauth is not None:
            headers["Authorization"] = f"Bearer {await _token(http, post.oauth)}"
        response = await http.post(post.url, content=post.payload, headers=headers)
    except (httpx.HTTPError, OAuthFailed) as problem:
        return _with(result, error=_describe(problem))
    return _with(result, status_code=response.status_code, response=response.text[:SNIPPET])


class OAuthFailed(Exception):
    """The OAuth token endpoint did not hand out an access token."""


async def _token(http: httpx.AsyncClient, oauth: OAuth) -> str:
    """A client-credentials access token from the webhook's OAuth token URL."""
    response = await http.post(
        oauth.token_url,
        data={"grant_type": "client_credentials", "client_id": oauth.client_id, "client_secret": oauth.client_secret},
    )
    try:
        token = response.json().get("access_token") if response.status_code == 200 else None
    except ValueError:
        token = None
    if not isinstance(token, str) or not token:
        raise OAuthFailed(f"OAuth token request to {oauth.token_url} answered {response.status_code}")
    return token


def _describe(problem: Exception) -> str:
    text = str(problem) or type(problem).__name__
    return f"{type(problem).__name__}: {text}"[:SNIPPET]


def _with(result: Result, **changes: Any) -> Result:
    return dataclasses.replace(result, **changes)
