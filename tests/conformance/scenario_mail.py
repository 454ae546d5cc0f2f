"""Conformance scenario, part 2: mail send, batches, scheduled sends, activity, senders, domains, suppressions."""

from __future__ import annotations

import re
import time

from app.kernel.db.session import Database
from tests.conformance.scenario_accounts import Driver
from tests.support import suppressions
from tests.support.mail import body

VERIFY_LINK = re.compile(r"/_mirror/senders/verify/([A-Za-z0-9_-]{43})")
SENDER = {"nickname": "Orders", "from_email": "orders@shop.example", "reply_to": "help@shop.example",
          "from_name": "Shop", "address": "1 Main St", "city": "Springfield", "country": "USA"}  # fmt: skip


async def mail(d: Driver) -> None:
    await d.call("POST", "/v3/mail/send", 202, json=body())
    await d.call("POST", "/v3/mail/send", 200, json=body(mail_settings={"sandbox_mode": {"enable": True}}))
    await d.call("POST", "/v3/mail/send", 400, json=body(personalizations=None, subject=None))
    await d.call("POST", "/v3/mail/send", 401, key=None, json=body())
    scoped = (await d.call("POST", "/v3/api_keys", 201, json={"name": "r", "scopes": ["ips.read"]})).json()
    await d.call("POST", "/v3/mail/send", 403, key=scoped["api_key"], json=body())
    await d.call("POST", "/v3/mail/send", 413, content=b"{" + b" " * (30 * 1024 * 1024 + 1) + b"}")
    batch = (await d.call("POST", "/v3/mail/batch", 201)).json()["batch_id"]
    await d.call("POST", "/v3/mail/batch", 401, key=None)
    await d.call("GET", f"/v3/mail/batch/{batch}", 200)
    await d.call("GET", "/v3/mail/batch/not-a-batch", 400)
    await _scheduled_sends(d, batch)


async def _scheduled_sends(d: Driver, batch: str) -> None:
    in_an_hour = int(time.time()) + 3600
    await d.call("POST", "/v3/mail/send", 202, json=body(batch_id=batch, send_at=in_an_hour))
    await d.call("POST", "/v3/user/scheduled_sends", 201, json={"batch_id": batch, "status": "pause"})
    await d.call("POST", "/v3/user/scheduled_sends", 400, json={"batch_id": batch, "status": "stop"})
    await d.call("GET", "/v3/user/scheduled_sends", 200)
    await d.call("GET", f"/v3/user/scheduled_sends/{batch}", 200)
    await d.call("GET", "/v3/user/scheduled_sends/not-a-batch", 404)
    await d.call("PATCH", f"/v3/user/scheduled_sends/{batch}", 204, json={"status": "cancel"})
    await d.call("PATCH", f"/v3/user/scheduled_sends/{batch}", 400, json={"status": "stop"})
    await d.call("DELETE", f"/v3/user/scheduled_sends/{batch}", 204)
    await d.call("DELETE", f"/v3/user/scheduled_sends/{batch}", 404)


async def activity(d: Driver) -> None:
    rich = body(categories=["receipts"], custom_args={"order": "42"})
    await d.call("POST", "/v3/mail/send", 202, json=rich)
    query = {"query": 'to_email="alice@example.com"', "limit": 5}
    messages = (await d.call("GET", "/v3/messages", 200, params=query)).json()["messages"]
    await d.call("GET", "/v3/messages", 400, params={"query": "bad_field=1"})
    await d.call("GET", f"/v3/messages/{messages[0]['msg_id']}", 200)
    await d.call("GET", "/v3/messages/unknown-message", 404)


async def verified_senders(d: Driver) -> None:
    created = (await d.call("POST", "/v3/verified_senders", 201, json=SENDER)).json()
    await d.call("POST", "/v3/verified_senders", 400, json={**SENDER, "from_email": "nope"})
    await d.call("GET", "/v3/verified_senders", 200, params={"limit": 5})
    await d.call("GET", "/v3/verified_senders", 401, key=None)
    sender = f"/v3/verified_senders/{created['id']}"
    await d.call("PATCH", sender, 200, json={"nickname": "Orders desk"})
    await d.call("PATCH", sender, 400, json={"reply_to": "nope"})
    await d.call("PATCH", "/v3/verified_senders/999999", 404, json={"nickname": "x"})
    await d.call("POST", f"/v3/verified_senders/resend/{created['id']}", 204)
    await d.call("POST", "/v3/verified_senders/resend/999999", 404)
    await d.call("GET", f"/v3/verified_senders/verify/{await _token(d)}", 204)
    await d.call("GET", "/v3/verified_senders/verify/nope", 404)
    await d.call("GET", "/v3/verified_senders/domains", 200)
    await d.call("GET", "/v3/verified_senders/steps_completed", 200)
    await d.call("DELETE", sender, 204)
    await d.call("DELETE", sender, 404)


async def _token(d: Driver) -> str:
    listed = (await d.client.get("/_mirror/messages", params={"to": SENDER["from_email"]})).json()["messages"]
    text = (await d.client.get(f"/_mirror/messages/{listed[0]['id']}/text")).text
    found = VERIFY_LINK.search(text)
    assert found is not None, text
    return found.group(1)


async def domains(d: Driver) -> None:
    manual = (await d.call("POST", "/v3/whitelabel/domains", 201, json={"domain": "shop.example"})).json()
    automatic = {"domain": "news.example", "automatic_security": True, "default": True}
    await d.call("POST", "/v3/whitelabel/domains", 201, json=automatic)
    await d.call("POST", "/v3/whitelabel/domains", 400, json={"domain": "not a domain"})
    await d.call("GET", "/v3/whitelabel/domains", 200, params={"limit": 5})
    await d.call("GET", "/v3/whitelabel/domains/default", 200)
    domain = f"/v3/whitelabel/domains/{manual['id']}"
    await d.call("GET", domain, 200)
    await d.call("GET", "/v3/whitelabel/domains/999999", 404)
    await d.call("PATCH", domain, 200, json={"custom_spf": True})
    await d.call("PATCH", domain, 400, json={"default": "yes"})
    await d.call("POST", f"{domain}/validate", 200)
    await d.call("POST", "/v3/whitelabel/domains/999999/validate", 404)
    await d.call("DELETE", domain, 204)
    await d.call("DELETE", domain, 404)


async def suppression_groups(d: Driver) -> None:
    group = {"name": "Newsletters", "description": "Weekly news", "is_default": False}
    created = (await d.call("POST", "/v3/asm/groups", 201, json=group)).json()
    await d.call("POST", "/v3/asm/groups", 400, json={"description": "no name"})
    await d.call("GET", "/v3/asm/groups", 200)
    path = f"/v3/asm/groups/{created['id']}"
    await d.call("GET", path, 200)
    await d.call("GET", "/v3/asm/groups/999999", 404)
    await d.call("PATCH", path, 201, json={"description": "Monthly news"})
    emails = {"recipient_emails": ["a@example.com", "b@example.com"]}
    await d.call("POST", f"{path}/suppressions", 201, json=emails)
    await d.call("POST", f"{path}/suppressions", 400, json={"recipient_emails": "a@example.com"})
    await d.call("GET", f"{path}/suppressions", 200)
    await d.call("POST", f"{path}/suppressions/search", 200, json={"recipient_emails": ["a@example.com"]})
    await d.call("DELETE", f"{path}/suppressions/a@example.com", 204)
    await d.call("GET", "/v3/asm/suppressions", 200)
    await d.call("GET", "/v3/asm/suppressions/b@example.com", 200)
    await d.call("POST", "/v3/asm/suppressions/global", 201, json={"recipient_emails": ["g@example.com"]})
    await d.call("GET", "/v3/asm/suppressions/global/g@example.com", 200)
    await d.call("DELETE", "/v3/asm/suppressions/global/g@example.com", 204)
    await d.call("GET", "/v3/asm/suppressions/global/g@example.com", 200)
    await d.call("DELETE", path, 204)
    await d.call("DELETE", path, 404)


async def suppression_lists(d: Driver, db: Database) -> None:
    for kind, path in (("bounce", "bounces"), ("block", "blocks"), ("invalid_email", "invalid_emails"),
                       ("spam_report", "spam_reports"), ("global_unsubscribe", "unsubscribes")):  # fmt: skip
        suppressions.seed(db, d.keys.default, kind, f"{path}@example.com", reason="550 5.1.1 mailbox unavailable")
        suppressions.seed(db, d.keys.default, kind, f"other-{path}@example.com")
        await d.call("GET", f"/v3/suppression/{path}", 200)
        await d.call("GET", f"/v3/suppression/{path}", 401, key=None)
        if path == "unsubscribes":
            continue
        await d.call("GET", f"/v3/suppression/{path}/{path}@example.com", 200)
        await d.call("DELETE", f"/v3/suppression/{path}/{path}@example.com", 204)
        await d.call("DELETE", f"/v3/suppression/{path}", 204, json={"emails": [f"other-{path}@example.com"]})
        await d.call("DELETE", f"/v3/suppression/{path}", 400, json={})
    await d.call("GET", "/v3/suppression/bounces/classifications", 200)
    await d.call("GET", "/v3/suppression/bounces/classifications", 200, headers={"Accept": "text/csv"})
    await d.call("GET", "/v3/suppression/bounces/classifications/Technical%20Failure", 200)
    await d.call("GET", "/v3/suppression/bounces/classifications/Nonsense", 404)
