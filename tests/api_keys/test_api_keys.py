"""/v3/api_keys: CRUD with SendGrid's semantics, the 100-key cap, scope rules, no secrets at rest."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import inspect, select, text

from app.api_keys import scopes
from app.api_keys import service as api_keys
from app.api_keys.models import ApiKey
from app.kernel.db.session import Database
from tests.conftest import Keys, bearer

pytestmark = pytest.mark.anyio


async def _create(client: httpx.AsyncClient, key: str, **body: object) -> httpx.Response:
    return await client.post("/v3/api_keys", headers=bearer(key), json=body)


async def test_create_returns_the_secret_once_with_sendgrid_shape(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await _create(client, keys.default, name="ci", scopes=["mail.send", "alerts.read"])
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"api_key", "api_key_id", "name", "scopes"}
    assert len(body["api_key"]) == 69
    assert body["api_key"].startswith(f"SG.{body['api_key_id']}.")
    assert len(body["api_key_id"]) == 22
    assert body["scopes"] == ["alerts.read", "mail.send"]
    fetched = await client.get(f"/v3/api_keys/{body['api_key_id']}", headers=bearer(keys.default))
    assert "api_key" not in fetched.json()


async def test_omitted_scopes_mean_full_access(client: httpx.AsyncClient, keys: Keys) -> None:
    body = (await _create(client, keys.default, name="full")).json()
    assert body["scopes"] == scopes.full_access_scopes()
    assert not any(s.startswith("billing.") for s in body["scopes"])


async def test_list_honours_limit(client: httpx.AsyncClient, keys: Keys) -> None:
    for n in range(3):
        await _create(client, keys.default, name=f"k{n}")
    listed = await client.get("/v3/api_keys", params={"limit": 2}, headers=bearer(keys.default))
    assert listed.status_code == 200
    assert [k["name"] for k in listed.json()["result"]] == ["default (bootstrap)", "k0"]
    assert set(listed.json()["result"][0]) == {"api_key_id", "name"}
    everything = await client.get("/v3/api_keys", headers=bearer(keys.default))
    assert len(everything.json()["result"]) == 4


@pytest.mark.parametrize("limit", ["zero", "0", "-1"])
async def test_bad_limit_is_400(client: httpx.AsyncClient, keys: Keys, limit: str) -> None:
    response = await client.get("/v3/api_keys", params={"limit": limit}, headers=bearer(keys.default))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "limit"


async def test_get_one_is_a_flat_object(client: httpx.AsyncClient, keys: Keys) -> None:
    created = (await _create(client, keys.default, name="flat", scopes=["mail.send"])).json()
    response = await client.get(f"/v3/api_keys/{created['api_key_id']}", headers=bearer(keys.default))
    assert response.json() == {"api_key_id": created["api_key_id"], "name": "flat", "scopes": ["mail.send"]}


async def test_patch_renames_and_keeps_scopes(client: httpx.AsyncClient, keys: Keys) -> None:
    created = (await _create(client, keys.default, name="old", scopes=["mail.send"])).json()
    url = f"/v3/api_keys/{created['api_key_id']}"
    response = await client.patch(url, headers=bearer(keys.default), json={"name": "new", "scopes": ["alerts.read"]})
    assert response.json() == {"api_key_id": created["api_key_id"], "name": "new"}
    assert (await client.get(url, headers=bearer(keys.default))).json()["scopes"] == ["mail.send"]


async def test_put_replaces_name_and_the_whole_scope_set(client: httpx.AsyncClient, keys: Keys) -> None:
    created = (await _create(client, keys.default, name="old", scopes=["mail.send", "alerts.read"])).json()
    url = f"/v3/api_keys/{created['api_key_id']}"
    response = await client.put(url, headers=bearer(keys.default), json={"name": "new", "scopes": ["alerts.create"]})
    assert response.json() == {"api_key_id": created["api_key_id"], "name": "new", "scopes": ["alerts.create"]}


async def test_delete_revokes_at_once(client: httpx.AsyncClient, keys: Keys) -> None:
    created = (await _create(client, keys.default, name="gone")).json()
    response = await client.delete(f"/v3/api_keys/{created['api_key_id']}", headers=bearer(keys.default))
    assert (response.status_code, response.content) == (204, b"")
    after = await client.get("/v3/scopes", headers=bearer(created["api_key"]))
    assert after.status_code == 401
    again = await client.delete(f"/v3/api_keys/{created['api_key_id']}", headers=bearer(keys.default))
    assert again.status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_unknown_or_foreign_key_ids_are_404(client: httpx.AsyncClient, keys: Keys, method: str) -> None:
    partner_key_id = keys.partner.split(".")[1]
    for key_id in ("doesNotExist0000000000", partner_key_id):
        response = await client.request(
            method, f"/v3/api_keys/{key_id}", headers=bearer(keys.default), json={"name": "x", "scopes": []}
        )
        assert (response.status_code, response.json()) == (404, {"errors": [{"field": None, "message": "not found"}]})


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "name", "missing required argument"),
        ({"name": 5}, "name", "name must be a string of 1 to 100 characters"),
        ({"name": "x", "scopes": "mail.send"}, "scopes", "scopes must be an array of strings"),
        ({"name": "x", "scopes": ["mail.sendd"]}, "scopes", "one or more of given scopes are invalid"),
        (
            {"name": "x", "scopes": ["billing.read", "mail.send"]},
            "scopes",
            "billing scopes cannot be combined with other scopes",
        ),
    ],
)
async def test_invalid_create_bodies_are_400(
    client: httpx.AsyncClient, keys: Keys, body: dict[str, object], field: str, message: str
) -> None:
    response = await client.post("/v3/api_keys", headers=bearer(keys.default), json=body)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": field, "message": message}]}


async def test_malformed_json_is_400_not_422(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.post("/v3/api_keys", headers=bearer(keys.default), content=b"{name:")
    assert (response.status_code, response.json()) == (400, {"errors": [{"field": None, "message": "Bad Request"}]})


async def test_a_key_cannot_grant_scopes_its_creator_lacks(client: httpx.AsyncClient, keys: Keys) -> None:
    limited = (await _create(client, keys.default, name="limited", scopes=["api_keys.create", "mail.send"])).json()
    denied = await _create(client, limited["api_key"], name="escalate", scopes=["api_keys.read"])
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["field"] == "scopes"
    defaulted = await _create(client, limited["api_key"], name="inherits")
    assert defaulted.json()["scopes"] == ["api_keys.create", "mail.send"]


async def test_the_hundredth_key_is_the_last(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    with db.session() as session:
        account_id = session.scalar(select(ApiKey.account_id).where(ApiKey.name == "default (bootstrap)"))
        assert account_id is not None
        for n in range(api_keys.MAX_KEYS_PER_ACCOUNT - 1):
            api_keys.add_key(session, account_id=account_id, name=f"bulk {n}", key_scopes=["mail.send"])
    response = await _create(client, keys.default, name="one too many")
    assert response.status_code == 403
    assert response.json() == {"errors": [{"field": None, "message": "Cannot create more than 100 API keys"}]}


async def test_no_table_holds_a_key_secret_in_clear(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    created = (await _create(client, keys.default, name="secretive")).json()
    secrets = [created["api_key"].split(".")[2], keys.default.split(".")[2], keys.partner.split(".")[2]]
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                cells = " ".join(str(cell) for cell in row)
                assert not any(secret in cells for secret in secrets), table
