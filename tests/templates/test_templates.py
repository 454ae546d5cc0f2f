"""/v3/templates and versions: shapes, paging, limits, errors, scopes and tenant isolation."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.templates import rules
from tests.conftest import Keys, bearer
from tests.support.accounts import classic_error, create_customer, create_subuser, customer_key

pytestmark = pytest.mark.anyio

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def _template(client: httpx.AsyncClient, key: str, name: str = "Welcome", generation: str = "dynamic") -> Any:
    response = await client.post("/v3/templates", headers=bearer(key), json={"name": name, "generation": generation})
    assert response.status_code == 201, response.text
    return response.json()


async def _version(client: httpx.AsyncClient, key: str, template_id: str, **fields: Any) -> Any:
    body = {"name": "v1", "subject": "Hi {{name}}", "html_content": "<p>Hello {{name}}</p>", **fields}
    response = await client.post(f"/v3/templates/{template_id}/versions", headers=bearer(key), json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_answers_201_with_the_template_shape(client: httpx.AsyncClient, keys: Keys) -> None:
    dynamic = await _template(client, keys.default)
    assert list(dynamic) == ["id", "name", "generation", "updated_at", "versions"]
    assert re.fullmatch(r"d-[0-9a-f]{32}", dynamic["id"])
    assert (dynamic["name"], dynamic["generation"], dynamic["versions"]) == ("Welcome", "dynamic", [])
    assert TIMESTAMP.fullmatch(dynamic["updated_at"])
    legacy = (await client.post("/v3/templates", headers=bearer(keys.default), json={"name": "Old"})).json()
    assert GUID.fullmatch(legacy["id"])
    assert legacy["generation"] == "legacy"


async def test_invalid_template_bodies_are_400(client: httpx.AsyncClient, keys: Keys) -> None:
    async def post(body: Any) -> httpx.Response:
        return await client.post("/v3/templates", headers=bearer(keys.default), json=body)

    assert (await post({})).json() == classic_error("missing required argument", "name")
    long_name = (await post({"name": "x" * 101})).json()
    assert long_name == classic_error("name must be a string of 1 to 100 characters", "name")
    generation = await post({"name": "n", "generation": "modern"})
    assert generation.status_code == 400
    assert generation.json() == classic_error("generation must be either legacy or dynamic", "generation")
    assert (await post([1])).status_code == 400


async def test_versions_round_trip_with_one_active(client: httpx.AsyncClient, keys: Keys) -> None:
    template = await _template(client, keys.default)
    first = await _version(client, keys.default, template["id"], test_data='{"name":"Ann"}')
    assert list(first) == [
        "id", "template_id", "active", "name", "html_content", "plain_content", "generate_plain_content",
        "subject", "updated_at", "editor", "test_data", "thumbnail_url",
    ]  # fmt: skip
    assert (first["active"], first["template_id"], first["editor"]) == (1, template["id"], "code")
    assert first["plain_content"] == "Hello {{name}}"  # generated from the HTML
    second = await _version(client, keys.default, template["id"], name="v2", active=0)
    assert second["active"] == 0
    url = f"/v3/templates/{template['id']}/versions/{second['id']}"
    activated = await client.post(f"{url}/activate", headers=bearer(keys.default))
    assert activated.status_code == 200
    assert activated.json()["active"] == 1
    whole = (await client.get(f"/v3/templates/{template['id']}", headers=bearer(keys.default))).json()
    assert [(v["name"], v["active"]) for v in whole["versions"]] == [("v1", 0), ("v2", 1)]
    patched = await client.patch(
        url, headers=bearer(keys.default), json={"generate_plain_content": False, "plain_content": "Text {{name}}"}
    )
    assert patched.json()["plain_content"] == "Text {{name}}"
    assert (await client.get(url, headers=bearer(keys.default))).json() == patched.json()
    assert (await client.delete(url, headers=bearer(keys.default))).status_code == 204
    assert (await client.get(url, headers=bearer(keys.default))).status_code == 404


async def test_invalid_version_bodies_are_400(client: httpx.AsyncClient, keys: Keys) -> None:
    template = await _template(client, keys.default)
    url = f"/v3/templates/{template['id']}/versions"
    missing = await client.post(url, headers=bearer(keys.default), json={})
    assert missing.json() == {
        "errors": [{"field": "name", "message": "missing required argument"},
                   {"field": "subject", "message": "missing required argument"}]
    }  # fmt: skip
    bad = {"name": "v", "subject": "s" * 256, "active": 2, "editor": "word", "generate_plain_content": "yes"}
    fields = [e["field"] for e in (await client.post(url, headers=bearer(keys.default), json=bad)).json()["errors"]]
    assert fields == ["subject", "active", "generate_plain_content", "editor"]


async def test_patch_duplicate_and_delete_templates(client: httpx.AsyncClient, keys: Keys) -> None:
    template = await _template(client, keys.default)
    await _version(client, keys.default, template["id"])
    url = f"/v3/templates/{template['id']}"
    renamed = await client.patch(url, headers=bearer(keys.default), json={"name": "Renamed"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed"
    copy = await client.post(url, headers=bearer(keys.default), json={"name": "Copy"})
    assert copy.status_code == 201
    assert copy.json()["id"] != template["id"]
    assert copy.json()["name"] == "Copy"
    assert [(v["name"], v["active"]) for v in copy.json()["versions"]] == [("v1", 1)]
    assert (await client.delete(url, headers=bearer(keys.default))).status_code == 204
    assert (await client.get(url, headers=bearer(keys.default))).json() == classic_error("not found")


async def test_list_pages_with_metadata(client: httpx.AsyncClient, keys: Keys) -> None:
    made = [(await _template(client, keys.default, f"t{i}"))["id"] for i in range(3)]
    await _template(client, keys.default, "legacy one", "legacy")
    params: dict[str, str] = {"generations": "dynamic", "page_size": "2"}
    first = (await client.get("/v3/templates", headers=bearer(keys.default), params=params)).json()
    assert [t["id"] for t in first["result"]] == made[:2]
    assert list(first["_metadata"]) == ["self", "next", "count"]
    assert first["_metadata"]["count"] == 3
    following = await client.get(first["_metadata"]["next"], headers=bearer(keys.default))
    second = following.json()
    assert [t["id"] for t in second["result"]] == made[2:]
    assert list(second["_metadata"]) == ["prev", "self", "count"]
    both = await client.get("/v3/templates", headers=bearer(keys.default), params={"generations": "legacy,dynamic"})
    assert [t["name"] for t in both.json()["templates"]] == ["t0", "t1", "t2", "legacy one"]
    legacy_only = (await client.get("/v3/templates", headers=bearer(keys.default))).json()
    assert [t["name"] for t in legacy_only["templates"]] == ["legacy one"]


async def test_listed_versions_are_lean(client: httpx.AsyncClient, keys: Keys) -> None:
    template = await _template(client, keys.default)
    await _version(client, keys.default, template["id"])
    listed = await client.get("/v3/templates", headers=bearer(keys.default), params={"generations": "dynamic"})
    assert list(listed.json()["templates"][0]["versions"][0]) == [
        "id", "template_id", "active", "name", "generate_plain_content", "subject", "updated_at", "editor",
        "thumbnail_url",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [({"page_size": "0"}, "page_size"), ({"page_size": "201"}, "page_size"), ({"page_size": "x"}, "page_size"),
     ({"page_size": "5", "page_token": "%%%"}, "page_token"), ({"generations": "new"}, "generations"),
     ({"page_size": "5", "page_token": rules.page_token(2**64)}, "page_token")],
)  # fmt: skip
async def test_bad_list_parameters_are_400(
    client: httpx.AsyncClient, keys: Keys, params: dict[str, str], field: str
) -> None:
    response = await client.get("/v3/templates", headers=bearer(keys.default), params=params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


async def test_the_three_hundredth_template_is_the_last(
    client: httpx.AsyncClient, keys: Keys, monkeypatch: Any
) -> None:
    monkeypatch.setattr(rules, "MAX_TEMPLATES", 2)
    await _template(client, keys.default, "a")
    second = await _template(client, keys.default, "b")
    refused = await client.post("/v3/templates", headers=bearer(keys.default), json={"name": "c"})
    assert refused.status_code == 400
    assert refused.json() == classic_error(rules.TOO_MANY_TEMPLATES)
    duplicate = await client.post(f"/v3/templates/{second['id']}", headers=bearer(keys.default), json={})
    assert duplicate.status_code == 400


async def test_scopes_are_enforced(client: httpx.AsyncClient, keys: Keys) -> None:
    template = await _template(client, keys.default)
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "ro", "scopes": ["templates.read"]}
    )
    read_only = created.json()["api_key"]
    assert (await client.get(f"/v3/templates/{template['id']}", headers=bearer(read_only))).status_code == 200
    denied = await client.post("/v3/templates", headers=bearer(read_only), json={"name": "x"})
    assert denied.status_code == 403
    assert denied.json() == classic_error("access forbidden")
    version = await client.post(
        f"/v3/templates/{template['id']}/versions", headers=bearer(read_only), json={"name": "v", "subject": "s"}
    )
    assert version.status_code == 403


async def test_templates_belong_to_one_account(client: httpx.AsyncClient, keys: Keys) -> None:
    template = await _template(client, keys.default)
    other = await customer_key(client, keys.partner, await create_customer(client, keys.partner))
    for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/versions")]:
        response = await client.request(
            method, f"/v3/templates/{template['id']}{path}", headers=bearer(other), json={"name": "n", "subject": "s"}
        )
        assert response.status_code == 404, (method, path)
    listed = await client.get("/v3/templates", headers=bearer(other), params={"generations": "dynamic"})
    assert listed.json() == {"templates": []}


async def test_a_subusers_templates_are_its_own(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_subuser(client, keys.default, "tpl-sub")
    headers = {**bearer(keys.default), "On-Behalf-Of": "tpl-sub"}
    made = await client.post("/v3/templates", headers=headers, json={"name": "Sub's", "generation": "dynamic"})
    assert made.status_code == 201
    assert (await client.get(f"/v3/templates/{made.json()['id']}", headers=bearer(keys.default))).status_code == 404
    assert (await client.get(f"/v3/templates/{made.json()['id']}", headers=headers)).status_code == 200
