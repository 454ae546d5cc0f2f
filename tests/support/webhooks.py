"""A real HTTP receiver on loopback for Event Webhook tests, and helpers that drive the webhook API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
from sendgrid.helpers.eventwebhook import EventWebhook

from tests.conftest import bearer

SETTINGS = "/v3/user/webhooks/event/settings"
ALL_EVENTS = (
    "bounce", "click", "deferred", "delivered", "dropped", "group_resubscribe", "group_unsubscribe", "open",
    "processed", "spam_report", "unsubscribe",
)  # fmt: skip
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def events(self) -> list[dict[str, Any]]:
        parsed: list[dict[str, Any]] = orjson.loads(self.body)
        return parsed

    def verified_by_the_sdk(self, public_key: str) -> bool:
        """What a receiver using the official Python SDK's helper concludes about this POST."""
        helper = EventWebhook()
        key = helper.convert_public_key_to_ecdsa(public_key)
        verified: bool = helper.verify_signature(
            self.body.decode(), self.headers[SIGNATURE], self.headers[TIMESTAMP], key
        )
        return verified


@dataclass
class Receiver:
    """Records every POST; answers `status` (changeable while running)."""

    status: int = 200
    posts: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.posts.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
            reply = b"ok" if 200 <= receiver.status < 300 else b"receiver is down"
            self.send_response(receiver.status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


async def enable(
    client: httpx.AsyncClient, key: str, url: str, *, events: tuple[str, ...] = ALL_EVENTS, signed: bool = True
) -> str | None:
    """Switch the account's webhook on for `events` (and signing); returns the public key when signed."""
    settings = {"enabled": True, "url": url, **{name: name in events for name in ALL_EVENTS}}
    response = await client.patch(SETTINGS, headers=bearer(key), json=settings)
    assert response.status_code == 200, response.text
    if not signed:
        return None
    response = await client.patch(f"{SETTINGS}/signed", headers=bearer(key), json={"enabled": True})
    assert response.status_code == 200, response.text
    public_key: str = response.json()["public_key"]
    return public_key


async def advance(client: httpx.AsyncClient, seconds: int) -> None:
    response = await client.post("/_mirror/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


async def dispatch(client: httpx.AsyncClient, *, settle: bool = True) -> dict[str, int]:
    """Run a webhook pass now; first step past the few seconds PostgreSQL lets fresh events settle."""
    if settle:
        await advance(client, 3)
    response = await client.post("/_mirror/webhooks/run")
    assert response.status_code == 200, response.text
    done: dict[str, int] = response.json()
    return done


async def deliveries(client: httpx.AsyncClient, **query: str) -> list[dict[str, Any]]:
    response = await client.get("/_mirror/webhooks/deliveries", params=query)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found
