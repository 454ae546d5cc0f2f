"""/v3/asm: unsubscribe groups, group suppressions and global unsubscribes over HTTP, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.api_keys import auth
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest
from app.suppressions import groups as suppression_groups
from app.suppressions import service as suppressions
from app.suppressions.models import AsmGroup
from app.suppressions.request_rules import GroupFields, NewGroup
from app.suppressions.service import NO_BYPASS
from tests.conftest import Keys, bearer
from tests.support.accounts import create_customer, customer_key, on_behalf
from tests.support.mail import body
from tests.support.races import second_while_first_open
from tests.support.suppressions import account_of, error

pytestmark = pytest.mark.anyio

GROUPS = "/v3/asm/groups"
LONG_ADDRESS = "a" * 320 + "@example.com"


async def new_group(client: httpx.AsyncClient, key: str, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "description": f"About {name}", **fields}
    response = await client.post(GROUPS, headers=bearer(key), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def unsubscribe(client: httpx.AsyncClient, key: str, group_id: int | str, *emails: str) -> httpx.Response:
    path = f"{GROUPS}/{group_id}/suppressions"
    return await client.post(path, headers=bearer(key), json={"recipient_emails": list(emails)})


async def test_create_and_read_groups(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await new_group(client, keys.default, "Newsletters", is_default=True)
    assert list(created) == ["id", "name", "description", "last_email_sent_at", "is_default"]
    assert created | {"id": 0} == {
        "id": 0,
        "name": "Newsletters",
        "description": "About Newsletters",
        "last_email_sent_at": None,
        "is_default": True,
    }
    await unsubscribe(client, keys.default, created["id"], "a@example.com", "b@example.com")
    one = await client.get(f"{GROUPS}/{created['id']}", headers=bearer(keys.default))
    assert one.json() == {**created, "unsubscribes": 2}
    listed = await client.get(GROUPS, headers=bearer(keys.default))
    assert listed.json() == [{**created, "unsubscribes": 2}]


async def test_list_picks_groups_by_id(client: httpx.AsyncClient, keys: Keys) -> None:
    ids = [(await new_group(client, keys.default, name))["id"] for name in ("One", "Two", "Three")]
    picked = await client.get(GROUPS, headers=bearer(keys.default), params=[("id", ids[0]), ("id", ids[2])])
    assert [g["name"] for g in picked.json()] == ["One", "Three"]


async def test_only_one_default_group(client: httpx.AsyncClient, keys: Keys) -> None:
    first = await new_group(client, keys.default, "First", is_default=True)
    second = await new_group(client, keys.default, "Second", is_default=True)
    listed = (await client.get(GROUPS, headers=bearer(keys.default))).json()
    assert [(g["id"], g["is_default"]) for g in listed] == [(first["id"], False), (second["id"], True)]
    path = f"{GROUPS}/{first['id']}"
    await client.patch(path, headers=bearer(keys.default), json={"is_default": True})
    listed = (await client.get(GROUPS, headers=bearer(keys.default))).json()
    assert [g["is_default"] for g in listed] == [True, False]


async def test_update_answers_201_with_the_group(client: httpx.AsyncClient, keys: Keys) -> None:
    group = await new_group(client, keys.default, "Alerts")
    path = f"{GROUPS}/{group['id']}"
    response = await client.patch(path, headers=bearer(keys.default), json={"name": "Item Suggestions"})
    assert response.status_code == 201
    assert response.json() == {**group, "name": "Item Suggestions", "unsubscribes": 0}


async def test_update_refuses_a_blank_name(client: httpx.AsyncClient, keys: Keys) -> None:
    group = await new_group(client, keys.default, "Alerts")
    response = await client.patch(f"{GROUPS}/{group['id']}", headers=bearer(keys.default), json={"name": " "})
    assert (response.status_code, response.json()) == (400, error("name is required", "name"))


async def test_names_are_unique_per_account(client: httpx.AsyncClient, keys: Keys) -> None:
    await new_group(client, keys.default, "Weekly")
    other = await new_group(client, keys.default, "Daily")
    duplicate = await client.post(GROUPS, headers=bearer(keys.default), json={"name": "Weekly", "description": "d"})
    message = "Another suppression group with this name already exists"
    assert (duplicate.status_code, duplicate.json()) == (400, error(message, "name"))
    renamed = await client.patch(f"{GROUPS}/{other['id']}", headers=bearer(keys.default), json={"name": "Weekly"})
    assert (renamed.status_code, renamed.json()) == (400, error(message, "name"))
    customer = await create_customer(client, keys.partner)
    await new_group(client, await customer_key(client, keys.partner, customer), "Weekly")


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        ({"description": "d"}, "name is required", "name"),
        ({"name": "n"}, "description is required", "description"),
        ({"name": "x" * 31, "description": "d"}, "name must be at most 30 characters", "name"),
        ({"name": "n", "description": "d" * 101}, "description must be at most 100 characters", "description"),
        ({"name": 5, "description": "d"}, "name must be a string", "name"),
        ({"name": "n", "description": "d", "is_default": "yes"}, "is_default must be a boolean", "is_default"),
        ([], "request body must be a JSON object", None),
    ],
)
async def test_bad_group_bodies(
    client: httpx.AsyncClient, keys: Keys, body: Any, message: str, field: str | None
) -> None:
    response = await client.post(GROUPS, headers=bearer(keys.default), json=body)
    assert (response.status_code, response.json()) == (400, error(message, field))


async def test_at_most_200_groups(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    account_id = account_of(db, keys.default)
    with db.session() as session:
        session.add_all(
            AsmGroup(account_id=account_id, name=f"Group {n}", description="d", created_at=datetime.now(UTC))
            for n in range(199)
        )
    await new_group(client, keys.default, "The 200th")
    refused = await client.post(GROUPS, headers=bearer(keys.default), json={"name": "One more", "description": "d"})
    assert (refused.status_code, refused.json()) == (400, error("You have reached the limit of 200 suppression groups"))


async def test_unknown_groups_are_404(client: httpx.AsyncClient, keys: Keys) -> None:
    for method, path in [
        ("GET", f"{GROUPS}/999999"),
        ("GET", f"{GROUPS}/abc"),
        ("PATCH", f"{GROUPS}/999999"),
        ("DELETE", f"{GROUPS}/999999"),
        ("GET", f"{GROUPS}/999999/suppressions"),
        ("DELETE", f"{GROUPS}/999999/suppressions/a@example.com"),
    ]:
        response = await client.request(method, path, headers=bearer(keys.default), json={})
        assert (response.status_code, response.json()) == (404, error("not found")), (method, path)


async def test_group_suppressions_add_list_search_delete(client: httpx.AsyncClient, keys: Keys) -> None:
    group = await new_group(client, keys.default, "News")
    added = await unsubscribe(client, keys.default, group["id"], "B@example.com", "a@example.com")
    assert (added.status_code, added.json()) == (201, {"recipient_emails": ["b@example.com", "a@example.com"]})
    path = f"{GROUPS}/{group['id']}/suppressions"
    assert (await client.get(path, headers=bearer(keys.default))).json() == ["a@example.com", "b@example.com"]
    search = {"recipient_emails": ["a@example.com", "c@example.com"]}
    found = await client.post(f"{path}/search", headers=bearer(keys.default), json=search)
    assert (found.status_code, found.json()) == (200, ["a@example.com"])
    deleted = await client.delete(f"{path}/A@example.com", headers=bearer(keys.default))
    assert deleted.status_code == 204
    assert (await client.get(path, headers=bearer(keys.default))).json() == ["b@example.com"]


async def test_adding_to_a_missing_group_unsubscribes_globally(client: httpx.AsyncClient, keys: Keys) -> None:
    added = await unsubscribe(client, keys.default, 424242, "lost@example.com")
    assert added.status_code == 201
    found = await client.get("/v3/asm/suppressions/global/lost@example.com", headers=bearer(keys.default))
    assert found.json() == {"recipient_email": "lost@example.com"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "recipient_emails is required"),
        ({"recipient_emails": "a@example.com"}, "recipient_emails must be an array of strings"),
        ({"recipient_emails": []}, "recipient_emails must contain at least one email address"),
        ({"recipient_emails": ["not-an-address"]}, "not-an-address is not a valid email address"),
        ({"recipient_emails": [LONG_ADDRESS]}, f"{LONG_ADDRESS} is not a valid email address"),
    ],
)
async def test_bad_recipient_emails(client: httpx.AsyncClient, keys: Keys, body: Any, message: str) -> None:
    for path in ("/v3/asm/suppressions/global", f"{GROUPS}/1/suppressions"):
        response = await client.post(path, headers=bearer(keys.default), json=body)
        assert (response.status_code, response.json()) == (400, error(message, "recipient_emails")), path


async def test_all_suppressions_and_groups_of_an_email(client: httpx.AsyncClient, keys: Keys) -> None:
    weekly = await new_group(client, keys.default, "Weekly News", is_default=True)
    daily = await new_group(client, keys.default, "Daily News")
    await unsubscribe(client, keys.default, weekly["id"], "test1@example.com")
    await unsubscribe(client, keys.default, daily["id"], "test1@example.com", "test2@example.com")
    listed = (await client.get("/v3/asm/suppressions", headers=bearer(keys.default))).json()
    assert [(s["email"], s["group_id"], s["group_name"]) for s in listed] == [
        ("test1@example.com", weekly["id"], "Weekly News"),
        ("test1@example.com", daily["id"], "Daily News"),
        ("test2@example.com", daily["id"], "Daily News"),
    ]
    assert all(isinstance(s["created_at"], int) for s in listed)
    groups = (await client.get("/v3/asm/suppressions/test2@example.com", headers=bearer(keys.default))).json()
    assert groups == {
        "suppressions": [
            {
                "description": "About Weekly News",
                "id": weekly["id"],
                "is_default": True,
                "name": "Weekly News",
                "suppressed": False,
            },
            {
                "description": "About Daily News",
                "id": daily["id"],
                "is_default": False,
                "name": "Daily News",
                "suppressed": True,
            },
        ]
    }


async def test_deleting_a_group_resubscribes_its_addresses(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    group = await new_group(client, keys.default, "Promos")
    await unsubscribe(client, keys.default, group["id"], "a@example.com")
    account_id = account_of(db, keys.default)
    with db.engine.connect() as conn:
        dropped = suppressions.drop_reasons(conn, account_id, ["a@example.com"], group_id=group["id"], bypass=NO_BYPASS)
    assert dropped == {"a@example.com": "Unsubscribed Address"}
    assert (await client.delete(f"{GROUPS}/{group['id']}", headers=bearer(keys.default))).status_code == 204
    assert (await client.get(f"{GROUPS}/{group['id']}", headers=bearer(keys.default))).status_code == 404
    assert (await client.get("/v3/asm/suppressions", headers=bearer(keys.default))).json() == []
    with db.engine.connect() as conn:
        assert (
            suppressions.drop_reasons(conn, account_id, ["a@example.com"], group_id=group["id"], bypass=NO_BYPASS) == {}
        )


async def test_last_email_sent_at(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    group = await new_group(client, keys.default, "Receipts")
    other = await new_group(client, keys.default, "News")
    advanced = await client.post("/_mirror/clock/advance", json={"seconds": 400 * 86_400})
    assert advanced.status_code == 200
    mail = body(personalizations=[{"to": [{"email": "a@example.com"}]}], asm={"group_id": group["id"]})
    sent = await client.post("/v3/mail/send", headers=bearer(keys.default), json=mail)
    assert sent.status_code == 202, sent.text
    shown = (await client.get(f"{GROUPS}/{group['id']}", headers=bearer(keys.default))).json()
    sent_at = datetime.strptime(shown["last_email_sent_at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert sent_at.year == (datetime.now(UTC) + timedelta(days=400)).year  # the mirror clock's time
    untouched = (await client.get(f"{GROUPS}/{other['id']}", headers=bearer(keys.default))).json()
    assert untouched["last_email_sent_at"] is None


async def test_global_unsubscribes(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    path = "/v3/asm/suppressions/global"
    added = await client.post(path, headers=bearer(keys.default), json={"recipient_emails": ["Test1@Example.com"]})
    assert (added.status_code, added.json()) == (201, {"recipient_emails": ["test1@example.com"]})
    found = await client.get(f"{path}/test1@example.com", headers=bearer(keys.default))
    assert found.json() == {"recipient_email": "test1@example.com"}
    unsubscribes = (await client.get("/v3/suppression/unsubscribes", headers=bearer(keys.default))).json()
    assert [u["email"] for u in unsubscribes] == ["test1@example.com"]
    with db.engine.connect() as conn:
        dropped = suppressions.drop_reasons(
            conn, account_of(db, keys.default), ["test1@example.com"], group_id=None, bypass=NO_BYPASS
        )
    assert dropped == {"test1@example.com": "Unsubscribed Address"}
    assert (await client.delete(f"{path}/test1@example.com", headers=bearer(keys.default))).status_code == 204
    assert (await client.get(f"{path}/test1@example.com", headers=bearer(keys.default))).json() == {}
    assert (await client.delete(f"{path}/test1@example.com", headers=bearer(keys.default))).status_code == 204


async def test_scopes(client: httpx.AsyncClient, keys: Keys) -> None:
    group = await new_group(client, keys.default, "Scoped")
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "r", "scopes": ["asm.groups.read"]}
    )
    reader = created.json()["api_key"]
    assert (await client.get(GROUPS, headers=bearer(reader))).status_code == 200
    for method, path in [
        ("POST", GROUPS),
        ("PATCH", f"{GROUPS}/{group['id']}"),
        ("DELETE", f"{GROUPS}/{group['id']}"),
        ("GET", f"{GROUPS}/{group['id']}/suppressions"),
        ("POST", "/v3/asm/suppressions/global"),
        ("GET", "/v3/asm/suppressions/global/a@example.com"),
        ("GET", "/v3/asm/suppressions"),
    ]:
        response = await client.request(method, path, headers=bearer(reader), json={})
        assert (response.status_code, response.json()) == (403, error("access forbidden")), (method, path)


async def test_accounts_never_see_or_change_each_other(client: httpx.AsyncClient, keys: Keys) -> None:
    customer = await create_customer(client, keys.partner)
    other = await customer_key(client, keys.partner, customer)
    theirs = await new_group(client, other, "Theirs")
    await unsubscribe(client, other, theirs["id"], "a@example.com")
    path = f"{GROUPS}/{theirs['id']}"
    for method, target in [("GET", path), ("PATCH", path), ("DELETE", path), ("GET", f"{path}/suppressions")]:
        response = await client.request(method, target, headers=bearer(keys.default), json={"name": "Mine"})
        assert response.status_code == 404, (method, target)
    assert (await client.get(GROUPS, headers=bearer(keys.default))).json() == []
    assert (await client.get("/v3/asm/suppressions", headers=bearer(keys.default))).json() == []
    # Adding to another account's group id goes to the caller's own global list, never into their group.
    await unsubscribe(client, keys.default, theirs["id"], "b@example.com")
    assert (await client.get(f"{path}/suppressions", headers=bearer(other))).json() == ["a@example.com"]
    seen = await client.get(GROUPS, headers=on_behalf(keys.partner, customer))
    assert [g["name"] for g in seen.json()] == ["Theirs"]


def test_a_rename_racing_a_create_of_that_name_gets_the_duplicate_error(db: Database, keys: Keys) -> None:
    principal = auth.authenticate(db, f"Bearer {keys.default}")
    now = datetime.now(UTC)
    with db.session() as session:
        group_id = suppression_groups.create(session, principal, NewGroup("Old", "Renamed"), now=now).id

    def create(session: Session) -> AsmGroup:
        return suppression_groups.create(session, principal, NewGroup("Taken", "Raced"), now=now)

    def rename(session: Session) -> Any:
        return suppression_groups.update_group(session, principal, str(group_id), GroupFields(name="Taken"))

    raised = second_while_first_open(db, create, rename)

    assert isinstance(raised, BadRequest)
    assert raised.details[0].message == "Another suppression group with this name already exists"
