"""/v3/suppression/{bounces,blocks,invalid_emails,spam_reports,unsubscribes} over HTTP, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.kernel.db.session import Database
from tests.conftest import Keys, bearer
from tests.support.accounts import create_customer, customer_key, on_behalf
from tests.support.suppressions import T0, error, seed

pytestmark = pytest.mark.anyio

BOUNCE_REASON = "550 5.1.1 The email account that you tried to reach does not exist"


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


async def test_bounces_list_in_the_spec_shape(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    seed(db, keys.default, "bounce", "Old@Example.com", reason=BOUNCE_REASON, status="5.1.1")
    seed(db, keys.default, "bounce", "new@example.com", at=T0 + timedelta(hours=1), reason="x", status="5.2.2")
    response = await client.get("/v3/suppression/bounces", headers=bearer(keys.default))
    assert response.status_code == 200
    assert response.json() == [
        {"created": unix(T0) + 3600, "email": "new@example.com", "reason": "x", "status": "5.2.2"},
        {"created": unix(T0), "email": "old@example.com", "reason": BOUNCE_REASON, "status": "5.1.1"},
    ]


async def test_each_list_has_its_own_shape(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    seed(db, keys.default, "block", "b@example.com", reason="blocked", status="4.0.0")
    seed(db, keys.default, "invalid_email", "i@example.com", reason="Mail domain is unknown")
    seed(db, keys.default, "spam_report", "s@example.com", ip="10.63.202.100")
    seed(db, keys.default, "global_unsubscribe", "u@example.com")
    expected = {
        "blocks": {"created": unix(T0), "email": "b@example.com", "reason": "blocked", "status": "4.0.0"},
        "invalid_emails": {"created": unix(T0), "email": "i@example.com", "reason": "Mail domain is unknown"},
        "spam_reports": {"created": unix(T0), "email": "s@example.com", "ip": "10.63.202.100"},
        "unsubscribes": {"created": unix(T0), "email": "u@example.com"},
    }
    for path, entry in expected.items():
        response = await client.get(f"/v3/suppression/{path}", headers=bearer(keys.default))
        assert response.json() == [entry], path


async def test_time_range_paging_and_email_match(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    for hour, email in enumerate(["sales@example.com", "salesteam@example.com", "ops@market.example", "x_y@a.io"]):
        seed(db, keys.default, "spam_report", email, at=T0 + timedelta(hours=hour))

    async def emails(**params: Any) -> list[str]:
        response = await client.get("/v3/suppression/spam_reports", headers=bearer(keys.default), params=params)
        assert response.status_code == 200, response.text
        return [entry["email"] for entry in response.json()]

    start = unix(T0)
    assert await emails(start_time=start + 3600, end_time=start + 7200) == [
        "ops@market.example",
        "salesteam@example.com",
    ]
    assert await emails(limit=2) == ["x_y@a.io", "ops@market.example"]
    assert await emails(limit=2, offset=2) == ["salesteam@example.com", "sales@example.com"]
    assert await emails(email="sales") == ["salesteam@example.com", "sales@example.com"]
    assert await emails(email="%market") == ["ops@market.example"]
    assert await emails(email="x_") == ["x_y@a.io"]
    assert await emails(email="xy") == []


@pytest.mark.parametrize(
    ("params", "message", "field"),
    [
        ({"limit": "0"}, "limit must be between 1 and 500", "limit"),
        ({"limit": "501"}, "limit must be between 1 and 500", "limit"),
        ({"offset": "-1"}, "offset must be at least 0", "offset"),
        ({"start_time": "soon"}, "start_time must be an integer", "start_time"),
        ({"offset": "9223372036854775808"}, "offset must be between 0 and 9223372036854775807", "offset"),
        ({"end_time": "1" + "0" * 20}, "end_time must be between 0 and 9223372036854775807", "end_time"),
    ],
)
async def test_bad_list_parameters(
    client: httpx.AsyncClient, keys: Keys, params: dict[str, str], message: str, field: str
) -> None:
    response = await client.get("/v3/suppression/bounces", headers=bearer(keys.default), params=params)
    assert response.status_code == 400
    assert response.json() == error(message, field)


async def test_times_past_what_a_date_can_hold_mean_never(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    seed(db, keys.default, "bounce", "bob@example.com", reason=BOUNCE_REASON, status="5.1.1")
    path, far = "/v3/suppression/bounces", str(2**62)
    up_to_then = await client.get(path, headers=bearer(keys.default), params={"end_time": far})
    assert [e["email"] for e in up_to_then.json()] == ["bob@example.com"]
    from_then = await client.get(path, headers=bearer(keys.default), params={"start_time": far})
    assert (from_then.status_code, from_then.json()) == (200, [])
    last_day = await client.get(path, headers=bearer(keys.default), params={"end_time": "253402300799"})
    assert [e["email"] for e in last_day.json()] == ["bob@example.com"]


async def test_get_one_is_a_list_of_none_or_one(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    seed(db, keys.default, "bounce", "bob@example.com", reason=BOUNCE_REASON, status="5.1.1")
    found = await client.get("/v3/suppression/bounces/BOB@example.com", headers=bearer(keys.default))
    assert found.json() == [
        {"created": unix(T0), "email": "bob@example.com", "reason": BOUNCE_REASON, "status": "5.1.1"}
    ]
    missing = await client.get("/v3/suppression/bounces/nobody@example.com", headers=bearer(keys.default))
    assert (missing.status_code, missing.json()) == (200, [])


async def test_delete_one(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    seed(db, keys.default, "block", "bob@example.com")
    deleted = await client.delete("/v3/suppression/blocks/bob@example.com", headers=bearer(keys.default))
    assert (deleted.status_code, deleted.content) == (204, b"")
    again = await client.delete("/v3/suppression/blocks/bob@example.com", headers=bearer(keys.default))
    assert (again.status_code, again.json()) == (404, error("not found"))


async def test_delete_a_selection_and_then_everything(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    for name in ("a", "b", "c"):
        seed(db, keys.default, "invalid_email", f"{name}@example.com")
    path = "/v3/suppression/invalid_emails"
    picked = await client.request("DELETE", path, headers=bearer(keys.default), json={"emails": ["A@example.com"]})
    assert picked.status_code == 204
    left = await client.get(path, headers=bearer(keys.default))
    assert sorted(e["email"] for e in left.json()) == ["b@example.com", "c@example.com"]
    everything = await client.request("DELETE", path, headers=bearer(keys.default), json={"delete_all": True})
    assert everything.status_code == 204
    assert (await client.get(path, headers=bearer(keys.default))).json() == []


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        ({"delete_all": False, "emails": ["a@example.com"]}, "emails and delete_all cannot both be set", None),
        ({}, "either delete_all or emails must be set", None),
        ({"delete_all": False}, "either delete_all or emails must be set", None),
        ({"delete_all": "yes"}, "delete_all must be a boolean", "delete_all"),
        ({"emails": "a@example.com"}, "emails must be an array of strings", "emails"),
        (None, "either delete_all or emails must be set", None),
    ],
)
async def test_bad_delete_bodies(
    client: httpx.AsyncClient, keys: Keys, db: Database, body: Any, message: str, field: str | None
) -> None:
    seed(db, keys.default, "bounce", "keep@example.com")
    response = await client.request("DELETE", "/v3/suppression/bounces", headers=bearer(keys.default), json=body)
    assert (response.status_code, response.json()) == (400, error(message, field))
    assert len((await client.get("/v3/suppression/bounces", headers=bearer(keys.default))).json()) == 1


async def test_a_body_that_is_not_json(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.request("DELETE", "/v3/suppression/bounces", headers=bearer(keys.default), content=b"{")
    assert (response.status_code, response.json()) == (400, error("Bad Request"))


async def test_scopes(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    seed(db, keys.default, "bounce", "bob@example.com")
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "r", "scopes": ["suppression.bounces.read"]}
    )
    reader = created.json()["api_key"]
    assert (await client.get("/v3/suppression/bounces", headers=bearer(reader))).status_code == 200
    for method, path in [
        ("DELETE", "/v3/suppression/bounces/bob@example.com"),
        ("GET", "/v3/suppression/blocks"),
        ("GET", "/v3/suppression/unsubscribes"),
    ]:
        response = await client.request(method, path, headers=bearer(reader))
        assert (response.status_code, response.json()) == (403, error("access forbidden")), path
    assert (await client.get("/v3/suppression/bounces")).json() == error("authorization required")


async def test_accounts_never_see_or_change_each_other(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    customer = await create_customer(client, keys.partner)
    other = await customer_key(client, keys.partner, customer)
    seed(db, keys.default, "bounce", "mine@example.com")
    seed(db, other, "bounce", "theirs@example.com")
    mine = await client.get("/v3/suppression/bounces", headers=bearer(keys.default))
    assert [e["email"] for e in mine.json()] == ["mine@example.com"]
    assert (await client.get("/v3/suppression/bounces/theirs@example.com", headers=bearer(keys.default))).json() == []
    refused = await client.delete("/v3/suppression/bounces/theirs@example.com", headers=bearer(keys.default))
    assert refused.status_code == 404
    await client.request("DELETE", "/v3/suppression/bounces", headers=bearer(keys.default), json={"delete_all": True})
    theirs = await client.get("/v3/suppression/bounces", headers=bearer(other))
    assert [e["email"] for e in theirs.json()] == ["theirs@example.com"]
    on_behalf_list = await client.get("/v3/suppression/bounces", headers=on_behalf(keys.partner, customer))
    assert [e["email"] for e in on_behalf_list.json()] == ["theirs@example.com"]


async def test_bounce_classification_totals(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    day2 = T0 + timedelta(days=1)
    seed(db, keys.default, "bounce", "a@one.example", status="5.1.1")
    seed(db, keys.default, "bounce", "b@one.example", status="5.1.1")
    seed(db, keys.default, "bounce", "c@two.example", status="5.7.1")
    seed(db, keys.default, "bounce", "d@two.example", at=day2, status="5.1.1")
    path = "/v3/suppression/bounces/classifications"
    response = await client.get(path, headers=bearer(keys.default))
    assert response.json() == {
        "result": [
            {
                "date": "2026-03-01",
                "stats": [
                    {"classification": "Invalid Address", "count": 2},
                    {"classification": "Reputation", "count": 1},
                ],
            },
            {"date": "2026-03-02", "stats": [{"classification": "Invalid Address", "count": 1}]},
        ]
    }
    narrowed = await client.get(path, headers=bearer(keys.default), params={"start_date": "2026-03-02"})
    assert [day["date"] for day in narrowed.json()["result"]] == ["2026-03-02"]
    by_domain = await client.get(
        f"{path}/Invalid Address", headers=bearer(keys.default), params={"end_date": "2026-03-01"}
    )
    assert by_domain.json() == {"result": [{"date": "2026-03-01", "stats": [{"domain": "one.example", "count": 2}]}]}
    as_csv = await client.get(path, headers={**bearer(keys.default), "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[:2] == ["date,classification,count", "2026-03-01,Invalid Address,2"]


async def test_bounce_classification_errors(client: httpx.AsyncClient, keys: Keys) -> None:
    path = "/v3/suppression/bounces/classifications"
    bad_date = await client.get(path, headers=bearer(keys.default), params={"start_date": "March"})
    assert bad_date.json() == error("start_date must be a date in YYYY-MM-DD format", "start_date")
    widest = {"start_date": "0001-01-01", "end_date": "9999-12-31"}
    everything = await client.get(path, headers=bearer(keys.default), params=widest)
    assert (everything.status_code, everything.json()) == (200, {"result": []})
    unknown = await client.get(f"{path}/Grumpy", headers=bearer(keys.default))
    assert (unknown.status_code, unknown.json()) == (404, error("not found"))
