"""A real uvicorn serving the app on a loopback port, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from app.server import http_protocol
from tests.support.postgres import free_port


@contextmanager
def serve(app: FastAPI, **options: Any) -> Iterator[str]:
    """Run `app` on 127.0.0.1:<free port>; yields its base URL (no trailing slash). `options` are
    uvicorn.Config's (say, a log level)."""
    port = free_port()
    settings: dict[str, Any] = {"log_level": "warning", "access_log": False, **options}
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", http=http_protocol.GuardedHttpToolsProtocol, **settings
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    wait_until_up(base_url)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_until_up(base_url: str, *, seconds: float = 30) -> None:
    """Poll /_mirror/health until the mirror at `base_url` answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/_mirror/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the mirror did not start on {base_url}")
