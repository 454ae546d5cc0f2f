"""The attacks a web page could make on a mirror running on the developer's machine, made by a real Chromium.

The mirror runs as on a laptop: loopback, no admin token. The attacker's page is served from another loopback
port (another origin); `evil.test` resolves to 127.0.0.1 inside this browser, which is where a DNS-rebinding
attack ends up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.browser.conftest import launch_chromium
from tests.support.server import serve

ATTACK_PAGE = """<!doctype html><title>cats</title><script>
const mirror = new URLSearchParams(location.search).get("mirror");
const post = (path, body) => fetch(mirror + path, {method: "POST", mode: "no-cors",
    headers: {"Content-Type": "text/plain"}, body}).catch(() => null);
const blob = (path, body) => fetch(mirror + path, {method: "POST", mode: "no-cors",
    body: new Blob([body])}).catch(() => null);
window.done = Promise.all([
  post("/_mirror/faults", JSON.stringify({status: 503, match: {path: "/v3/*"}})),
  post("/_mirror/clock/advance", JSON.stringify({seconds: 86400})),
  blob("/_mirror/faults", JSON.stringify({status: 500, match: {path: "/v3/*"}})),
  blob("/_mirror/clock/advance", JSON.stringify({seconds: 3600})),
]).then(() => "sent");
</script>"""


@pytest.fixture(scope="module")
def rebinding_chromium() -> Iterator[Any]:
    """Chromium in which evil.test resolves to loopback, as it would once the attacker's DNS rebinds it."""
    yield from launch_chromium("--host-resolver-rules=MAP evil.test 127.0.0.1")


@pytest.fixture
def attacker() -> Iterator[str]:
    page = Starlette(routes=[Route("/", lambda request: HTMLResponse(ATTACK_PAGE))])
    with serve(page) as url:  # type: ignore[arg-type]
        yield url


def test_a_page_on_another_origin_cannot_drive_the_admin_api(
    rebinding_chromium: Any, base_url: str, attacker: str
) -> None:
    clock_before = httpx.get(f"{base_url}/_mirror/clock").json()["offset_seconds"]
    context = rebinding_chromium.new_context()
    try:
        page = context.new_page()
        page.goto(f"{attacker}/?mirror={base_url}")
        assert page.evaluate("window.done") == "sent"
    finally:
        context.close()
    assert httpx.get(f"{base_url}/_mirror/faults").json()["rules"] == []
    assert httpx.get(f"{base_url}/_mirror/clock").json()["offset_seconds"] == clock_before
    assert httpx.get(f"{base_url}/_mirror/health").status_code == 200


def test_a_rebound_domain_cannot_read_captured_mail_or_the_console(rebinding_chromium: Any, base_url: str) -> None:
    port = base_url.rsplit(":", 1)[1]
    context = rebinding_chromium.new_context()
    try:
        page = context.new_page()
        for path in ("/_mirror/messages", "/console/login"):
            response = page.goto(f"http://evil.test:{port}{path}")
            assert response is not None
            assert response.status == 403, path
            assert "SGMIRROR_TRUSTED_HOSTS" in page.content()
        own = page.goto(f"{base_url}/_mirror/messages")
        assert own is not None
        assert own.status == 200
    finally:
        context.close()
