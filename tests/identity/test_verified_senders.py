"""/v3/verified_senders: create (with a captured verification email), verify, resend, list, patch, delete."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import Keys, bearer
from tests.support.accounts import create_customer, customer_key

pytestmark = pytest.mark.anyio

SENDER = {
    "nickname": "Orders",
    "from_email": "Orders@Shop.example",
    "from_name": "Example Orders",
    "reply_to": "support@shop.example",
    "reply_to_name": "Support",
    "address": "1234 Fake St",
    "address2": "PO Box 1234",
    "state": "CA",
    "city": "San Francisco",
    "country": "USA",
    "zip": "94105",
}
LINK = re.compile(r"http://\S+(/_mirror/senders/verify/[A-Za-z0-9_-]{43})")


async def create_sender(client: httpx.AsyncClient, key: str, **changes: Any) -> dict[str, Any]:
    response = await client.post("/v3/verified_senders", headers=bearer(key), json={**SENDER, **changes})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def verification_path(client: httpx.AsyncClient, to: str, *, nth: int = 0) -> str:
    """The path of the link in the `nth` newest verification email captured for `to`."""
    listed = (await client.get("/_mirror/messages", params={"to": to})).json()["messages"]
    message = listed[nth]
    text = (await client.get(f"/_mirror/messages/{message['id']}/text")).text
    found = LINK.search(text)
    assert found is not None, text
    return found.group(1)


async def test_create_answers_201_with_the_contract_body(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_sender(client, keys.default)
    assert isinstance(created["id"], int)
    assert created == {**SENDER, "id": created["id"], "verified": False, "locked": False}


async def test_create_emails_a_verification_link_that_verifies(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_sender(client, keys.default)
    listed = (await client.get("/_mirror/messages", params={"to": "orders@shop.example"})).json()["messages"]
    assert len(listed) == 1
    assert listed[0]["subject"] == "Please Verify Your Single Sender"
    assert listed[0]["from"]["email"] == "no-reply@sendgrid-mirror.invalid"
    page = await client.get(await verification_path(client, "orders@shop.example"))
    assert page.status_code == 200
    assert "Orders@Shop.example is now a verified single sender" in page.text
    found = (await client.get("/v3/verified_senders", headers=bearer(keys.default))).json()["results"]
    assert [(s["id"], s["verified"]) for s in found] == [(created["id"], True)]


async def test_the_api_verify_endpoint_takes_the_emailed_token(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_sender(client, keys.default)
    token = (await verification_path(client, "orders@shop.example")).rsplit("/", 1)[1]
    response = await client.get(f"/v3/verified_senders/verify/{token}", headers=bearer(keys.default))
    assert (response.status_code, response.content) == (204, b"")
    steps = await client.get("/v3/verified_senders/steps_completed", headers=bearer(keys.default))
    assert steps.json() == {"results": {"sender_verified": True, "domain_verified": False}}


async def test_unknown_tokens_are_404_family_c(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/v3/verified_senders/verify/nope", headers=bearer(keys.default))
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"field": "token", "message": "invalid or expired verification token", "error_id": "invalid_token"}]
    }
    page = await client.get("/_mirror/senders/verify/nope")
    assert page.status_code == 404
    assert "invalid or has expired" in page.text


async def test_a_token_works_only_for_its_own_account(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_sender(client, keys.default)
    token = (await verification_path(client, "orders@shop.example")).rsplit("/", 1)[1]
    other = await customer_key(client, keys.partner, await create_customer(client, keys.partner))
    response = await client.get(f"/v3/verified_senders/verify/{token}", headers=bearer(other))
    assert response.status_code == 404


async def test_resend_replaces_the_link(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_sender(client, keys.default)
    first = await verification_path(client, "orders@shop.example")
    response = await client.post(f"/v3/verified_senders/resend/{created['id']}", headers=bearer(keys.default))
    assert (response.status_code, response.content) == (204, b"")
    second = await verification_path(client, "orders@shop.example", nth=0)
    assert second != first
    assert (await client.get(first)).status_code == 404
    assert (await client.get(second)).status_code == 200
    again = await client.post(f"/v3/verified_senders/resend/{created['id']}", headers=bearer(keys.default))
    assert again.status_code == 400
    assert again.json()["errors"][0]["error_id"] == "already_verified"


async def test_links_expire_after_48_hours_of_mirror_time(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_sender(client, keys.default)
    path = await verification_path(client, "orders@shop.example")
    await client.post("/_mirror/clock/advance", json={"seconds": 48 * 3600 + 1})
    assert (await client.get(path)).status_code == 404


async def test_every_create_problem_is_reported_together(client: httpx.AsyncClient, keys: Keys) -> None:
    body = {"from_email": "not-an-address", "state": "California", "city": 7}
    response = await client.post("/v3/verified_senders", headers=bearer(keys.default), json=body)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": "nickname", "message": "nickname is required", "error_id": "missing_field"},
            {"field": "from_email", "message": "from_email must be a valid email address", "error_id": "invalid_email"},
            {"field": "reply_to", "message": "reply_to is required", "error_id": "missing_field"},
            {"field": "state", "message": "state must be at most 2 characters", "error_id": "too_long"},
            {"field": "city", "message": "city must be a string", "error_id": "invalid_type"},
        ]
    }


async def test_a_from_email_is_listed_once_per_account(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_sender(client, keys.default)
    response = await client.post(
        "/v3/verified_senders", headers=bearer(keys.default), json={**SENDER, "from_email": "orders@shop.EXAMPLE"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "from_email", "message": "a sender with this from_email already exists", "error_id": "already_exists"}
    ]


async def test_list_pages_by_last_seen_id_and_picks_by_id(client: httpx.AsyncClient, keys: Keys) -> None:
    ids = [(await create_sender(client, keys.default, from_email=f"s{i}@shop.example"))["id"] for i in range(3)]

    async def listed(**params: str) -> list[int]:
        response = await client.get("/v3/verified_senders", headers=bearer(keys.default), params=params)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["results"]]

    assert await listed() == ids
    assert await listed(limit="2") == ids[:2]
    assert await listed(lastSeenID=str(ids[0])) == ids[1:]
    assert await listed(id=str(ids[2])) == [ids[2]]
    bad = await client.get("/v3/verified_senders", headers=bearer(keys.default), params={"limit": "x"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "limit"


async def test_patch_changes_fields_and_a_new_address_needs_verifying(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_sender(client, keys.default)
    await client.get(await verification_path(client, "orders@shop.example"))
    path = f"/v3/verified_senders/{created['id']}"
    renamed = await client.patch(path, headers=bearer(keys.default), json={"nickname": "Shop"})
    assert renamed.status_code == 200
    assert (renamed.json()["nickname"], renamed.json()["verified"]) == ("Shop", True)
    moved = await client.patch(path, headers=bearer(keys.default), json={"from_email": "new@shop.example"})
    assert (moved.json()["from_email"], moved.json()["verified"]) == ("new@shop.example", False)
    assert (await client.get(await verification_path(client, "new@shop.example"))).status_code == 200


async def test_delete_and_unknown_ids(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_sender(client, keys.default)
    path = f"/v3/verified_senders/{created['id']}"
    assert (await client.delete(path, headers=bearer(keys.default))).status_code == 204
    for response in (
        await client.delete(path, headers=bearer(keys.default)),
        await client.patch(path, headers=bearer(keys.default), json={"nickname": "x"}),
        await client.post(f"/v3/verified_senders/resend/{created['id']}", headers=bearer(keys.default)),
        await client.delete("/v3/verified_senders/abc", headers=bearer(keys.default)),
    ):
        assert response.status_code == 404
        assert response.json() == {
            "errors": [{"field": "id", "message": "resource not found", "error_id": "not_found"}]
        }


async def test_other_accounts_senders_are_invisible(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_sender(client, keys.default)
    other = await customer_key(client, keys.partner, await create_customer(client, keys.partner))
    listed = await client.get("/v3/verified_senders", headers=bearer(other))
    assert listed.json() == {"results": []}
    response = await client.delete(f"/v3/verified_senders/{created['id']}", headers=bearer(other))
    assert response.status_code == 404


async def test_dmarc_domains_and_auth_errors(client: httpx.AsyncClient, keys: Keys) -> None:
    domains = await client.get("/v3/verified_senders/domains", headers=bearer(keys.default))
    assert domains.json() == {"results": {"soft_failures": ["gmail.com"], "hard_failures": ["yahoo.com"]}}
    unauthenticated = await client.get("/v3/verified_senders")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {"errors": [{"field": None, "message": "authorization required"}]}
