"""Tenants with one of everything: the victims and attackers of the isolation tests.

Partner `partner` (the bootstrap one) has customers `alice` (subuser `alice-sub`) and `bob` (`bob-sub`); a second
partner `partner2` has customer `carol`. Every tenant owns an extra API key, a sent message, a paused batch,
a verified sender, an authenticated domain and (customers) a dedicated IP, all named after it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.accounts import bootstrap
from app.api_keys import credentials
from app.kernel.db.session import Database
from tests.conftest import bearer

PASSWORD = "isolation-console-password"
VERIFY_LINK = re.compile(r"/_mirror/senders/verify/([A-Za-z0-9_-]{43})")
CUSTOMERS = ("alice", "bob", "carol")


@dataclass
class Tenant:
    """One account, its key and the ids of what it owns ('' where it cannot own that kind of thing)."""

    username: str
    kind: str
    key: str
    account_id: str = ""
    api_key_id: str = ""
    message_id: str = ""
    msg_id: str = ""
    batch_id: str = ""
    sender_id: str = ""
    sender_email: str = ""
    sender_token: str = ""
    domain_id: str = ""
    domain: str = ""
    ip: str = ""
    subuser: str = ""
    recipient: str = ""
    bounce: str = ""
    block: str = ""
    invalid: str = ""
    spam: str = ""
    group_id: str = ""
    group_email: str = ""
    global_email: str = ""
    webhook_id: str = ""
    webhook_url: str = ""
    webhook_delivery_id: str = ""
    template_id: str = ""
    version_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.key)

    def markers(self) -> list[str]:
        """Values that only this tenant's own answers may contain."""
        found = [
            self.account_id, self.api_key_id, self.message_id, self.batch_id, self.sender_email, self.domain,
            self.recipient, self.subuser, self.key.split(".")[1], self.bounce, self.block, self.invalid, self.spam,
            self.group_email, self.global_email, self.webhook_url, self.template_id, self.version_id,
        ]  # fmt: skip
        return [value for value in found if value]


@dataclass
class World:
    tenants: dict[str, Tenant]
    admin_token: str

    def __getitem__(self, username: str) -> Tenant:
        return self.tenants[username]

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.admin_token)


def _seed_document(keys: dict[str, str]) -> dict[str, Any]:
    def entry(username: str, **more: Any) -> dict[str, Any]:
        return {
            "username": username,
            "email": f"{username}@{username}.example",
            "password": PASSWORD,
            "keys": [{"name": f"{username} seed key", "key": keys[username]}],
            **more,
        }

    return {
        "accounts": [
            entry("alice", subusers=[entry("alice-sub")]),
            entry("bob", subusers=[entry("bob-sub")]),
            entry("partner2", kind="partner"),
            entry("carol", parent="partner2"),
        ]
    }


def seed(db: Database, partner_key: str) -> dict[str, Tenant]:
    """The accounts and their seed keys (keys are made here, never stored in the project)."""
    names = ("alice", "alice-sub", "bob", "bob-sub", "partner2", "carol")
    keys = {name: credentials.generate_key() for name in names}
    with db.session() as session:
        bootstrap.apply_seed(session, _seed_document(keys))
    kinds = {"alice-sub": "subuser", "bob-sub": "subuser", "partner2": "partner"}
    tenants = {name: Tenant(username=name, kind=kinds.get(name, "customer"), key=keys[name]) for name in names}
    tenants["partner"] = Tenant(username="partner", kind="partner", key=partner_key)
    return tenants


async def _ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), (response.request.url, response.status_code, response.text)
    return response.json() if response.content else None


async def furnish(client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]) -> None:
    """Give a customer or subuser one of everything, through the API as that tenant."""
    h, name = tenant.headers, tenant.username
    tenant.account_id = (await _ok(await client.get(f"/_mirror/accounts/{name}", headers=admin)))["id"]
    tenant.api_key_id = (await _ok(await client.post("/v3/api_keys", headers=h, json={"name": f"{name} extra"}), 201))[
        "api_key_id"
    ]
    tenant.batch_id = (await _ok(await client.post("/v3/mail/batch", headers=h), 201))["batch_id"]
    tenant.recipient = f"{name}-rcpt@{name}-inbox.example"
    await _send(client, tenant)
    found = await _ok(await client.get("/v3/messages", headers=h, params={"query": f'to_email="{tenant.recipient}"'}))
    tenant.msg_id = found["messages"][0]["msg_id"]
    await _ok(
        await client.post("/v3/user/scheduled_sends", headers=h, json={"batch_id": tenant.batch_id, "status": "pause"}),
        201,
    )
    await _sender(client, tenant, admin)
    tenant.domain = f"{name}-mail.example"
    tenant.domain_id = str(
        (await _ok(await client.post(DOMAINS, headers=h, json={"domain": tenant.domain}), 201))["id"]
    )
    if tenant.kind == "customer":
        added = await _ok(await client.post("/v3/ips", headers=h, json={"count": 1}), 201)
        tenant.ip = added["ips"][0]["ip"]
    await _suppressions(client, tenant, admin)
    await _webhook(client, tenant, admin)
    await _template(client, tenant)


async def _template(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = {"name": f"{tenant.username} template", "generation": "dynamic"}
    tenant.template_id = (await _ok(await client.post("/v3/templates", headers=tenant.headers, json=body), 201))["id"]
    version = {"name": "v1", "subject": "Hi {{name}}", "html_content": f"<p>{tenant.username} layout</p>", "active": 1}
    path = f"/v3/templates/{tenant.template_id}/versions"
    tenant.version_id = (await _ok(await client.post(path, headers=tenant.headers, json=version), 201))["id"]


async def _suppressions(client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]) -> None:
    """Bounces, blocks, invalid addresses and spam reports (delivery simulator), a group, a global unsubscribe."""
    name = tenant.username
    for attribute, tag in (("bounce", "bounce"), ("block", "block"), ("invalid", "invalid"), ("spam", "spamreport")):
        setattr(tenant, attribute, f"{name}+{tag}@{name}-fates.example")
    payload = {
        "personalizations": [{"to": [{"email": getattr(tenant, a)}]} for a in ("bounce", "block", "invalid", "spam")],
        "from": {"email": f"news@{name}.example"},
        "subject": "fates",
        "content": [{"type": "text/plain", "value": "fates"}],
    }
    await _ok(await client.post("/v3/mail/send", headers=tenant.headers, json=payload), 202)
    # Spam reports come a while after delivery.
    await _ok(await client.post("/_mirror/clock/advance", headers=admin, json={"seconds": 600}))
    await _ok(await client.post("/_mirror/scheduler/run", headers=admin))
    group = {"name": f"{name} newsletter", "description": "news"}
    tenant.group_id = str(
        (await _ok(await client.post("/v3/asm/groups", headers=tenant.headers, json=group), 201))["id"]
    )
    tenant.group_email = f"unsub@{name}-groups.example"
    emails = {"recipient_emails": [tenant.group_email]}
    await _ok(
        await client.post(f"/v3/asm/groups/{tenant.group_id}/suppressions", headers=tenant.headers, json=emails), 201
    )
    tenant.global_email = f"global@{name}-groups.example"
    emails = {"recipient_emails": [tenant.global_email]}
    await _ok(await client.post("/v3/asm/suppressions/global", headers=tenant.headers, json=emails), 201)


async def _webhook(client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]) -> None:
    """An Event Webhook pointing at a closed loopback port, and one (failed) delivery to it."""
    tenant.webhook_url = f"http://127.0.0.1:9/{tenant.username}-hooks/events"
    body = {"url": tenant.webhook_url, "enabled": True, "delivered": True, "processed": True}
    created = await _ok(await client.post("/v3/user/webhooks/event/settings", headers=tenant.headers, json=body), 201)
    tenant.webhook_id = str(created["id"])
    await _send(client, tenant)
    await _ok(await client.post("/_mirror/webhooks/run", headers=admin))
    listed = await _ok(await client.get("/_mirror/webhooks/deliveries", headers=admin))
    mine = [d for d in listed["deliveries"] if tenant.webhook_url in str(d)]
    tenant.webhook_delivery_id = str(mine[0]["id"]) if mine else ""


DOMAINS = "/v3/whitelabel/domains"


async def _send(client: httpx.AsyncClient, tenant: Tenant) -> None:
    payload = {
        "personalizations": [{"to": [{"email": tenant.recipient}]}],
        "from": {"email": f"news@{tenant.username}.example"},
        "subject": f"for {tenant.username} only",
        "content": [{"type": "text/plain", "value": f"secret text of {tenant.username}"}],
        "attachments": [{"content": "aGVsbG8=", "filename": "a.txt"}],
    }
    response = await client.post("/v3/mail/send", headers=tenant.headers, json=payload)
    assert response.status_code == 202, response.text
    tenant.message_id = response.headers["x-message-id"]
    scheduled = {**payload, "batch_id": tenant.batch_id, "send_at": int(time.time()) + 3600}
    response = await client.post("/v3/mail/send", headers=tenant.headers, json=scheduled)
    assert response.status_code == 202, response.text


async def _sender(client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]) -> None:
    tenant.sender_email = f"orders@{tenant.username}-shop.example"
    body = {
        "nickname": tenant.username, "from_email": tenant.sender_email, "from_name": tenant.username,
        "reply_to": tenant.sender_email, "address": "1 Road", "city": "Town", "country": "USA",
    }  # fmt: skip
    tenant.sender_id = str(
        (await _ok(await client.post("/v3/verified_senders", headers=tenant.headers, json=body), 201))["id"]
    )
    tenant.sender_token = await latest_sender_token(client, tenant, admin)


async def latest_sender_token(client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]) -> str:
    """The token of the newest verification email to the tenant's sender address."""
    listed = await _ok(await client.get("/_mirror/messages", headers=admin, params={"to": tenant.sender_email}))
    text = (await client.get(f"/_mirror/messages/{listed['messages'][0]['id']}/text", headers=admin)).text
    found = VERIFY_LINK.search(text)
    assert found is not None, text
    return found.group(1)


async def build(client: httpx.AsyncClient, db: Database, *, partner_key: str, admin_token: str) -> World:
    tenants = seed(db, partner_key)
    world = World(tenants, admin_token)
    for name in ("alice", "alice-sub", "bob", "carol"):
        await furnish(client, tenants[name], world.admin)
    for name in ("partner", "partner2"):
        info = await _ok(await client.get(f"/_mirror/accounts/{name}", headers=world.admin))
        tenants[name].account_id = info["id"]
    tenants["alice"].subuser = "alice-sub"
    tenants["bob"].subuser = "bob-sub"
    return world
