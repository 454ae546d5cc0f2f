"""POST /v3/mail/send answered at the ASGI edge.

Nearly every client call is a mail send, and the framework's per-request layers (routing, dependency
solving, exception middleware, response classes) cost more than validating and storing the message. The lane
takes exactly `POST /v3/mail/send` before those layers and runs the same handler as the documented route
(`app.api.routes.mail.respond`); every other request, including `//v3/mail/send`, goes the normal way.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.routes import mail

PATH = "/v3/mail/send"


class MailSendLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST":
            response = await mail.respond(Request(scope, receive))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
