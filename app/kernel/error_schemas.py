"""SendGrid error envelopes, declared on routes so the OpenAPI document shows every status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorItem(BaseModel):
    message: str
    field: str | None = None
    help: str | None = None
    error_id: str | None = None


class ErrorResponse(BaseModel):
    errors: list[ErrorItem]


_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the error envelope (401 and 500 always)."""
    codes = sorted({401, 500, *statuses})
    return {code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}


def json_request_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` declaring a JSON body that the route parses itself (to word errors as SendGrid)."""
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {"schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}
            },
        }
    }
