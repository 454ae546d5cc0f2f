"""/v3/whitelabel/domains: records per security mode, CRUD, default, and /validate in auto, manual and dns mode."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.kernel.config import Settings
from app.kernel.db.session import Database
from tests.conftest import Keys, bearer
from tests.support import fake_dns
from tests.support.accounts import create_subuser
from tests.support.apps import client_with

pytestmark = pytest.mark.anyio

DOMAINS = "/v3/whitelabel/domains"


async def create_domain(client: httpx.AsyncClient, key: str, **body: Any) -> dict[str, Any]:
    response = await client.post(DOMAINS, headers=bearer(key), json={"domain": "shop.example", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_automatic_security_asks_for_three_cnames(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_domain(client, keys.default, subdomain="news", automatic_security=True)
    uid = created["user_id"]
    assert isinstance(uid, int)
    assert created == {
        "id": created["id"], "user_id": uid, "subdomain": "news", "domain": "shop.example", "username": "default",
        "ips": [], "custom_spf": False, "default": False, "legacy": False, "automatic_security": True,
        "valid": False,
        "dns": {
            "mail_cname": {"valid": False, "type": "cname", "host": "news.shop.example",
                           "data": f"u{uid}.wl.sendgrid.net"},
            "dkim1": {"valid": False, "type": "cname", "host": "s1._domainkey.shop.example",
                      "data": f"s1.domainkey.u{uid}.wl.sendgrid.net"},
            "dkim2": {"valid": False, "type": "cname", "host": "s2._domainkey.shop.example",
                      "data": f"s2.domainkey.u{uid}.wl.sendgrid.net"},
        },
    }  # fmt: skip


async def test_manual_security_asks_for_mx_spf_and_dkim(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_domain(client, keys.default, custom_dkim_selector="abc")
    assert re.fullmatch(r"em\d{4}", created["subdomain"])
    dns = created["dns"]
    assert sorted(dns) == ["dkim", "mail_server", "subdomain_spf"]
    sending = f"{created['subdomain']}.shop.example"
    assert dns["mail_server"] == {"valid": False, "type": "mx", "host": sending, "data": "mx.sendgrid.net"}
    assert dns["subdomain_spf"] == {
        "valid": False, "type": "txt", "host": sending, "data": "v=spf1 include:sendgrid.net ~all"
    }  # fmt: skip
    assert dns["dkim"]["host"] == "abc._domainkey.shop.example"
    assert re.fullmatch(r"k=rsa; t=s; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ[A-Za-z0-9+/]+=*", dns["dkim"]["data"])
    custom = await create_domain(client, keys.default, subdomain="mail", custom_spf=True, ips=["192.0.2.1"])
    assert custom["dns"]["subdomain_spf"]["data"] == "v=spf1 ip4:192.0.2.1 -all"


async def test_every_create_problem_is_reported_together(client: httpx.AsyncClient, keys: Keys) -> None:
    body = {
        "subdomain": "-bad-", "default": "yes", "ips": ["300.1.1.1"], "custom_dkim_selector": "toolong",
        "region": "mars", "username": "nobody",
    }  # fmt: skip
    response = await client.post(DOMAINS, headers=bearer(keys.default), json=body)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": "domain", "message": "missing required argument"},
            {"field": "subdomain", "message": "subdomain must be a valid host name"},
            {"field": "default", "message": "default must be a boolean"},
            {"field": "ips", "message": "ips must be an array of IPv4 addresses"},
            {"field": "custom_dkim_selector", "message": "custom_dkim_selector must be 3 letters or digits"},
            {"field": "region", "message": "region must be one of global, eu"},
            {"field": "username", "message": "username must be your own or one of your subusers'"},
        ]
    }
    both = await client.post(
        DOMAINS,
        headers=bearer(keys.default),
        json={"domain": "a.example", "automatic_security": True, "custom_spf": True},
    )
    assert both.json()["errors"] == [
        {"field": "custom_spf", "message": "custom_spf is only available to domains set up for manual security"}
    ]


async def test_a_domain_and_subdomain_are_authenticated_once(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_domain(client, keys.default, subdomain="news")
    again = await client.post(
        DOMAINS, headers=bearer(keys.default), json={"domain": "SHOP.example", "subdomain": "news"}
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "domain"


async def test_list_get_patch_delete(client: httpx.AsyncClient, keys: Keys) -> None:
    first = await create_domain(client, keys.default, subdomain="a")
    second = await create_domain(client, keys.default, domain="other.example", default=True)
    listed = (await client.get(DOMAINS, headers=bearer(keys.default))).json()
    assert [d["id"] for d in listed] == [first["id"], second["id"]]
    found = await client.get(DOMAINS, headers=bearer(keys.default), params={"domain": "other", "limit": "5"})
    assert [d["id"] for d in found.json()] == [second["id"]]
    paged = await client.get(DOMAINS, headers=bearer(keys.default), params={"limit": "1", "offset": "1"})
    assert [d["id"] for d in paged.json()] == [second["id"]]
    path = f"{DOMAINS}/{first['id']}"
    assert (await client.get(path, headers=bearer(keys.default))).json()["subdomain"] == "a"
    patched = await client.patch(path, headers=bearer(keys.default), json={"default": True, "custom_spf": True})
    assert patched.status_code == 200
    assert (patched.json()["default"], patched.json()["custom_spf"]) == (True, True)
    others = (await client.get(f"{DOMAINS}/{second['id']}", headers=bearer(keys.default))).json()
    assert others["default"] is False
    assert (await client.delete(path, headers=bearer(keys.default))).status_code == 204
    missing = await client.get(path, headers=bearer(keys.default))
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"field": None, "message": "authenticated domain not found"}]}


async def test_default_is_the_matching_or_default_domain_else_sendgrid_net(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    none = (await client.get(f"{DOMAINS}/default", headers=bearer(keys.default))).json()
    assert (none["domain"], none["default"], none["valid"]) == ("sendgrid.net", True, True)
    chosen = await create_domain(client, keys.default, default=True)
    other = await create_domain(client, keys.default, domain="other.example")
    default = (await client.get(f"{DOMAINS}/default", headers=bearer(keys.default))).json()
    assert default["id"] == chosen["id"]
    matching = await client.get(f"{DOMAINS}/default", headers=bearer(keys.default), params={"domain": "other.example"})
    assert matching.json()["id"] == other["id"]


async def test_a_parent_authenticates_and_sees_subuser_domains(client: httpx.AsyncClient, keys: Keys) -> None:
    await create_subuser(client, keys.default, "acme-eu")
    own = await create_domain(client, keys.default)
    theirs = await create_domain(client, keys.default, domain="eu.example", username="acme-eu")
    assert theirs["username"] == "acme-eu"
    everything = (await client.get(DOMAINS, headers=bearer(keys.default))).json()
    assert [d["id"] for d in everything] == [own["id"], theirs["id"]]
    mine = await client.get(DOMAINS, headers=bearer(keys.default), params={"exclude_subusers": "true"})
    assert [d["id"] for d in mine.json()] == [own["id"]]
    by_name = await client.get(DOMAINS, headers=bearer(keys.default), params={"username": "acme-eu"})
    assert [d["id"] for d in by_name.json()] == [theirs["id"]]
    as_subuser = {**bearer(keys.default), "On-Behalf-Of": "acme-eu"}
    assert [d["id"] for d in (await client.get(DOMAINS, headers=as_subuser)).json()] == [theirs["id"]]


async def test_keys_need_whitelabel_scopes(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "m", "scopes": ["mail.send"]}
    )
    narrow = created.json()["api_key"]
    assert (await client.get(DOMAINS, headers=bearer(narrow))).status_code == 403
    assert (await client.post(DOMAINS, headers=bearer(narrow), json={"domain": "a.example"})).status_code == 403


async def test_auto_validation_is_valid_at_once(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await create_domain(client, keys.default, automatic_security=True)
    response = await client.post(f"{DOMAINS}/{created['id']}/validate", headers=bearer(keys.default))
    assert response.status_code == 200
    ok = {"valid": True, "reason": None}
    assert response.json() == {
        "id": created["id"],
        "valid": True,
        "validation_results": {"mail_cname": ok, "dkim1": ok, "dkim2": ok, "spf": ok},
    }
    stored = (await client.get(f"{DOMAINS}/{created['id']}", headers=bearer(keys.default))).json()
    assert stored["valid"] is True
    assert all(record["valid"] for record in stored["dns"].values())
    assert isinstance(stored["last_validation_attempt_at"], int)
    steps = (await client.get("/v3/verified_senders/steps_completed", headers=bearer(keys.default))).json()
    assert steps == {"results": {"sender_verified": False, "domain_verified": True}}


async def test_manual_validation_waits_for_the_admin_to_mark_records(
    db: Database, settings: Settings, keys: Keys
) -> None:
    async with client_with(db, settings, domain_validation="manual") as client:
        created = await create_domain(client, keys.default, automatic_security=True)
        validate = f"{DOMAINS}/{created['id']}/validate"
        first = (await client.post(validate, headers=bearer(keys.default))).json()
        assert first["valid"] is False
        assert first["validation_results"]["dkim1"]["reason"].startswith("The record has not been published")
        marked = await client.put(f"/_mirror/domains/{created['id']}/dns", json={"records": ["mail_cname", "dkim1"]})
        assert marked.json() == {"id": created["id"], "published": ["dkim1", "mail_cname"]}
        partial = (await client.post(validate, headers=bearer(keys.default))).json()
        assert (partial["valid"], partial["validation_results"]["dkim2"]["valid"]) == (False, False)
        await client.put(f"/_mirror/domains/{created['id']}/dns", json={})
        assert (await client.post(validate, headers=bearer(keys.default))).json()["valid"] is True
        bad = await client.put(f"/_mirror/domains/{created['id']}/dns", json={"records": ["nope"]})
        assert bad.status_code == 400


async def test_dns_validation_looks_the_records_up(db: Database, settings: Settings, keys: Keys) -> None:
    # No DNS server on the internet knows a test domain: a local fake answers on a loopback port.
    zone: fake_dns.Zone = {}
    with fake_dns.serve(zone) as resolver:
        async with client_with(db, settings, domain_validation="dns", dns_resolver=resolver) as client:
            created = await create_domain(client, keys.default, subdomain="em1", automatic_security=True)
            validate = f"{DOMAINS}/{created['id']}/validate"
            records = created["dns"]
            zone[(records["mail_cname"]["host"], "CNAME")] = [records["mail_cname"]["data"] + "."]
            zone[(records["dkim1"]["host"], "CNAME")] = [records["dkim1"]["data"].upper()]
            partial = (await client.post(validate, headers=bearer(keys.default))).json()
            assert partial["valid"] is False
            assert partial["validation_results"]["mail_cname"] == {"valid": True, "reason": None}
            dkim2 = records["dkim2"]
            assert partial["validation_results"]["dkim2"] == {
                "valid": False, "reason": f'Expected CNAME for "{dkim2["host"]}" to match "{dkim2["data"]}".'
            }  # fmt: skip
            zone[(dkim2["host"], "CNAME")] = [dkim2["data"]]
            assert (await client.post(validate, headers=bearer(keys.default))).json()["valid"] is True


async def test_dns_validation_of_manual_security_reads_mx_and_txt(db: Database, settings: Settings, keys: Keys) -> None:
    zone: fake_dns.Zone = {}
    with fake_dns.serve(zone) as resolver:
        async with client_with(db, settings, domain_validation="dns", dns_resolver=resolver) as client:
            created = await create_domain(client, keys.default, subdomain="em2")
            records = created["dns"]
            zone[("em2.shop.example", "MX")] = ["shop.example"]
            zone[("em2.shop.example", "TXT")] = [records["subdomain_spf"]["data"]]
            zone[(records["dkim"]["host"], "TXT")] = [records["dkim"]["data"]]
            result = (await client.post(f"{DOMAINS}/{created['id']}/validate", headers=bearer(keys.default))).json()
            assert result["validation_results"] == {
                "mail_server": {
                    "valid": False,
                    "reason": 'Expected your MX record to be "mx.sendgrid.net" but found "shop.example".',
                },
                "subdomain_spf": {"valid": True, "reason": None},
                "dkim": {"valid": True, "reason": None},
            }  # fmt: skip
