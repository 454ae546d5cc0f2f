"""Tenant isolation, every route tried: no key, session or partner reaches another account's data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from fastapi import FastAPI, routing

from tests.security import isolation_table as table
from tests.security import world as world_module
from tests.security.world import PASSWORD, Tenant, World
from tests.support.console import sign_in, submit

pytestmark = pytest.mark.anyio

GHOST = Tenant(
    username="ghost", kind="customer", key="SG.ghost.ghost", account_id="sg" + "0" * 32,
    api_key_id="GhostKeyId000000000000", message_id="GhostMessageId00000000", msg_id="GhostMessageId00000000.ghost",
    batch_id="Ghost" + "0" * 27, sender_id="987654", sender_email="ghost@ghost.example", sender_token="G" * 43,
    domain_id="987654", domain="ghost.example", ip="203.0.113.77", subuser="ghost-sub",
    recipient="ghost@ghost-inbox.example", bounce="ghost+bounce@ghost.example", block="ghost+block@ghost.example",
    invalid="ghost+invalid@ghost.example", spam="ghost+spamreport@ghost.example", group_id="987654",
    group_email="ghost-unsub@ghost.example", global_email="ghost-global@ghost.example", webhook_id="987654",
    webhook_url="https://ghost.example/events", webhook_delivery_id="987654",
    template_id="d-00000000000000000000000000000000", version_id="00000000-0000-0000-0000-000000000000",
)  # fmt: skip
# Attacker → victim pairs for the /v3 API: a sibling customer, a subuser against its parent and the parent's
# plain key against its subuser, a stranger against a subuser, customers and partners of other partners.
PAIRS = [
    ("bob", "alice"), ("alice-sub", "alice"), ("alice", "alice-sub"), ("bob", "alice-sub"),
    ("carol", "alice"), ("partner2", "alice"), ("partner", "carol"), ("partner2", "alice-sub"),
]  # fmt: skip
EXACT_PAIR = ("bob", "alice")
# SendGrid shows a parent its subusers' authenticated domains (`exclude_subusers`): not a leak.
PARENT_SEES = {("alice", "alice-sub"): {"domain", "domain_id"}}
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) for every route the app serves (HEAD is implied by GET)."""
    found = set()
    for context in routing.iter_route_contexts(app.routes):
        for method in context.methods or ():
            if method != "HEAD":
                found.add((method, context.path_format))
    return found


def test_every_served_route_is_classified(app: FastAPI) -> None:
    served = served_routes(app)
    unclassified = sorted(served - table.TABLE.keys())
    stale = sorted(table.TABLE.keys() - served)
    assert unclassified == [], f"classify these routes in tests/security/isolation_table.py: {unclassified}"
    assert stale == [], f"these classified routes are no longer served: {stale}"


def entries(kind: type[Any]) -> Iterator[tuple[str, str, Any]]:
    for (method, path), probes in table.TABLE.items():
        for probe in probes:
            if isinstance(probe, kind):
                yield method, path, probe


def fill(path: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], *, json: Any = None, query: Any = None
) -> httpx.Response:
    content = None if json is None else orjson.dumps(json)
    headers = {**headers, "Content-Type": "application/json"} if content is not None else headers
    return await client.request(method, path, headers=headers, content=content, params=query)


def leaked(response: httpx.Response, attacker: Tenant, victim: Tenant, allowed: set[str] = frozenset()) -> list[str]:
    """The victim's marker values found in a response (values that are also the attacker's own do not count)."""
    text = response.text
    mine = {*attacker.markers(), attacker.username, *(getattr(victim, a) for a in allowed)}
    found = [m for m in victim.markers() if m in text and m not in mine]
    if victim.ip and victim.ip not in mine and f'"{victim.ip}"' in text:
        found.append(victim.ip)
    return found


def as_ghost(text: str, victim: Tenant, attributes: list[str]) -> str:
    for attribute in attributes:
        text = text.replace(getattr(victim, attribute), getattr(GHOST, attribute))
    return text


async def snapshot(client: httpx.AsyncClient, world: World, victim: Tenant) -> dict[str, Any]:
    """What the victim sees of its own data, and what the admin sees of its messages and state."""
    reads = {
        "keys": "/v3/api_keys", "key": f"/v3/api_keys/{victim.api_key_id}", "scopes": "/v3/scopes",
        "message": f"/v3/messages/{victim.msg_id}", "batch": f"/v3/mail/batch/{victim.batch_id}",
        "scheduled": "/v3/user/scheduled_sends", "senders": "/v3/verified_senders",
        "domains": "/v3/whitelabel/domains?exclude_subusers=true", "ips": "/v3/ips", "subusers": "/v3/subusers",
        "groups": "/v3/asm/groups", "group_entries": "/v3/asm/suppressions",
        "unsubscribes": "/v3/suppression/unsubscribes",
        "webhooks": "/v3/user/webhooks/event/settings/all", "templates": "/v3/templates?generations=legacy,dynamic",
        "template": f"/v3/templates/{victim.template_id}",
        **{kind: f"/v3/suppression/{kind}" for kind in ("bounces", "blocks", "invalid_emails", "spam_reports")},
    }  # fmt: skip
    seen: dict[str, Any] = {}
    for name, path in reads.items():
        response = await client.get(path, headers=victim.headers)
        seen[name] = (response.status_code, response.text)
    account = await client.get(f"/_mirror/accounts/{victim.username}", headers=world.admin)
    seen["account"] = account.json()
    mails = await client.get("/_mirror/messages", headers=world.admin, params={"account": victim.username})
    seen["mails"] = sorted(m["id"] for m in mails.json()["messages"])
    return seen


async def test_no_key_reaches_another_accounts_resources(client: httpx.AsyncClient, world: World) -> None:
    failures: list[str] = []
    for attacker_name, victim_name in PAIRS:
        attacker, victim = world[attacker_name], world[victim_name]
        before = await snapshot(client, world, victim)
        allowed = PARENT_SEES.get((attacker_name, victim_name), set())
        for method, path, probe in entries(table.Owned):
            attributes = list(probe.params.values())
            if not all(getattr(victim, a) for a in attributes) or set(attributes) & allowed:
                continue
            failures += await _try(client, attacker, victim, method, path, probe, attributes, allowed)
        for method, path, probe in entries(table.Refers):
            value = getattr(victim, probe.needs)
            if value and value != attacker.username and probe.needs not in allowed:
                failures += await _try(client, attacker, victim, method, path, probe, [probe.needs], allowed)
        for method, path, probe in entries(table.Own):
            failures += await _try_own(client, attacker, victim, method, path, probe, allowed)
        after = await snapshot(client, world, victim)
        changed = [name for name in before if before[name] != after[name]]
        if changed:
            failures.append(f"{attacker_name} → {victim_name}: the victim's {changed} changed")
    assert not failures, "\n".join(failures)


async def _try(
    client: httpx.AsyncClient,
    attacker: Tenant,
    victim: Tenant,
    method: str,
    path: str,
    probe: table.Owned | table.Refers,
    attributes: list[str],
    allowed: set[str],
) -> list[str]:
    """The victim's resource answers exactly like one that does not exist."""
    where = f"{attacker.username} → {victim.username}: {method} {path}"
    answers = []
    for target in (victim, GHOST):
        if isinstance(probe, table.Owned):
            url = fill(path, {name: getattr(target, attr) for name, attr in probe.params.items()})
        else:
            url = fill(path, probe.params(attacker, target) or {})
        answers.append(
            await call(
                client,
                method,
                url,
                attacker.headers,
                json=probe.json(attacker, target),
                query=probe.query(attacker, target) if isinstance(probe, table.Owned) else None,
            )
        )
    real, ghost = answers
    problems = []
    if probe.status >= 400 and not 400 <= real.status_code < 500:
        problems.append(f"{where} answered {real.status_code} {real.text[:200]}")
    if (real.status_code, as_ghost(real.text, victim, attributes)) != (ghost.status_code, ghost.text):
        problems.append(
            f"{where} differs from a missing resource: {real.status_code} {real.text[:200]}"
            f" vs {ghost.status_code} {ghost.text[:200]}"
        )
    shown = real.json() if real.headers.get("content-type", "").startswith("application/json") else real.text
    if (attacker.username, victim.username) == EXACT_PAIR and (real.status_code, shown) != (probe.status, probe.body):
        problems.append(
            f"{where} answered {real.status_code} {real.text[:300]}, the table says {probe.status} {probe.body}"
        )
    if found := leaked(real, attacker, victim, allowed):
        problems.append(f"{where} shows {found}")
    return problems


async def _try_own(
    client: httpx.AsyncClient,
    attacker: Tenant,
    victim: Tenant,
    method: str,
    path: str,
    probe: table.Own,
    allowed: set[str],
) -> list[str]:
    """An answer from the caller's own account: nothing of the victim's in it."""
    where = f"{attacker.username} → {victim.username}: {method} {path}"
    url = fill(path, probe.params(attacker, victim) or {})
    response = await call(
        client, method, url, attacker.headers, json=probe.json(attacker, victim), query=probe.query(attacker, victim)
    )
    problems = []
    if response.status_code >= 500:
        problems.append(f"{where} answered {response.status_code}")
    if (attacker.username, victim.username) == EXACT_PAIR and response.status_code != probe.status:
        problems.append(f"{where} answered {response.status_code} {response.text[:200]}, the table says {probe.status}")
    if found := leaked(response, attacker, victim, allowed):
        problems.append(f"{where} shows {found}: {response.text[:300]}")
    return problems


async def test_every_probe_works_for_the_owner(client: httpx.AsyncClient, world: World) -> None:
    """The control: each probe, sent by the owner itself, succeeds, so the refusals above are about the owner."""
    alice = world["alice"]
    alice.batch_id = (await client.post("/v3/mail/batch", headers=alice.headers)).json()["batch_id"]
    probes = [(m, p, probe) for m, p, probe in entries(table.Refers)]
    owned = [(m, p, probe) for m, p, probe in entries(table.Owned)]
    # Verifying the sender ends its resends, and deleting ends everything.
    probes += sorted(owned, key=lambda e: (e[0] == "DELETE", "/verify/" in e[1], -len(e[1]) if e[0] == "DELETE" else 0))
    failures = []
    for method, path, probe in probes:
        if isinstance(probe, table.Owned):
            url = fill(path, {name: getattr(alice, attr) for name, attr in probe.params.items()})
            query = probe.query(alice, alice)
        else:
            url, query = fill(path, probe.params(alice, alice) or {}), None
        response = await call(client, method, url, alice.headers, json=probe.json(alice, alice), query=query)
        if not 200 <= response.status_code < 300:
            failures.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
        if "/resend/" in path:
            alice.sender_token = await world_module.latest_sender_token(client, alice, world.admin)
    assert not failures, "\n".join(failures)


PARTNER_PAIRS = [
    ("partner2", "alice"),
    ("partner", "carol"),
    ("partner2", "alice-sub"),
    ("bob", "alice"),
    ("carol", "alice"),
]
NO_SUCH_ACCOUNT = {"errors": [{"message": "Account not found", "field": "", "error_id": "10-40400"}]}
FORBIDDEN_TO_CUSTOMERS = "The authenticated user is not authorized to perfrom this request"
NOT_A_PARTNER = {"errors": [{"message": FORBIDDEN_TO_CUSTOMERS, "field": "", "error_id": "10-40300"}]}


async def test_a_partner_reaches_only_its_own_customers(client: httpx.AsyncClient, world: World) -> None:
    failures = []
    for attacker_name, victim_name in PARTNER_PAIRS:
        attacker, victim = world[attacker_name], world[victim_name]
        before = await snapshot(client, world, victim)
        expected = NO_SUCH_ACCOUNT if attacker.kind == "partner" else NOT_A_PARTNER
        for method, path, probe in entries(table.PartnerOwned):
            where = f"{attacker_name} → {victim_name}: {method} {path}"
            answers = [
                await call(
                    client,
                    method,
                    fill(path, {"accountID": t.account_id}),
                    attacker.headers,
                    json=probe.json(attacker, t),
                )
                for t in (victim, GHOST)
            ]
            if (answers[0].status_code, answers[0].json()) != (404 if attacker.kind == "partner" else 403, expected):
                failures.append(f"{where} answered {answers[0].status_code} {answers[0].text[:200]}")
            if answers[0].text != answers[1].text:
                failures.append(f"{where} differs from a missing account")
        listed = await call(client, "GET", "/v3/partners/accounts", attacker.headers, query={"limit": "100"})
        if found := leaked(listed, attacker, victim):
            failures.append(f"{attacker_name} lists {found}")
        if before != await snapshot(client, world, victim):
            failures.append(f"{attacker_name} → {victim_name}: the victim changed")
    assert not failures, "\n".join(failures)


async def test_on_behalf_of_reaches_only_the_callers_own_subusers_and_customers(
    client: httpx.AsyncClient, world: World
) -> None:
    attempts = [
        ("bob", "alice-sub"), ("alice-sub", "alice-sub"), ("alice-sub", "bob-sub"), ("carol", "alice-sub"),
        ("partner2", "alice-sub"), ("alice", "bob"), ("bob", "account-id {alice}"), ("partner2", "account-id {alice}"),
        ("partner", "account-id {carol}"), ("partner", "account-id {partner2}"), ("partner", "account-id {alice-sub}"),
        ("alice", "account-id {alice-sub}"), ("alice-sub", "account-id {alice}"),
    ]  # fmt: skip
    ids = {name: tenant.account_id for name, tenant in world.tenants.items()}
    failures = []
    for attacker_name, target in attempts:
        headers = {**world[attacker_name].headers, "On-Behalf-Of": target.format(**ids)}
        for path in (
            "/v3/api_keys",
            "/v3/scopes",
            "/v3/messages?query=status%3D%22delivered%22",
            "/v3/verified_senders",
        ):
            response = await client.get(path, headers=headers)
            if response.status_code != 403:
                failures.append(
                    f"{attacker_name} as {target}: GET {path} answered {response.status_code} {response.text[:200]}"
                )
        sent = await client.post("/v3/mail/batch", headers=headers)
        if sent.status_code != 403:
            failures.append(f"{attacker_name} as {target}: POST /v3/mail/batch answered {sent.status_code}")
    assert not failures, "\n".join(failures)


async def test_the_admin_api_needs_the_admin_token(client: httpx.AsyncClient, world: World) -> None:
    alice = world["alice"]
    params = {"message_id": alice.message_id, "index": "0", "account": "alice", "domain_id": alice.domain_id}
    credentials: list[dict[str, str]] = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": world.admin_token}]
    credentials += [world[name].headers for name in ("alice", "partner")]
    failures = []
    for method, path, _probe in entries(table.Admin):
        for headers in credentials:
            response = await call(
                client, method, fill(path, params), headers, json={} if method in ("PUT", "POST") else None
            )
            if (response.status_code, response.json()) != (401, table.classic("authorization required")):
                failures.append(f"{method} {path} with {sorted(headers)}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    response = await client.get(f"/_mirror/messages/{alice.message_id}", headers=world.admin)
    assert response.status_code == 200


async def console_of(app: FastAPI, username: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    browser = httpx.AsyncClient(transport=transport, base_url="http://mirror.test")
    signed = await sign_in(browser, username, PASSWORD)
    assert signed.status_code == 303, signed.text
    return browser


async def test_no_console_session_reaches_another_accounts_data(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    failures = []
    for attacker_name, victim_name in [
        ("bob", "alice"),
        ("partner2", "alice"),
        ("carol", "alice"),
        ("alice-sub", "alice"),
    ]:
        victim = world[victim_name]
        before = await snapshot(client, world, victim)
        browser = await console_of(app, attacker_name)
        try:
            failures += await _console_probes(browser, world[attacker_name], victim)
        finally:
            await browser.aclose()
        if before != await snapshot(client, world, victim):
            failures.append(f"{attacker_name} → {victim_name}: the victim changed")
    assert not failures, "\n".join(failures)


async def _console_probes(browser: httpx.AsyncClient, attacker: Tenant, victim: Tenant) -> list[str]:
    failures = []
    for method, path, probe in entries(table.ConsoleOwned):
        if not all(getattr(victim, attr, attr) for attr in probe.params.values()):
            continue
        where = f"{attacker.username} → {victim.username}: {method} {path}"
        answers = []
        for target in (victim, GHOST):
            url = fill(path, {name: getattr(target, attr, attr) for name, attr in probe.params.items()})
            if method == "POST":
                answers.append(await submit(browser, url, probe.form, page="/console/account"))
            else:
                answers.append(await browser.get(url))
        real, ghost = answers
        if real.status_code != ghost.status_code or not 400 <= real.status_code < 500:
            failures.append(f"{where}: {real.status_code} (missing: {ghost.status_code})")
        if found := leaked(real, attacker, victim):
            failures.append(f"{where} shows {found}")
    for method, path, probe in [*entries(table.ConsoleOwn), *entries(table.ConsoleAdmin)]:
        url = fill(path, {"message_id": victim.message_id, "index": "0"})
        if method == "POST":
            response = await submit(browser, url, (getattr(probe, "form", None) or {}), page="/console/account")
        else:
            response = await browser.get(url)
        if isinstance(probe, table.ConsoleAdmin) and response.status_code != 403:
            failures.append(f"{attacker.username}: {method} {path} (admin only) answered {response.status_code}")
        found = leaked(response, attacker, victim)
        if response.status_code >= 500 or found:
            failures.append(
                f"{attacker.username} → {victim.username}: {method} {path}: {response.status_code}, shows {found}"
            )
    return failures


async def test_another_accounts_template_id_renders_nothing_of_it(client: httpx.AsyncClient, world: World) -> None:
    bob, alice = world["bob"], world["alice"]
    mail = {**table.MAIL, "template_id": alice.template_id, "content": None}
    response = await call(client, "POST", "/v3/mail/send", bob.headers, json={k: v for k, v in mail.items() if v})
    assert response.status_code in (202, 400), response.text
    if response.status_code == 202:
        stored = await client.get(f"/_mirror/messages/{response.headers['x-message-id']}", headers=world.admin)
        assert "alice layout" not in stored.text
