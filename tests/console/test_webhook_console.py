"""The console's Event Webhook page: the account's deliveries and a replay button behind a CSRF-checked form."""

from __future__ import annotations

import httpx
import pytest

from app.kernel.db.session import Database
from tests.conftest import Keys, bearer
from tests.support.console import give_password, sign_in, submit
from tests.support.mail import body
from tests.support.webhooks import Receiver, deliveries, dispatch, enable, receiver

pytestmark = pytest.mark.anyio
__all__ = ["receiver"]
PAGE = "/console/webhooks"


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, keys: Keys, db: Database) -> httpx.AsyncClient:
    give_password(db, "default")
    assert (await sign_in(client, "default")).status_code == 303
    return client


async def test_the_page_lists_deliveries_and_replays_one(
    signed_in: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    receiver.status = 500
    await enable(signed_in, keys.default, receiver.url)
    assert (await signed_in.post("/v3/mail/send", headers=bearer(keys.default), json=body())).status_code == 202
    await dispatch(signed_in)
    [delivery] = await deliveries(signed_in)

    page = await signed_in.get(PAGE)
    assert page.status_code == 200
    assert receiver.url in page.text
    assert "HTTP 500" in page.text
    assert f'action="/console/webhooks/deliveries/{delivery["id"]}/replay"' in page.text

    receiver.status = 200
    action = f"/console/webhooks/deliveries/{delivery['id']}/replay"
    replayed = await submit(signed_in, action, {}, page=PAGE)
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/console/webhooks?notice=replayed"
    assert len(receiver.posts) == 2
    assert receiver.posts[1].body == receiver.posts[0].body
    after = await signed_in.get(replayed.headers["location"])
    assert "HTTP 200" in after.text
    assert f"replay of #{delivery['id']}" in after.text


async def test_a_replay_without_the_csrf_token_is_refused(
    signed_in: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    await enable(signed_in, keys.default, receiver.url, signed=False)
    await signed_in.post("/v3/mail/send", headers=bearer(keys.default), json=body())
    await dispatch(signed_in)
    [delivery] = await deliveries(signed_in)
    refused = await signed_in.post(
        f"/console/webhooks/deliveries/{delivery['id']}/replay", data={"csrf_token": "forged"}
    )
    assert refused.status_code == 403
    assert len(receiver.posts) == 1


async def test_another_accounts_delivery_cannot_be_replayed(
    signed_in: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    await enable(signed_in, keys.partner, receiver.url, signed=False)
    await signed_in.post("/v3/mail/send", headers=bearer(keys.partner), json=body())
    await dispatch(signed_in)
    [theirs] = await deliveries(signed_in)
    assert f"/deliveries/{theirs['id']}/replay" not in (await signed_in.get(PAGE)).text
    refused = await submit(
        signed_in, f"/console/webhooks/deliveries/{theirs['id']}/replay", {}, page="/console/api-keys"
    )
    assert refused.status_code == 404
    assert len(receiver.posts) == 1
