"""Hostile input against a real uvicorn on loopback: SendGrid-shaped errors or a cut connection, never a 500,
and the server keeps serving."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from app.server import http_protocol
from tests.conftest import Keys, bearer
from tests.support.server import serve

DEEP = 100_000
MAIL: dict[str, Any] = {
    "personalizations": [{"to": [{"email": "a@hostile.example"}]}],
    "from": {"email": "n@hostile.example"},
    "subject": "s",
    "content": [{"type": "text/plain", "value": "v"}],
}


@pytest.fixture
def base_url(app: FastAPI, keys: Keys) -> Iterator[str]:
    with serve(app) as url:
        yield url


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def spliced(field: str, value: bytes) -> bytes:
    """The mail body with raw JSON text as the value of a top-level field (what orjson would not write)."""
    return orjson.dumps(MAIL)[:-1] + b',"' + field.encode() + b'":' + value + b"}"


def raw_json(text: str) -> bytes:
    return spliced("send_at", text.encode())


def still_serving(base_url: str, key: str) -> None:
    response = httpx.post(f"{base_url}/v3/mail/send", headers=bearer(key), json=MAIL, timeout=30)
    assert response.status_code == 202, response.text


def sendgrid_shaped(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("errors"), list) and bool(body["errors"])


BODIES: list[tuple[str, str, bytes, int]] = [
    ("POST", "/v3/mail/send", nested(DEEP), 400),
    ("POST", "/v3/mail/send", spliced("custom_args", nested(1000)), 400),
    ("POST", "/v3/mail/send", spliced("headers", nested(1000)), 400),
    # Without a template_id the data is kept as sent and never read: accepted, as SendGrid would.
    ("POST", "/v3/mail/send", spliced("dynamic_template_data", b'{"a":' * 1000 + b"1" + b"}" * 1000), 202),
    ("POST", "/v3/mail/send", raw_json("1e400"), 400),
    ("POST", "/v3/mail/send", raw_json("-1e400"), 400),
    ("POST", "/v3/mail/send", raw_json("1" + "0" * 100), 400),
    ("POST", "/v3/mail/send", raw_json("1" + "0" * 5000), 400),
    ("POST", "/v3/mail/send", raw_json("NaN"), 400),
    ("POST", "/v3/mail/send", raw_json("Infinity"), 400),
    ("POST", "/v3/mail/send", b'{"subject": "\xff\xfe"}', 415),
    ("POST", "/v3/mail/send", b'{"subject": "\xc0\xaf"}', 415),
    ("POST", "/v3/mail/send", b'{"subject": "\xed\xa0\x80"}', 415),
    ("POST", "/v3/mail/send", b"\x00" * 64, 400),
    ("POST", "/v3/api_keys", nested(DEEP), 400),
    ("POST", "/v3/api_keys", b'{"name": "\xff"}', 400),
    ("POST", "/v3/api_keys", b'{"name": "a", "scopes": 1e400}', 400),
    ("POST", "/v3/api_keys", b'{"name": "a", "scopes": ' + nested(1000) + b"}", 400),
    ("POST", "/v3/subusers", nested(DEEP), 400),
    ("POST", "/v3/verified_senders", nested(DEEP), 400),
    ("POST", "/v3/whitelabel/domains", nested(DEEP), 400),
    ("POST", "/v3/user/scheduled_sends", b'{"batch_id": 1e400, "status": "pause"}', 400),
    ("POST", "/v3/ips", b'{"count": 100000000000000000000000000000}', 400),
    ("POST", "/v3/ips", b'{"count": 1e400}', 400),
]


def test_hostile_bodies_get_sendgrid_shaped_errors(base_url: str, keys: Keys) -> None:
    failures = []
    for method, path, content, status in BODIES:
        headers = {**bearer(keys.default), "Content-Type": "application/json"}
        response = httpx.request(method, base_url + path, content=content, headers=headers, timeout=60)
        if response.status_code != status or (status >= 400 and not sendgrid_shaped(response)):
            failures.append(f"{method} {path} {content[-60:]!r}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    still_serving(base_url, keys.default)


NUL_REQUESTS: list[tuple[str, str, Any]] = [
    ("POST", "/v3/mail/send", {**MAIL, "subject": "a\u0000b"}),
    ("POST", "/v3/mail/send", {**MAIL, "categories": ["a\u0000b"]}),
    ("POST", "/v3/mail/send", {**MAIL, "custom_args": {"k\u0000": "v\u0000"}}),
    ("POST", "/v3/mail/send", {**MAIL, "personalizations": [{"to": [{"email": "a\u0000@hostile.example"}]}]}),
    ("POST", "/v3/api_keys", {"name": "a\u0000b"}),
    ("POST", "/v3/mail/batch", None),
    ("POST", "/v3/verified_senders", {"nickname": "n\u0000", "from_email": "a@b.example", "from_name": "x",
                                      "reply_to": "a@b.example", "address": "1", "city": "c", "country": "US"}),
    ("POST", "/v3/whitelabel/domains", {"domain": "a\u0000.example"}),
    ("POST", "/v3/subusers", {"username": "u\u0000", "email": "u@b.example", "password": "p" * 10, "ips": []}),
    ("GET", "/v3/messages?query=subject%3D%22a%00b%22", None),
    ("GET", "/v3/api_keys/a%00b", None),
    ("GET", "/v3/whitelabel/domains/1%00", None),
]  # fmt: skip


def test_nul_characters_never_reach_the_database_as_a_500(base_url: str, keys: Keys) -> None:
    """PostgreSQL refuses NUL in text: the mirror answers 4xx (or accepts), never 500."""
    failures = []
    for method, path, body in NUL_REQUESTS:
        response = httpx.request(method, base_url + path, json=body, headers=bearer(keys.default), timeout=30)
        if response.status_code >= 500:
            failures.append(f"{method} {path} {body}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    still_serving(base_url, keys.default)


HUGE_IDS = ["9" * 30, "9" * 5000, "-1", "1e400", "%FF%FE", "%C0%AF", "..%2F..%2Fetc"]
ID_PATHS = [
    "/v3/whitelabel/domains/{}", "/v3/whitelabel/domains/{}/validate", "/v3/verified_senders/{}",
    "/v3/verified_senders/resend/{}", "/v3/api_keys/{}", "/v3/messages/{}", "/v3/ips/{}", "/v3/mail/batch/{}",
    "/v3/user/scheduled_sends/{}", "/v3/subusers/{}", "/v3/partners/accounts/{}/state",
]  # fmt: skip


def test_odd_ids_in_paths_and_queries_are_4xx(base_url: str, keys: Keys) -> None:
    failures = []
    for template in ID_PATHS:
        for odd in HUGE_IDS:
            method = "POST" if "validate" in template or "resend" in template else "GET"
            key = keys.partner if "partners" in template else keys.default
            response = httpx.request(method, base_url + template.format(odd), headers=bearer(key), timeout=30)
            if not 400 <= response.status_code < 500 or not sendgrid_shaped(response):
                failures.append(f"{method} {template.format(odd)[:60]}: {response.status_code} {response.text[:120]}")
    for query in ("limit=" + "9" * 30, "limit=%FF", "offset=" + "9" * 30, "lastSeenID=" + "9" * 30, "id=" + "9" * 30):
        for path in ("/v3/api_keys", "/v3/verified_senders", "/v3/subusers", "/v3/whitelabel/domains", "/v3/ips"):
            response = httpx.get(f"{base_url}{path}?{query}", headers=bearer(keys.default), timeout=30)
            if response.status_code >= 500:
                failures.append(f"GET {path}?{query[:30]}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)
    still_serving(base_url, keys.default)


def _raw_request(base_url: str, payload: bytes, *, timeout: float = 30) -> bytes:
    """Send bytes on a fresh socket; everything the server answers until it closes (or the timeout)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        # The server may answer and close before a large payload is all sent; its answer is still read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(payload)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def test_invalid_bytes_in_headers_and_the_request_line(base_url: str, keys: Keys) -> None:
    cases = [
        b"GET /v3/scopes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n",
        b"GET /v3/scopes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SG.\xc0\xaf.x\r\nConnection: close\r\n\r\n",
        b"GET /v3/scopes?q=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /v3/api_keys/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /v3/scopes HTTP/1.1\r\nHost: x\r\nOn-Behalf-Of: \xff\x00\r\nConnection: close\r\n\r\n",
    ]
    failures = []
    for payload in cases:
        answer = _raw_request(base_url, payload)
        status_line = answer.split(b"\r\n", 1)[0]
        if answer and not status_line.startswith((b"HTTP/1.1 4",)):
            failures.append(f"{payload[:60]!r}: {status_line!r}")
    assert not failures, "\n".join(failures)
    still_serving(base_url, keys.default)


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slow-client limits, shortened so that the tests wait seconds rather than half a minute."""
    monkeypatch.setattr(http_protocol, "HEADER_TIMEOUT", 1.0)
    monkeypatch.setattr(http_protocol, "BODY_IDLE_TIMEOUT", 1.0)


def test_oversized_request_headers_get_431_and_the_connection_closes(base_url: str, keys: Keys) -> None:
    huge = b"GET /v3/scopes HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n"
    many = b"GET /v3/scopes HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(20_000)) + b"\r\n"
    for payload in (huge, many):
        answer = _raw_request(base_url, payload)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
        assert answer.endswith(b'{"errors":[{"field":null,"message":"request header fields too large"}]}')
    still_serving(base_url, keys.default)


def _held_until_closed(base_url: str, chunks: list[bytes]) -> bytes:
    """Send `chunks` slowly (a second apart, or until the server hangs up); what came back before the close."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
                time.sleep(0.5)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received


@pytest.mark.usefixtures("short_timeouts")
def test_a_slow_client_is_cut_off_and_others_are_served(base_url: str, keys: Keys) -> None:
    request = b"GET /v3/scopes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + keys.default.encode() + b"\r\n\r\n"
    slowloris = [request[i : i + 1] for i in range(len(request))]
    results: dict[str, bytes] = {}
    thread = threading.Thread(target=lambda: results.update(headers=_held_until_closed(base_url, slowloris)))
    thread.start()
    still_serving(base_url, keys.default)
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert results["headers"] == b""
    stalled_body = (
        b"POST /v3/mail/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
        b"Authorization: Bearer " + keys.default.encode() + b"\r\n\r\n" + b'{"personalizations":'
    )
    # The body never completes: the connection is closed without a message being stored.
    assert _held_until_closed(base_url, [stalled_body]) == b""
    assert _held_until_closed(base_url, []) == b""
    still_serving(base_url, keys.default)


@pytest.mark.usefixtures("short_timeouts")
def test_many_idle_connections_do_not_stop_the_server(base_url: str, keys: Keys) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=60) for _ in range(500)]
    try:
        still_serving(base_url, keys.default)
        for sock in idle:
            assert sock.recv(1) == b""  # closed by the server once the header deadline passed
    finally:
        for sock in idle:
            sock.close()
    still_serving(base_url, keys.default)
