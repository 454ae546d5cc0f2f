"""POST /v3/mail/send answered ahead of the framework's layers.

Nearly every client call is a mail send, and the framework's per-request layers (telemetry, error and body
limit middleware, routing, dependency solving, response classes) cost more than validating and storing the
message. `MirrorApp` hands exactly `POST /v3/mail/send` to its `mail_edge` — fault injection, then the same
handler as the documented route (`app.mail.router.respond`) — and everything else, including
`//v3/mail/send`, to FastAPI as usual.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.mail import router as mail

PATH = "/v3/mail/send"


class MirrorApp(FastAPI):
    """FastAPI with a lane for its most called route."""

    mail_edge: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.mail_edge is not None and scope["type"] == "http" and _is_mail_send(scope):
            scope["app"] = self
            await self.mail_edge(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def answer_mail_send(scope: Scope, receive: Receive, send: Send) -> None:
    """The lane's ASGI app: the mail-send handler, its errors rendered in the mail envelope."""
    response = await mail.respond(Request(scope, receive))
    await response(scope, receive, send)


def _is_mail_send(scope: Scope) -> bool:
    return bool(scope["path"] == PATH and scope["method"] == "POST")
