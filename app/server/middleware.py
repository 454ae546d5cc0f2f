"""ASGI middleware kept tiny: it runs on every request."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.kernel import http_errors, json_input
from app.kernel.errors import BadRequest


class CollapseLeadingSlashes:
    """`//v3/...` → `/v3/...` (python-http-client makes this from a host with a trailing slash); NUL → 400."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"].startswith("//"):
                path = "/" + scope["path"].lstrip("/")
                scope = {**scope, "path": path, "raw_path": path.encode()}
            # Folded in here rather than a middleware of its own: two substring tests per request.
            if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
                await _refuse_nul(scope, send)
                return
        await self.app(scope, receive, send)


async def _refuse_nul(scope: Scope, send: Send) -> None:
    """400 in the path's error envelope: PostgreSQL cannot compare a NUL, and no SendGrid id holds one."""
    body = http_errors.error_body(scope["path"], BadRequest(json_input.NUL_REFUSED))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
