"""ASGI middleware kept tiny: it runs on every request."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class CollapseLeadingSlashes:
    """`//v3/...` → `/v3/...`: python-http-client makes this from a host with a trailing slash."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("//"):
            path = "/" + scope["path"].lstrip("/")
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)
