"""Rate limits at the HTTP edge: the dependency that counts a request, the middleware that adds the headers.

The middleware only marks /v3 requests other than mail send; the count happens once the key is known
(`enforce`, called by `app.kernel.deps.get_principal`), so mail send never pays for it.
"""

from __future__ import annotations

import time

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.kernel.config import Settings
from app.kernel.errors import TooManyRequests
from app.kernel.principal import Principal
from app.quotas import rate_limits

SCOPE_KEY = "sgmirror.rate_limit"
_MAIL_SEND = "v3/mail/send"


class RateLimitHeaders:
    """Adds X-RateLimit-* to responses of requests that `enforce` counted (errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].lstrip("/") if scope["type"] == "http" else ""
        if not path.startswith("v3/") or path == _MAIL_SEND:
            await self.app(scope, receive, send)
            return
        usage: list[rate_limits.Usage] = []
        scope[SCOPE_KEY] = usage

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and usage:
                message = {**message, "headers": [*message.get("headers", []), *usage[-1].headers()]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def enforce(request: Request, principal: Principal) -> None:
    """Count the request against its key and family; 429 `too many requests` over the limit."""
    usage: list[rate_limits.Usage] | None = request.scope.get(SCOPE_KEY)
    settings: Settings = request.app.state.settings
    family = rate_limits.family_of(request.url.path)
    limit = settings.rate_limits.get(family, settings.rate_limit)
    if usage is None or limit <= 0:
        return
    counted = await rate_limits.hit(
        request.app.state.db,
        key_id=principal.key_id,
        family=family,
        limit=limit,
        window=max(settings.rate_limit_window, 1),
        now=int(time.time()),
    )
    if counted is None:
        return
    usage.append(counted)
    if counted.exceeded:
        raise TooManyRequests()
