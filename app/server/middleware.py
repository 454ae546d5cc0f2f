"""ASGI middleware kept tiny: it runs on every request."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.kernel import http_errors, json_input
from app.kernel.config import Settings
from app.kernel.errors import BadRequest, Forbidden, SendGridError, UnsupportedMediaType
from app.server import rules


class EdgeGuard:
    """Ahead of routing: `//v3/...` → `/v3/...`, and the refusals that need nothing but the request line and headers.

    python-http-client makes `//v3` from a host with a trailing slash. Refused here: a NUL in the path or query
    (400), a body that declares a type other than JSON (415), and on `/_mirror` and the console an untrusted
    Host or a cross-origin browser request (403; see `rules`).
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.trusted_hosts = rules.trusted_host_names(settings)
        self.admin_token = settings.admin_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"].startswith("//"):
                path = "/" + scope["path"].lstrip("/")
                scope = {**scope, "path": path, "raw_path": path.encode()}
            refusal = self._refusal(scope)
            if refusal is not None:
                await _refuse(scope, send, refusal)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> SendGridError | None:
        path: str = scope["path"]
        if "\x00" in path or b"%00" in scope.get("query_string", b""):
            # PostgreSQL cannot compare a NUL, and no SendGrid id holds one.
            return BadRequest(json_input.NUL_REFUSED)
        method: str = scope["method"]
        guarded = rules.is_browser_guarded(path)
        if method in ("GET", "HEAD") and not guarded:
            return None  # the common case: one header-free decision
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if guarded and not rules.carries_admin_token(headers, self.admin_token):
            if not rules.host_is_trusted(headers.get("host"), self.trusted_hosts):
                return Forbidden(rules.UNTRUSTED_HOST.format(host=headers.get("host")))
            if rules.is_cross_origin(method, path, headers):
                return Forbidden(rules.CROSS_ORIGIN)
            if path.startswith("/console"):
                return None  # the console's forms are not JSON
        if rules.declares_other_than_json(method, headers):
            return UnsupportedMediaType(rules.NOT_JSON)
        return None


async def _refuse(scope: Scope, send: Send, error: SendGridError) -> None:
    """The error in the path's envelope, before any route or dependency has run."""
    body = http_errors.error_body(scope["path"], error)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
