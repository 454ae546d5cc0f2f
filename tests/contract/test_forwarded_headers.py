"""`X-Forwarded-For` against a real `sgmirror serve`: ignored by default, believed only from configured proxies.

The console throttles sign-ins and admin tokens per client address, so a header a client may set itself must
not choose that address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from app.console.models import LoginThrottle
from tests.support import mirror_process

pytestmark = pytest.mark.contract

ADMIN_TOKEN = "forwarded-test-admin-token"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes."


def _post_form(http: httpx.Client, page: str, fields: dict[str, str], forwarded_for: str) -> httpx.Response:
    """A console form as a browser behind `forwarded_for` would post it (token from the page first)."""
    found = CSRF.search(http.get(page).text)
    assert found is not None, f"no form on {page}"
    headers = {"X-Forwarded-For": forwarded_for}
    return http.post(page, data={"csrf_token": found.group(1), **fields}, headers=headers)


def _failures(data_dir: Path) -> dict[str, int]:
    """The console's throttle counters, by key, as stored."""
    engine = create_engine(f"sqlite:///{data_dir / 'sgmirror.db'}")
    try:
        with engine.connect() as conn:
            return {row.key: row.failures for row in conn.execute(select(LoginThrottle.key, LoginThrottle.failures))}
    finally:
        engine.dispose()


@pytest.fixture
def console(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    settings = {"admin_token": ADMIN_TOKEN, **getattr(request, "param", {})}
    server = mirror_process.start(tmp_path, **settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield http
    finally:
        server.stop()


def test_by_default_a_forwarded_address_is_ignored_and_the_peer_is_throttled(
    console: httpx.Client, tmp_path: Path
) -> None:
    for n in range(3):
        fields = {"username": f"nobody-{n}", "password": "wrong password"}
        assert _post_form(console, "/console/login", fields, f"203.0.113.{n}").status_code == 401
    failures = _failures(tmp_path)
    assert failures["ip:127.0.0.1"] == 3
    assert not [key for key in failures if "203.0.113" in key]

    for n in range(10):
        wrong = _post_form(console, "/console/admin", {"token": f"guess-{n}"}, f"198.51.100.{n}")
        assert wrong.status_code == 403
        assert "That is not the admin token." in wrong.text
    locked = _post_form(console, "/console/admin", {"token": ADMIN_TOKEN}, "198.51.100.200")
    assert locked.status_code == 429
    assert LOCKED in locked.text


@pytest.mark.parametrize("console", [{"forwarded_allow_ips": "127.0.0.1"}], indirect=True)
def test_a_configured_proxy_is_believed(console: httpx.Client, tmp_path: Path) -> None:
    fields = {"username": "nobody", "password": "wrong password"}
    assert _post_form(console, "/console/login", fields, "203.0.113.7").status_code == 401
    assert _failures(tmp_path).get("ip:203.0.113.7") == 1
    assert "ip:127.0.0.1" not in _failures(tmp_path)

    for _ in range(10):
        assert _post_form(console, "/console/admin", {"token": "guess"}, "198.51.100.1").status_code == 403
    assert _post_form(console, "/console/admin", {"token": ADMIN_TOKEN}, "198.51.100.1").status_code == 429
    opened = _post_form(console, "/console/admin", {"token": ADMIN_TOKEN}, "198.51.100.2")
    assert (opened.status_code, opened.headers["location"]) == (303, "/console/all-mail")
