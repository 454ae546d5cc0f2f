"""Fault injection at the HTTP edge: a pure ASGI middleware, and the recipient check mail send calls.

With no rules the middleware tests one attribute (`Registry.idle`) and passes the request on. Otherwise it
asks the rules, waits the latency they add, and answers with their error or drops the connection; every
response a rule touched carries `X-Mirror-Fault: <rule ids>`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Final

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.faults import rules as fault_rules
from app.faults import service as faults
from app.kernel import http_errors
from app.kernel.config import Settings
from app.mail.message import OutboundMessage
from app.quotas import rate_limits

SCOPE_KEY: Final = "sgmirror.faults"
HEADER: Final = b"x-mirror-fault"
_DISCONNECT_WAITS: Final = 100


@dataclass
class FaultContext:
    """What the middleware hands down the request: the rules it saw and the ids of those that fired."""

    snapshot: faults.Snapshot
    headers: dict[str, str]
    fired: list[str] = field(default_factory=list)


class FaultFired(Exception):
    """Raised below the middleware (mail send's recipient check) for the middleware to act on."""

    def __init__(self, decision: faults.Decision) -> None:
        super().__init__(", ".join(decision.rule_ids))
        self.decision = decision


class FaultInjection:
    def __init__(self, app: ASGIApp, registry: faults.Registry, settings: Settings) -> None:
        self.app = app
        self.registry = registry
        self.settings = settings

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function: with no rule it hands back the inner app's awaitable, adding no coroutine frame.
        if self.registry.idle or scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._active(scope, receive, send)

    async def _active(self, scope: Scope, receive: Receive, send: Send) -> None:
        snapshot = self.registry.current()
        if not snapshot.http and not snapshot.http_recipient:
            await self.app(scope, receive, send)
            return
        await self._inject(snapshot, scope, receive, send)

    async def _inject(self, snapshot: faults.Snapshot, scope: Scope, receive: Receive, send: Send) -> None:
        path = "/" + scope["path"].lstrip("/")
        if not path.startswith(fault_rules.API_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        context = FaultContext(snapshot, headers)
        decision = faults.http_decision(snapshot, scope["method"], path, headers)
        if decision is not None:
            context.fired.extend(decision.rule_ids)
            await _wait(decision.latency_ms)
            if decision.action is not None:
                await self._act(decision.action, context, path, receive, send)
                return
        scope[SCOPE_KEY] = context

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and context.fired:
                message = {**message, "headers": [*message.get("headers", []), _marker(context)]}
            await send(message)

        try:
            await self.app(scope, receive, send_marked)
        except FaultFired as fired:
            await self._act(fired.decision.action or fault_rules.Action(status=500), context, path, receive, send)

    async def _act(
        self, action: fault_rules.Action, context: FaultContext, path: str, receive: Receive, send: Send
    ) -> None:
        if action.drop and await _drop(receive):
            return
        error = fault_rules.http_error(action if not action.drop else fault_rules.Action(status=500))
        body = http_errors.error_body(path, error)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            _marker(context),
        ]
        if error.status == 429:
            headers += self._rate_limit_headers(path)
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _rate_limit_headers(self, path: str) -> list[tuple[bytes, bytes]]:
        """As SendGrid sends with a 429: the family's limit, none remaining, and when the window resets."""
        settings = self.settings
        limit = settings.rate_limits.get(rate_limits.family_of(path), settings.rate_limit) or settings.rate_limit
        window = max(settings.rate_limit_window, 1)
        reset = (int(time.time()) // window + 1) * window
        return rate_limits.Usage(limit=limit, count=limit, reset=reset).headers()


def _marker(context: FaultContext) -> tuple[bytes, bytes]:
    return HEADER, ", ".join(context.fired).encode()


async def _wait(latency_ms: int) -> None:
    if latency_ms:
        await asyncio.sleep(latency_ms / 1000)


async def _drop(receive: Receive) -> bool:
    """Close the client's connection without an answer; False when the server gives no way to (not uvicorn)."""
    # uvicorn's `receive` is a method of its request cycle, which holds the connection's transport.
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if not callable(abort):
        return False
    abort()
    # Once the server has seen the connection go, it sends nothing for this request.
    for _ in range(_DISCONNECT_WAITS):
        if (await receive())["type"] == "http.disconnect":
            break
    return True


async def check_recipients(request: Request, message: OutboundMessage) -> None:
    """Mail send's recipient rules (only called while some rule exists): latency, or FaultFired."""
    context: FaultContext = request.scope[SCOPE_KEY]
    if not context.snapshot.http_recipient:
        return
    recipients = [address.email for p in message.personalizations for address in p.recipients]
    path = "/" + request.url.path.lstrip("/")
    decision = faults.recipient_decision(context.snapshot, request.method, path, context.headers, recipients)
    if decision is None:
        return
    context.fired.extend(decision.rule_ids)
    await _wait(decision.latency_ms)
    if decision.action is not None:
        raise FaultFired(decision)
