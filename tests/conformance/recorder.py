"""Records the /v3 responses that tests receive through the ASGI clients, for the official-spec check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

# Bodies larger than this are kept cut short: no official response is that large, and memory stays flat.
MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request line and the response it got."""

    method: str
    path: str
    status: int
    content_type: str
    body: bytes


EXCHANGES: list[Exchange] = []


async def record(response: httpx.Response) -> None:
    """httpx response hook: keep every /v3 answer."""
    path = "/" + response.request.url.path.lstrip("/")
    if not path.startswith("/v3/"):
        return
    body = await response.aread()
    EXCHANGES.append(
        Exchange(
            method=response.request.method,
            path=path,
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=body[:MAX_BODY],
        )
    )


def event_hooks() -> dict[str, list[Any]]:
    """`event_hooks=` for an httpx.AsyncClient whose responses should be checked against the official spec."""
    return {"response": [record]}
