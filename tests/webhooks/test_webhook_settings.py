"""Event Webhook settings: the single-webhook paths, several webhooks by id, signing, and their errors."""

from __future__ import annotations

import base64

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from tests.conftest import Keys, bearer
from tests.support.webhooks import ALL_EVENTS, SETTINGS

pytestmark = pytest.mark.anyio

FLAG_ORDER = [
    "group_resubscribe", "delivered", "group_unsubscribe", "spam_report", "bounce", "deferred", "unsubscribe",
    "processed", "open", "click", "dropped",
]  # fmt: skip


async def test_before_any_webhook_the_settings_are_a_disabled_one_without_url(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    response = await client.get(SETTINGS, headers=bearer(keys.default))
    assert response.status_code == 200
    assert response.json() == {"enabled": False, "url": "", **dict.fromkeys(FLAG_ORDER, False)}
    assert list(response.json()) == ["enabled", "url", *FLAG_ORDER]


async def test_patch_then_get_round_trip(client: httpx.AsyncClient, keys: Keys) -> None:
    settings = {"enabled": True, "url": "https://example.com/events", **{n: n != "open" for n in ALL_EVENTS}}
    patched = await client.patch(SETTINGS, headers=bearer(keys.default), json=settings)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert list(body) == ["enabled", "url", *FLAG_ORDER, "id", "created_date", "updated_date"]
    assert body["open"] is False
    assert body["click"] is True
    assert body["created_date"].endswith("Z")

    got = (await client.get(SETTINGS, headers=bearer(keys.default))).json()
    assert got == {k: v for k, v in body.items() if k not in ("created_date", "updated_date")}
    by_id = await client.get(f"{SETTINGS}/{body['id']}", headers=bearer(keys.default))
    assert by_id.json() == got

    partial = await client.patch(SETTINGS, headers=bearer(keys.default), json={"open": True})
    assert partial.json()["open"] is True
    assert partial.json()["url"] == "https://example.com/events", "settings left out keep their values"


async def test_oauth_settings_show_the_client_id_and_token_url_never_the_secret(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    oauth = {"oauth_client_id": "cid", "oauth_client_secret": "shh", "oauth_token_url": "https://auth.example.com/t"}
    response = await client.patch(SETTINGS, headers=bearer(keys.default), json={"url": "https://e.example", **oauth})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["oauth_client_id"], body["oauth_token_url"]) == ("cid", "https://auth.example.com/t")
    assert "oauth_client_secret" not in body
    cleared = await client.patch(
        SETTINGS, headers=bearer(keys.default), json=dict.fromkeys(("oauth_client_id", "oauth_token_url"), "")
    )
    assert "oauth_client_id" not in cleared.json()
    lonely = await client.patch(SETTINGS, headers=bearer(keys.default), json={"oauth_client_id": "only"})
    assert lonely.status_code == 400


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"url": "not a url"}, {"message": "'not a url' is not a valid url", "field": "url"}),
        ({"url": "ftp://example.com"}, {"message": "'ftp://example.com' is not a valid url", "field": "url"}),
        ({"enabled": True, "url": ""}, {"message": "'' is not a valid url", "field": "url"}),
        ({"bounce": "yes"}, {"message": "bounce must be a boolean", "field": "bounce"}),
        ({"enabled": 1}, {"message": "enabled must be a boolean", "field": "enabled"}),
        ({"friendly_name": 5}, {"message": "friendly_name must be a string", "field": "friendly_name"}),
        (
            {"friendly_name": "x" * 257},
            {"message": "friendly_name must be at most 256 characters", "field": "friendly_name"},
        ),
    ],
)
async def test_bad_settings_are_400_and_change_nothing(
    client: httpx.AsyncClient, keys: Keys, change: dict[str, object], error: dict[str, str]
) -> None:
    response = await client.patch(SETTINGS, headers=bearer(keys.default), json=change)
    assert response.status_code == 400
    assert response.json() == {"errors": [error]}
    assert (await client.get(SETTINGS, headers=bearer(keys.default))).json()["url"] == ""


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.patch(SETTINGS, headers=bearer(keys.default), content=b"{nope")
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "Bad Request"}]}


async def test_signing_gives_a_p256_public_key_and_keeps_it(client: httpx.AsyncClient, keys: Keys) -> None:
    await client.patch(SETTINGS, headers=bearer(keys.default), json={"enabled": True, "url": "https://e.example/x"})
    assert (await client.get(f"{SETTINGS}/signed", headers=bearer(keys.default))).json() == {"id": "", "public_key": ""}

    on = await client.patch(f"{SETTINGS}/signed", headers=bearer(keys.default), json={"enabled": True})
    assert on.status_code == 200
    key = on.json()["public_key"]
    assert on.json() == {"id": "", "public_key": key}
    public = load_der_public_key(base64.b64decode(key))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == "secp256r1"
    settings = (await client.get(SETTINGS, headers=bearer(keys.default))).json()
    assert settings["public_key"] == key

    off = await client.patch(f"{SETTINGS}/signed", headers=bearer(keys.default), json={"enabled": False})
    assert off.json() == {"id": "", "public_key": ""}
    assert "public_key" not in (await client.get(SETTINGS, headers=bearer(keys.default))).json()
    again = await client.patch(f"{SETTINGS}/signed", headers=bearer(keys.default), json={"enabled": True})
    assert again.json()["public_key"] == key

    by_id = await client.get(f"{SETTINGS}/signed/{settings['id']}", headers=bearer(keys.default))
    assert by_id.json() == {"id": settings["id"], "public_key": key}
    missing = await client.patch(f"{SETTINGS}/signed", headers=bearer(keys.default), json={})
    assert missing.status_code == 400


async def test_several_webhooks_by_id(client: httpx.AsyncClient, keys: Keys) -> None:
    h = bearer(keys.default)
    first = await client.post(SETTINGS, headers=h, json={"url": "https://a.example/", "friendly_name": "A"})
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["friendly_name"] == "A"
    assert created["enabled"] is False
    duplicate = await client.post(SETTINGS, headers=h, json={"url": "https://a.example/"})
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "errors": [
            {"message": "Webhook at 'https://a.example/' already exists. Please provide a unique URL.",
             "id": created["id"], "url": "https://a.example/"}
        ]
    }  # fmt: skip
    for letter in "bcde":
        assert (await client.post(SETTINGS, headers=h, json={"url": f"https://{letter}.example/"})).status_code == 201
    sixth = await client.post(SETTINGS, headers=h, json={"url": "https://f.example/"})
    assert sixth.json() == {
        "errors": [{"message": "You have reached the maximum number of webhooks per your current billing plan."}]
    }
    assert (await client.post(SETTINGS, headers=h, json={})).status_code == 400

    listed = (await client.get(f"{SETTINGS}/all", headers=h)).json()
    assert listed["max_allowed"] == 5
    assert [w["url"] for w in listed["webhooks"]][:2] == ["https://a.example/", "https://b.example/"]
    assert (await client.get(SETTINGS, headers=h)).json()["id"] == created["id"], "no id: the oldest"

    changed = await client.patch(f"{SETTINGS}/{created['id']}", headers=h, json={"enabled": True, "click": True})
    assert (changed.json()["enabled"], changed.json()["click"]) == (True, True)
    assert (await client.delete(f"{SETTINGS}/{created['id']}", headers=h)).status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        gone = await client.request(method, f"{SETTINGS}/{created['id']}", headers=h, json={})
        assert gone.status_code == 404
        assert gone.json() == {"errors": [{"message": "Invalid id provided."}]}
    unknown = await client.get(f"{SETTINGS}/signed/nope", headers=h)
    assert unknown.status_code == 404


async def test_include_account_status_change(client: httpx.AsyncClient, keys: Keys) -> None:
    await client.patch(SETTINGS, headers=bearer(keys.default), json={"url": "https://e.example"})
    plain = (await client.get(SETTINGS, headers=bearer(keys.default))).json()
    assert "account_status_change" not in plain
    wide = await client.get(SETTINGS, headers=bearer(keys.default), params={"include": "account_status_change"})
    assert wide.json()["account_status_change"] is False


async def test_accounts_see_only_their_own_webhooks(client: httpx.AsyncClient, keys: Keys) -> None:
    mine = await client.post(SETTINGS, headers=bearer(keys.default), json={"url": "https://mine.example/"})
    other = await client.get(f"{SETTINGS}/{mine.json()['id']}", headers=bearer(keys.partner))
    assert other.status_code == 404
    assert (await client.get(f"{SETTINGS}/all", headers=bearer(keys.partner))).json()["webhooks"] == []


async def test_each_operation_needs_its_scope(client: httpx.AsyncClient, keys: Keys) -> None:
    made = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "reader", "scopes": ["mail.send"]}
    )
    narrow = bearer(made.json()["api_key"])
    for method, path in [
        ("GET", SETTINGS), ("PATCH", SETTINGS), ("POST", SETTINGS), ("GET", f"{SETTINGS}/all"),
        ("GET", f"{SETTINGS}/signed"), ("PATCH", f"{SETTINGS}/signed"), ("POST", "/v3/user/webhooks/event/test"),
    ]:  # fmt: skip
        response = await client.request(method, path, headers=narrow, json={"url": "https://x.example"})
        assert response.status_code == 403, (method, path)
        assert response.json() == {"errors": [{"field": None, "message": "access forbidden"}]}
    unauthenticated = await client.get(SETTINGS)
    assert unauthenticated.status_code == 401
