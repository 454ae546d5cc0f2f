"""What a web page in the developer's browser could do to a mirror on loopback, refused at the HTTP edge.

Each test sends what the attack's browser would send: a `text/plain` POST (no preflight), a POST from another
origin, a request naming a rebound domain in `Host`. The app here is the suite's default: no admin token, so
the admin API is open to loopback callers, as on a developer's machine.
"""

from __future__ import annotations

import httpx
import pytest

from app.kernel.config import Settings
from app.kernel.db.session import Database
from tests.conftest import Keys, bearer
from tests.support.apps import client_with

pytestmark = pytest.mark.anyio

RULE = '{"status": 503, "match": {"path": "/v3/*"}}'
EVIL = "http://evil.example"


async def _faults(client: httpx.AsyncClient) -> list[object]:
    listed: list[object] = (await client.get("/_mirror/faults")).json()["rules"]
    return listed


async def test_a_text_plain_post_to_the_admin_api_is_415_and_adds_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/_mirror/faults", content=RULE, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["errors"][0]["message"] == "Content-Type should be application/json"
    assert await _faults(client) == []


async def test_a_form_post_cannot_move_the_clock(client: httpx.AsyncClient) -> None:
    before = (await client.get("/_mirror/clock")).json()
    response = await client.post(
        "/_mirror/clock/advance",
        content='{"seconds": 86400}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert (await client.get("/_mirror/clock")).json()["offset_seconds"] == before["offset_seconds"]


async def test_v3_answers_a_non_json_body_with_sendgrids_415(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.post(
        "/v3/api_keys",
        content='{"name": "k"}',
        headers={**bearer(keys.default), "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 415
    assert response.json() == {"errors": [{"field": None, "message": "Content-Type should be application/json"}]}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "text/json"])
async def test_json_types_and_parameters_are_accepted(client: httpx.AsyncClient, keys: Keys, content_type: str) -> None:
    response = await client.post(
        "/v3/api_keys", content='{"name": "k"}', headers={**bearer(keys.default), "Content-Type": content_type}
    )
    assert response.status_code == 201


async def test_a_body_without_a_content_type_is_read_as_json(client: httpx.AsyncClient) -> None:
    # Non-browser clients (curl --data-binary with the header removed, scripts) keep working.
    response = await client.post("/_mirror/clock/advance", content=b'{"seconds": 60}')
    assert response.status_code == 200


async def test_a_bodiless_post_may_declare_any_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_mirror/scheduler/run", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
        {"Sec-Fetch-Site": "same-site"},
    ],
    ids=["origin", "opaque-origin", "fetch-metadata", "same-site-other-port"],
)
async def test_a_cross_origin_post_to_the_admin_api_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    # No Content-Type at all: what `fetch(url, {method: "POST", body: new Blob([json])})` sends, no preflight.
    response = await client.post("/_mirror/faults", content=RULE, headers=headers)
    assert response.status_code == 403
    assert "Cross-origin" in response.json()["errors"][0]["message"]
    assert await _faults(client) == []


async def test_a_cross_origin_read_of_captured_mail_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/_mirror/messages", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"})
    assert response.status_code == 403


async def test_the_same_origin_and_links_from_elsewhere_are_served(client: httpx.AsyncClient) -> None:
    same = await client.post("/_mirror/clock/advance", json={"seconds": 1}, headers={"Origin": "http://mirror.test"})
    assert same.status_code == 200
    fetched = await client.post(
        "/_mirror/clock/advance", json={"seconds": 1}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert fetched.status_code == 200
    followed = await client.get(
        "/_mirror/messages", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    )
    assert followed.status_code == 200


async def test_console_forms_refuse_other_origins_but_its_pages_may_be_linked(client: httpx.AsyncClient) -> None:
    posted = await client.post(
        "/console/login",
        data={"username": "default", "password": "x"},
        headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    )
    assert posted.status_code == 403
    linked = await client.get("/console/login", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert linked.status_code == 200


@pytest.mark.parametrize("path", ["/_mirror/messages", "/_mirror/faults", "/console/login"])
async def test_a_rebound_domain_gets_nothing(client: httpx.AsyncClient, path: str) -> None:
    # After DNS rebinding the page is "same-origin", but its requests name the attacker's domain.
    response = await client.get(path, headers={"Host": "evil.example:8090"})
    assert response.status_code == 403
    assert "SGMIRROR_TRUSTED_HOSTS" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("host", ["localhost:8090", "127.0.0.1:8090", "[::1]:8090", "app.localhost", "LOCALHOST"])
async def test_loopback_names_are_trusted(client: httpx.AsyncClient, host: str) -> None:
    assert (await client.get("/_mirror/messages", headers={"Host": host})).status_code == 200


async def test_health_answers_any_name(client: httpx.AsyncClient) -> None:
    # Container and orchestrator probes call it by an address nobody configured; it says nothing secret.
    assert (await client.get("/_mirror/health", headers={"Host": "10.0.0.7:8090"})).status_code == 200


async def test_v3_answers_any_name(client: httpx.AsyncClient, keys: Keys) -> None:
    # An API key is the guard there: no page can hold one.
    response = await client.get("/v3/api_keys", headers={**bearer(keys.default), "Host": "sendgrid-mirror:8090"})
    assert response.status_code == 200


async def test_trusted_hosts_adds_names_and_star_trusts_any(db: Database, settings: Settings) -> None:
    async with client_with(db, settings, trusted_hosts="sendgrid-mirror, ci.internal") as http:
        assert (await http.get("/_mirror/messages", headers={"Host": "sendgrid-mirror:8090"})).status_code == 200
        assert (await http.get("/_mirror/messages", headers={"Host": "ci.internal"})).status_code == 200
        assert (await http.get("/_mirror/messages", headers={"Host": "other"})).status_code == 403
    async with client_with(db, settings, trusted_hosts="*") as http:
        assert (await http.get("/_mirror/messages", headers={"Host": "other"})).status_code == 200


async def test_the_configured_host_and_public_url_are_trusted(db: Database, settings: Settings) -> None:
    changes = {"host": "10.1.2.3", "public_url": "https://mail-mirror.example.test", "trusted_hosts": ""}
    async with client_with(db, settings, **changes) as http:
        assert (await http.get("/_mirror/messages", headers={"Host": "10.1.2.3:8090"})).status_code == 200
        assert (await http.get("/_mirror/messages", headers={"Host": "mail-mirror.example.test"})).status_code == 200


async def test_the_admin_token_is_trusted_by_any_name(db: Database, settings: Settings) -> None:
    async with client_with(db, settings, admin_token="s3cret", trusted_hosts="") as http:
        named = await http.get(
            "/_mirror/messages", headers={"Host": "sendgrid-mirror:8090", "Authorization": "Bearer s3cret"}
        )
        assert named.status_code == 200
        guessed = await http.get(
            "/_mirror/messages", headers={"Host": "sendgrid-mirror:8090", "Authorization": "Bearer wrong"}
        )
        assert guessed.status_code == 403
