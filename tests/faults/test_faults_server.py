"""Fault injection against a real uvicorn: what the official Python SDK sees, dropped connections, the
start-up warning, and rules written by another process reaching this one."""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from app.faults import service as faults
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import Keys
from tests.support.server import serve

SEND = "/v3/mail/send"


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


def add(base_url: str, **rule: Any) -> None:
    response = httpx.post(f"{base_url}/_mirror/faults", json=rule, timeout=10)
    assert response.status_code == 201, response.text


def sdk_send(base_url: str, key: str, to: str = "ann@example.com") -> Any:
    mail = Mail(from_email="shop@example.com", to_emails=to, subject="Order", plain_text_content="Thanks")
    return SendGridAPIClient(api_key=key, host=base_url).send(mail)


def test_the_sdk_raises_the_injected_error_with_our_body(base_url: str, keys: Keys) -> None:
    add(base_url, id="busy", path=SEND, nth=1, action={"status": 503})
    with pytest.raises(http_errors.ServiceUnavailableError) as raised:
        sdk_send(base_url, keys.default)
    assert json.loads(raised.value.body) == {
        "errors": [{"message": "service unavailable", "field": None, "help": None}]
    }
    assert raised.value.headers["X-Mirror-Fault"] == "busy"
    assert sdk_send(base_url, keys.default).status_code == 202


def test_the_sdk_sees_a_429_with_rate_limit_headers(base_url: str, keys: Keys) -> None:
    add(base_url, recipient="+slowdown@", action={"status": 429})
    with pytest.raises(http_errors.TooManyRequestsError) as raised:
        sdk_send(base_url, keys.default, to="ann+slowdown@example.com")
    assert raised.value.headers["X-RateLimit-Remaining"] == "0"
    assert json.loads(raised.value.body)["errors"][0]["message"] == "too many requests"


def test_a_dropped_connection_is_a_connection_error(base_url: str, keys: Keys) -> None:
    add(base_url, id="gone", path=SEND, times=2, action={"drop": True})
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        sdk_send(base_url, keys.default)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/v3/mail/send", timeout=10)
    assert sdk_send(base_url, keys.default).status_code == 202


def test_a_drop_after_latency_and_on_recipients(base_url: str, keys: Keys) -> None:
    add(base_url, id="bye", recipient="@gone.example", action={"drop": True, "latency_ms": 100})
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        sdk_send(base_url, keys.default, to="x@gone.example")
    listed = httpx.get(f"{base_url}/_mirror/faults").json()
    assert listed["rules"][0]["hits"] == 1
    assert httpx.get(f"{base_url}/_mirror/messages").json()["total"] == 0


def test_latency_through_the_sdk(base_url: str, keys: Keys) -> None:
    add(base_url, id="slow", path=SEND, action={"latency_ms": 300})
    started = time.monotonic()
    response = sdk_send(base_url, keys.default)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 202
    assert response.headers["X-Mirror-Fault"] == "slow"


def test_with_a_watcher_and_no_rule_the_hot_path_is_one_attribute(app: FastAPI, base_url: str) -> None:
    registry: faults.Registry = app.state.faults
    deadline = time.monotonic() + 10
    while not registry.idle and time.monotonic() < deadline:
        time.sleep(0.05)
    assert registry.idle
    add(base_url, action={"status": 500})
    assert not registry.idle


def test_rules_written_by_another_process_apply_within_seconds(base_url: str, database: Database, keys: Keys) -> None:
    other = Database(database.url)  # what a second process sees: its own engine and no shared cache
    try:
        with other.session() as session:
            faults.add_rule(session, {"id": "elsewhere", "path": SEND, "action": {"status": 500}})
    finally:
        other.dispose()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = httpx.post(f"{base_url}{SEND}", json={}, headers={"Authorization": f"Bearer {keys.default}"})
        if response.status_code == 500:
            break
        time.sleep(0.2)
    assert response.headers.get("x-mirror-fault") == "elsewhere"


def test_a_warning_at_start_up_names_the_rules(
    db: Database, settings: Settings, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    inline = '[{"id": "boot", "path": "/v3/mail/send", "every": 2, "action": {"status": 503}}]'
    app = create_app(settings.model_copy(update={"faults": inline}), database=db)
    with caplog.at_level(logging.WARNING, logger="sgmirror.faults"), serve(app) as url:
        assert [sdk_send(url, keys.default).status_code for _ in range(1)] == [202]
        with pytest.raises(http_errors.ServiceUnavailableError):
            sdk_send(url, keys.default)
    warnings = [r.getMessage() for r in caplog.records if r.name == "sgmirror.faults"]
    assert any("Fault injection is ON" in w and "boot: http * /v3/mail/send every=2 -> 503" in w for w in warnings)
