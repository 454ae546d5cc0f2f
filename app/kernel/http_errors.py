"""The one place that renders errors as HTTP bodies, in the envelope of each SendGrid API family."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.kernel.db import storage
from app.kernel.errors import (
    ACCESS_FORBIDDEN,
    BadRequest,
    ErrorDetail,
    InternalError,
    MethodNotAllowed,
    NotFound,
    SendGridError,
    StorageUnavailable,
)

log = logging.getLogger("sgmirror.errors")

Entry = dict[str, Any]
Renderer = Callable[[int, ErrorDetail], Entry]

_PARTNER_DEFAULTS = {
    400: ("Bad Request", "10-40000"),
    401: ("Failed to authenticate user", "10-40100"),
    403: ("The authenticated user is not authorized to perfrom this request", "10-40300"),
    404: ("No such endpoint", "10-40400"),
    405: ("No such endpoint", "10-40500"),
    413: ("Request Entity Too Large", "10-41300"),
    429: ("Too Many Requests", "10-42900"),
    500: ("Something went wrong", "10-50000"),
    502: ("Bad Gateway", "10-50200"),
    503: ("Service Unavailable", "10-50300"),
    504: ("Endpoint request timed out", "10-50400"),
}
_GENERIC_MESSAGES = {"authorization required", ACCESS_FORBIDDEN, "not found", "method not allowed"}


def _mail(status: int, d: ErrorDetail) -> Entry:
    return {"message": d.message, "field": d.field, "help": d.help}


def _classic(status: int, d: ErrorDetail) -> Entry:
    if status >= 500:
        return {"message": d.message}
    return {"field": d.field, "message": d.message}


def _partner(status: int, d: ErrorDetail) -> Entry:
    message, error_id = d.message, d.error_id
    default_message, default_id = _PARTNER_DEFAULTS.get(status, (d.message, f"10-{status}00"))
    # Auth and routing errors come from the shared layers with the classic wording; partners word them so.
    if error_id is None and (status in (401, 404, 405) or message in _GENERIC_MESSAGES or status >= 500):
        message = default_message
    return {"message": message, "field": d.field or "", "error_id": error_id or default_id}


def _sender(status: int, d: ErrorDetail) -> Entry:
    if status in (400, 403, 404):
        return {"field": d.field, "message": d.message, "error_id": d.error_id or "error"}
    return _classic(status, d)


def _teammate(status: int, d: ErrorDetail) -> Entry:
    if status >= 500:
        return {"message": d.message}
    return {"message": d.message, "field": d.field or ""}


def _activity(status: int, d: ErrorDetail) -> Entry:
    return {"message": d.message} if d.field is None else {"message": d.message, "field": d.field}


def _event_webhook(status: int, d: ErrorDetail) -> Entry:
    """The Webhooks API's own 400/404 entries (`message`, sometimes `id` and `url`); the rest are classic."""
    if status not in (400, 404) or d.message in _GENERIC_MESSAGES:
        return _classic(status, d)
    entry: Entry = {"message": d.message}
    if d.field is not None:
        entry["field"] = d.field
    entry.update(d.extra)
    return entry


# Longest prefix first: the first match decides the envelope.
FAMILIES: tuple[tuple[str, Renderer], ...] = (
    ("/v3/mail/send", _mail),
    ("/v3/partners", _partner),
    ("/v3/verified_senders", _sender),
    ("/v3/teammates", _teammate),
    ("/v3/messages", _activity),
    ("/v3/user/webhooks/event", _event_webhook),
)


def renderer_for(path: str) -> Renderer:
    for prefix, renderer in FAMILIES:
        if path.startswith(prefix):
            return renderer
    return _classic


def error_body(path: str, error: SendGridError) -> bytes:
    render = renderer_for(path)
    return orjson.dumps({"errors": [render(error.status, d) for d in error.details]})


def error_response(request: Request, error: SendGridError) -> Response:
    response = Response(error_body(request.url.path, error), status_code=error.status, media_type="application/json")
    if isinstance(error, StorageUnavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def storage_error_response(request: Request, error: BaseException) -> Response | None:
    """The 503 for a full disk or read-only database (remembered for health and the console), else None."""
    translated = storage.note(request.app.state.db, error)
    if translated is None:
        return None
    log.warning("%s %s refused, database %s", request.method, request.url.path, translated.condition)
    return error_response(request, translated)


async def _on_sendgrid_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SendGridError)
    return error_response(request, exc)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: SendGridError
    if exc.status_code == 404:
        error = NotFound()
    elif exc.status_code == 405:
        error = MethodNotAllowed()
    else:
        error = BadRequest(str(exc.detail)) if exc.status_code < 500 else InternalError()
        error.status = exc.status_code
    response = error_response(request, error)
    response.headers.update(exc.headers or {})
    return response


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [_validation_detail(e) for e in exc.errors()] or [ErrorDetail("Bad Request")]
    return error_response(request, BadRequest(details=details))


def _validation_detail(error: Any) -> ErrorDetail:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
    return ErrorDetail(f"invalid value: {error.get('msg', 'Bad Request')}", ".".join(location) or None)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    refused = storage_error_response(request, exc)
    if refused is not None:
        return refused
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, InternalError())


def install(app: FastAPI) -> None:
    app.add_exception_handler(SendGridError, _on_sendgrid_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
