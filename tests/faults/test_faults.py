"""Fault injection over HTTP through the API: every trigger, the error bodies, the rules API and the banner.

Each test starts with no rules (the `db` fixture clears every table after each test).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.accounts import bootstrap
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest
from app.main import create_app
from tests.conftest import Keys, bearer
from tests.support.mail import body

pytestmark = pytest.mark.anyio

SEND = "/v3/mail/send"


async def add(client: httpx.AsyncClient, **rule: Any) -> dict[str, Any]:
    response = await client.post("/_mirror/faults", json=rule)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def send(
    client: httpx.AsyncClient, keys: Keys, *, to: str = "alice@example.com", **headers: str
) -> httpx.Response:
    mail = body(personalizations=[{"to": [{"email": to}]}])
    return await client.post(SEND, json=mail, headers={**bearer(keys.default), **headers})


async def statuses(client: httpx.AsyncClient, keys: Keys, count: int) -> list[int]:
    return [(await send(client, keys)).status_code for _ in range(count)]


async def listed(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/_mirror/faults")
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_off_by_default_no_header_and_an_empty_list(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await send(client, keys)
    assert response.status_code == 202
    assert "x-mirror-fault" not in response.headers
    assert await listed(client) == {"active": False, "rules": []}
    assert client._transport.app.state.faults.current().rules == ()  # type: ignore[attr-defined]


async def test_nth_fails_only_that_request_with_sendgrids_503_body(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, id="third", method="POST", path=SEND, nth=3, action={"status": 503})
    responses = [await send(client, keys) for _ in range(4)]
    assert [r.status_code for r in responses] == [202, 202, 503, 202]
    failed = responses[2]
    assert failed.headers["x-mirror-fault"] == "third"
    assert failed.json() == {"errors": [{"message": "service unavailable", "field": None, "help": None}]}
    assert "x-mirror-fault" not in responses[3].headers
    (rule,) = (await listed(client))["rules"]
    assert (rule["matched"], rule["hits"], rule["source"]) == (4, 1, "api")


async def test_every_nth(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, path=SEND, every=2, action={"status": 500})
    assert await statuses(client, keys, 5) == [202, 500, 202, 500, 202]


async def test_the_first_n_times(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, path_prefix="/v3/mail/", times=2, action={"status": 502})
    assert await statuses(client, keys, 4) == [502, 502, 202, 202]


async def test_a_rule_without_trigger_fires_on_every_match(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, path="/v3/api_keys", method="GET", action={"status": 500})
    assert (await client.get("/v3/api_keys", headers=bearer(keys.default))).status_code == 500
    assert (await client.post("/v3/api_keys", json={"name": "k"}, headers=bearer(keys.default))).status_code == 201
    assert (await send(client, keys)).status_code == 202


async def test_header_equal_and_header_present(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, id="h503", header={"X-Mirror-Fault": "503"}, action={"status": 503})
    await add(client, id="any-chaos", header={"X-Chaos": None}, action={"status": 500})
    assert (await send(client, keys)).status_code == 202
    assert (await send(client, keys, **{"X-Mirror-Fault": "500"})).status_code == 202
    assert (await send(client, keys, **{"X-Mirror-Fault": "503"})).status_code == 503
    failed = await send(client, keys, **{"X-Chaos": "whatever"})
    assert (failed.status_code, failed.headers["x-mirror-fault"]) == (500, "any-chaos")


async def test_recipient_rules_by_plus_tag_local_part_and_domain(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, id="tag", recipient="+fault503@", action={"status": 503})
    await add(client, id="local", recipient="flaky@", action={"status": 500})
    await add(client, id="domain", recipient="@down.example", action={"status": 502})
    assert (await send(client, keys, to="ann+fault503@example.com")).status_code == 503
    assert (await send(client, keys, to="flaky+x@example.com")).status_code == 500
    assert (await send(client, keys, to="bob@down.example")).status_code == 502
    assert (await send(client, keys, to="ann+other@example.com")).status_code == 202
    assert (await send(client, keys, to="notflaky@example.com")).status_code == 202
    stored = (await client.get("/_mirror/messages")).json()
    assert stored["total"] == 2, "a failed send stores nothing"


async def test_probability_with_a_seed_repeats(client: httpx.AsyncClient, keys: Keys) -> None:
    rule = {"id": "coin", "path": SEND, "probability": 0.5, "seed": 7, "action": {"status": 503}}
    draws = random.Random(7)
    expected = [503 if draws.random() < 0.5 else 202 for _ in range(8)]
    await add(client, **rule)
    first = await statuses(client, keys, 8)
    assert first == expected
    assert (await client.delete("/_mirror/faults/coin")).status_code == 204
    await add(client, **rule)
    assert await statuses(client, keys, 8) == first


async def test_429_carries_rate_limit_headers_and_the_classic_body(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, path_prefix="/v3/api_keys", action={"status": 429})
    response = await client.get("/v3/api_keys", headers=bearer(keys.default))
    assert response.status_code == 429
    assert response.json() == {"errors": [{"field": None, "message": "too many requests"}]}
    assert response.headers["x-ratelimit-limit"] == "600"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert int(response.headers["x-ratelimit-reset"]) > time.time()


async def test_5xx_bodies_follow_the_endpoint_family(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, path="/v3/partners/offerings", action={"status": 503})
    await add(client, path="/v3/scopes", action={"status": 502, "message": "upstream went away"})
    partner = await client.get("/v3/partners/offerings", headers=bearer(keys.partner))
    assert partner.json() == {"errors": [{"message": "Service Unavailable", "field": "", "error_id": "10-50300"}]}
    classic = await client.get("/v3/scopes", headers=bearer(keys.default))
    assert (classic.status_code, classic.json()) == (502, {"errors": [{"message": "upstream went away"}]})


async def test_a_status_without_a_reason_phrase_is_answered_as_asked(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, path="/v3/scopes", action={"status": 420})
    response = await client.get("/v3/scopes", headers=bearer(keys.default))
    assert (response.status_code, response.json()) == (420, {"errors": [{"field": None, "message": "error"}]})


async def test_latency_alone_answers_normally_and_marks_the_response(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, id="slow", path=SEND, action={"latency_ms": 200})
    started = time.monotonic()
    response = await send(client, keys)
    assert time.monotonic() - started >= 0.2
    assert (response.status_code, response.headers["x-mirror-fault"]) == (202, "slow")
    assert (await listed(client))["rules"][0]["hits"] == 1


async def test_latency_and_an_error_from_two_rules_add_up(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, id="slow", action={"latency_ms": 50})
    await add(client, id="broken", path=SEND, action={"status": 500})
    response = await send(client, keys)
    assert (response.status_code, response.headers["x-mirror-fault"]) == (500, "slow, broken")


async def test_mirror_and_console_paths_are_never_faulted(client: httpx.AsyncClient) -> None:
    await add(client, action={"status": 503})
    assert (await client.get("/_mirror/faults")).status_code == 200
    assert (await client.get("/console/login")).status_code == 200


async def test_smtp_rules_leave_http_alone(client: httpx.AsyncClient, keys: Keys) -> None:
    await add(client, transport="smtp", action={"code": 451})
    assert (await send(client, keys)).status_code == 202


async def test_invalid_rules_name_every_problem(client: httpx.AsyncClient) -> None:
    bad = {"transport": "http", "path": "/_mirror/x", "nth": 0, "every": 2, "stage": "data", "action": {"code": 421}}
    response = await client.post("/_mirror/faults", json=bad)
    assert response.status_code == 400
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["action.code", "path", "nth", "every", "stage"]
    invalid: list[Any] = [
        {"action": {}},
        {"transport": "smtp", "stage": "connect", "recipient": "+x@", "action": {"code": 451}},
        {"recipient": "+x@", "path": "/v3/api_keys", "action": {"status": 500}},
        {"probability": 2, "action": {"status": 500}},
        {"seed": 1, "action": {"status": 500}},
        {"action": {"status": 503, "drop": True}},
        {"surprise": 1, "action": {"status": 500}},
        [],
    ]
    for rule in invalid:
        response = await client.post("/_mirror/faults", json=rule)
        assert response.status_code == 400, rule
        assert response.json()["errors"], rule
    assert (await client.post("/_mirror/faults", content=b"{nope")).status_code == 400
    assert (await listed(client))["rules"] == []


async def test_add_list_delete_one_and_all(client: httpx.AsyncClient, keys: Keys) -> None:
    first = await add(client, id="a", path=SEND, action={"status": 500})
    assert first["id"] == "a"
    generated = await add(client, transport="smtp", stage="mail", action={"code": 421})
    assert generated["id"].startswith("fault-")
    assert generated["action"]["code"] == 421
    duplicate = await client.post("/_mirror/faults", json={"id": "a", "action": {"status": 500}})
    assert duplicate.status_code == 400
    assert [r["id"] for r in (await listed(client))["rules"]] == ["a", generated["id"]]
    assert (await client.delete("/_mirror/faults/a")).status_code == 204
    assert (await client.delete("/_mirror/faults/a")).status_code == 404
    assert (await send(client, keys)).status_code == 202
    assert (await client.delete("/_mirror/faults")).status_code == 204
    assert await listed(client) == {"active": False, "rules": []}


async def test_the_faults_api_is_admin_guarded(app: FastAPI, client: httpx.AsyncClient, settings: Settings) -> None:
    app.state.settings = settings.model_copy(update={"admin_token": "s3cret-admin"})
    assert (await client.get("/_mirror/faults")).status_code == 401
    assert (await client.post("/_mirror/faults", json={"action": {"status": 500}})).status_code == 401
    assert (await client.delete("/_mirror/faults")).status_code == 401
    assert (await client.get("/_mirror/faults", headers=bearer("s3cret-admin"))).status_code == 200


async def test_the_console_banner_shows_while_a_rule_is_active(client: httpx.AsyncClient) -> None:
    assert "fault-banner" not in (await client.get("/console/login")).text
    await add(client, id="down", path=SEND, nth=2, action={"status": 503})
    page = (await client.get("/console/login")).text
    assert "Fault injection is on." in page
    assert "down: http * /v3/mail/send nth=2 -&gt; 503" in page
    await client.delete("/_mirror/faults")
    assert "fault-banner" not in (await client.get("/console/login")).text


async def _client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mirror.test")


async def test_rules_from_the_setting_inline(db: Database, settings: Settings, keys: Keys) -> None:
    inline = '[{"id": "cfg", "path": "/v3/mail/send", "times": 1, "action": {"status": 503}}]'
    app = create_app(settings.model_copy(update={"faults": inline}), database=db)
    async with await _client_for(app) as client:
        assert await statuses(client, keys, 2) == [503, 202]
        (rule,) = (await listed(client))["rules"]
        assert (rule["id"], rule["source"]) == ("cfg", "settings")


async def test_rules_from_a_yaml_file_replace_the_settings_rules_of_the_last_start(
    db: Database, settings: Settings, keys: Keys, tmp_path: Path
) -> None:
    create_app(settings.model_copy(update={"faults": '[{"id": "old", "action": {"status": 500}}]'}), database=db)
    path = tmp_path / "faults.yaml"
    path.write_text("rules:\n  - recipient: '+down@'\n    action: {status: 503}\n")
    app = create_app(settings.model_copy(update={"faults": str(path)}), database=db)
    async with await _client_for(app) as client:
        assert [r["id"] for r in (await listed(client))["rules"]] == ["settings-1"]
        assert (await send(client, keys, to="x+down@example.com")).status_code == 503


def test_an_invalid_setting_stops_the_start(db: Database, settings: Settings) -> None:
    with pytest.raises(Exception, match="nth must be an integer"):
        create_app(settings.model_copy(update={"faults": '[{"nth": -1, "action": {"status": 500}}]'}), database=db)


async def test_a_seed_file_declares_rules(client: httpx.AsyncClient, db: Database, keys: Keys) -> None:
    document = {"faults": [{"id": "seeded", "transport": "smtp", "stage": "mail", "action": {"code": 421}}]}
    with db.session() as session:
        report = bootstrap.apply_seed(session, document)
    assert report.lines == ["Set 1 fault-injection rule(s): the mirror fails on purpose where they match."]
    (rule,) = (await listed(client))["rules"]
    assert (rule["id"], rule["source"], rule["stage"]) == ("seeded", "seed", "mail")
    with db.session() as session, pytest.raises(BadRequest, match="times must be an integer"):
        bootstrap.apply_seed(session, {"faults": [{"times": "x", "action": {"status": 500}}]})
