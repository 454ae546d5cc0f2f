"""Console account pages: state and quota, API keys, senders and domains, subusers, IPs, a partner's customers."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select, update

from app.accounts.models import Account
from app.api_keys import scopes
from app.api_keys.models import ApiKey
from app.identity.models import AuthenticatedDomain, VerifiedSender
from app.kernel.db.session import Database
from tests.conftest import Keys, bearer
from tests.support.accounts import create_customer, create_subuser, customer_key, set_state
from tests.support.console import give_password, sign_in, submit

pytestmark = pytest.mark.anyio


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, keys: Keys, db: Database) -> httpx.AsyncClient:
    give_password(db, "default")
    assert (await sign_in(client, "default")).status_code == 303
    return client


async def test_the_account_page_shows_the_state_matrix_and_the_quota(
    signed_in: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    with db.session() as session:
        session.execute(
            update(Account)
            .where(Account.username == "default")
            .values(offerings=[{"name": "org.ei.free.v1", "type": "package", "quantity": 1}])
        )
    page = await signed_in.get("/console/account")
    assert page.status_code == 200
    assert "Account state: activated" in page.text
    current = re.search(r'<tr class="current" aria-current="true">(.*?)</tr>', page.text, re.S)
    assert current is not None
    assert current.group(1).count(">Yes<") == 5
    suspended = re.search(r"<th scope=\"row\">suspended</th>(.*?)</tr>", page.text, re.S)
    assert suspended is not None
    assert suspended.group(1).count(">No<") == 1
    assert "org.ei.free.v1" in page.text
    assert "0 of 100 recipients" in page.text


async def test_api_keys_are_created_once_shown_and_revoked(signed_in: httpx.AsyncClient, db: Database) -> None:
    client = signed_in
    created = await submit(client, "/console/api-keys", {"name": "ci", "access": "full"})
    assert created.status_code == 200
    secret = re.search(r'<code class="secret" id="new-key">(SG\.[\w-]+\.[\w-]+)</code>', created.text)
    assert secret is not None
    assert "this is the only time it is shown" in created.text
    assert (await client.get("/v3/scopes", headers=bearer(secret.group(1)))).status_code == 200
    listing = await client.get("/console/api-keys")
    assert secret.group(1) not in listing.text
    assert "Full Access" in listing.text
    key_id = secret.group(1).split(".")[1]
    revoked = await submit(client, f"/console/api-keys/{key_id}/delete", {}, page="/console/api-keys")
    assert (revoked.status_code, revoked.headers["location"]) == (303, "/console/api-keys?notice=revoked")
    assert (await client.get("/v3/scopes", headers=bearer(secret.group(1)))).status_code == 401


async def test_restricted_and_billing_keys(signed_in: httpx.AsyncClient, db: Database) -> None:
    client = signed_in
    await submit(client, "/console/api-keys", {"name": "mailer", "access": "restricted", "families": ["mail"]})
    await submit(client, "/console/api-keys", {"name": "money", "access": "billing"})
    with db.read_session() as session:
        by_name = {k.name: k.scopes for k in session.scalars(select(ApiKey))}
    assert by_name["mailer"] == sorted(s for s in scopes.full_access_scopes() if s.startswith("mail."))
    assert by_name["money"]
    assert all(scopes.is_billing(s) for s in by_name["money"])
    empty = await submit(client, "/console/api-keys", {"name": "none", "access": "restricted"})
    assert "Choose at least one permission for a restricted key." in empty.text
    unnamed = await submit(client, "/console/api-keys", {"name": " ", "access": "full"})
    assert "missing required argument" in unnamed.text
    listing = await client.get("/console/api-keys")
    assert "Restricted Access" in listing.text
    assert "Billing Access" in listing.text


async def test_senders_and_domains_are_listed(signed_in: httpx.AsyncClient, db: Database) -> None:
    empty = await signed_in.get("/console/senders")
    assert "No single senders." in empty.text
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.username == "default"))
        assert account is not None
        session.add(
            VerifiedSender(
                account_id=account.id, nickname="Shop", from_email="shop@example.com", email_key="shop@example.com",
                from_name="Shop", reply_to="help@example.com", verified=True,
            )
        )  # fmt: skip
        session.add(AuthenticatedDomain(account_id=account.id, domain="example.com", subdomain="em123", valid=False))
    page = await signed_in.get("/console/senders")
    assert "shop@example.com" in page.text
    assert "Verified" in page.text
    assert "example.com" in page.text
    assert "Not verified" in page.text


async def test_subusers_and_ips_are_listed(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    added = await client.post("/v3/ips", headers=bearer(keys.default), json={"count": 1})
    ip = added.json()["ips"][0]["ip"]
    await create_subuser(client, keys.default, "eu-team", ips=[ip])
    give_password(db, "default")
    await sign_in(client, "default")
    subusers = await client.get("/console/subusers")
    assert "eu-team" in subusers.text
    ips = await client.get("/console/ips")
    assert ip in ips.text
    assert "eu-team" in ips.text


async def test_a_partner_changes_its_customers_state(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    account_id = await create_customer(client, keys.partner)
    key = await customer_key(client, keys.partner, account_id)
    give_password(db, "partner")
    await sign_in(client, "partner")
    page = await client.get("/console/customers")
    assert account_id in page.text
    changed = await submit(
        client, f"/console/customers/{account_id}/state", {"state": "deactivated"}, page="/console/customers"
    )
    assert (changed.status_code, changed.headers["location"]) == (303, "/console/customers?notice=state")
    assert (await client.get("/v3/scopes", headers=bearer(key))).status_code == 401
    refused = await submit(
        client, f"/console/customers/{account_id}/state", {"state": "banned"}, page="/console/customers"
    )
    assert refused.status_code == 400
    await set_state(client, account_id, "banned")
    assert "banned is final" in (await client.get("/console/customers")).text


async def test_only_partners_have_customers(signed_in: httpx.AsyncClient, keys: Keys) -> None:
    page = await signed_in.get("/console/customers")
    assert page.status_code == 403
    assert "Customers" not in (await signed_in.get("/console/account")).text.split("<main")[0]
