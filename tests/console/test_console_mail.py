"""The console inbox: who sees which mail, search, paging, polling, the message views, delete and clear."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import Keys, bearer
from tests.support.accounts import create_customer, customer_key
from tests.support.console import give_password, sign_in, submit
from tests.support.mail import body, rich

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(db: Database, scratch_dir: Path) -> FastAPI:
    """Sender verification off: these tests are about reading mail, not about who may send it."""
    return create_app(
        Settings(data_dir=scratch_dir / "data", require_verified_sender=False, trusted_hosts="mirror.test"), database=db
    )


async def send(client: httpx.AsyncClient, key: str, payload: dict[str, Any]) -> str:
    response = await client.post("/v3/mail/send", headers=bearer(key), json=payload)
    assert response.status_code == 202, response.text
    message_id: str = response.headers["x-message-id"]
    return message_id


def subjects(page: httpx.Response) -> list[str]:
    return re.findall(r'<td class="subject"><a href="[^"]+">([^<]*)</a>', page.text)


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, keys: Keys, db: Database) -> httpx.AsyncClient:
    give_password(db, "default")
    assert (await sign_in(client, "default")).status_code == 303
    return client


async def test_the_inbox_shows_the_accounts_own_mail_newest_first(
    signed_in: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    client = signed_in
    other = await customer_key(client, keys.partner, await create_customer(client, keys.partner))
    await send(client, keys.default, body(subject="first"))
    await send(client, other, body(subject="not yours"))
    second = await send(client, keys.default, body(subject="second"))
    inbox = await client.get("/console/mail")
    assert inbox.status_code == 200
    assert subjects(inbox) == ["second", "first"]
    assert f'data-newest="{second}"' in inbox.text
    assert (await client.get("/console/mail/poll")).json() == {"total": 2, "newest": second}
    foreign = await send(client, other, body(subject="still not yours"))
    assert (await client.get(f"/console/mail/{foreign}")).status_code == 404
    assert (await client.get(f"/console/mail/{foreign}/raw")).status_code == 404


async def test_search_by_to_from_subject_category_and_date(signed_in: httpx.AsyncClient, keys: Keys) -> None:
    client = signed_in
    await send(client, keys.default, body(subject="Invoice 1", categories=["billing"]))
    welcome = body(subject="Welcome", personalizations=[{"to": [{"email": "Zed@Example.org"}]}])
    await send(client, keys.default, {**welcome, "from": {"email": "hi@shop.example"}})
    assert subjects(await client.get("/console/mail", params={"to": "zed@"})) == ["Welcome"]
    assert subjects(await client.get("/console/mail", params={"from": "SHOP"})) == ["Welcome"]
    assert subjects(await client.get("/console/mail", params={"subject": "invoice"})) == ["Invoice 1"]
    assert subjects(await client.get("/console/mail", params={"category": "billing"})) == ["Invoice 1"]
    assert subjects(await client.get("/console/mail", params={"since": "2000-01-01", "until": "2000-01-02"})) == []
    assert len(subjects(await client.get("/console/mail", params={"since": "2000-01-01"}))) == 2
    none = await client.get("/console/mail", params={"subject": "nothing like this"})
    assert "No message matches this search." in none.text
    assert (await client.get("/console/mail/poll", params={"subject": "invoice"})).json()["total"] == 1
    bad = await client.get("/console/mail", params={"since": "yesterday"})
    assert bad.status_code == 400
    assert "Dates look like 2026-11-22." in bad.text


async def test_the_inbox_pages_by_fifty(signed_in: httpx.AsyncClient, keys: Keys) -> None:
    client = signed_in
    for n in range(51):
        await send(client, keys.default, body(subject=f"m{n:02d}"))
    first = await client.get("/console/mail")
    assert len(subjects(first)) == 50
    assert subjects(first)[0] == "m50"
    assert "1–50 of 51" in first.text
    older = re.search(r'href="(/console/mail\?offset=50&amp;cursor=[^"]+)" rel="next"', first.text)
    assert older is not None
    second = await client.get(html.unescape(older.group(1)))
    assert subjects(second) == ["m00"]
    assert "51–51 of 51" in second.text
    assert 'rel="next"' not in second.text
    assert 'href="/console/mail" rel="prev"' in second.text
    assert 'data-first-page="no"' in second.text
    by_offset = await client.get("/console/mail", params={"offset": 50})
    assert subjects(by_offset) == ["m00"]


async def test_the_message_page_shows_every_view(signed_in: httpx.AsyncClient, keys: Keys) -> None:
    client = signed_in
    message_id = await send(client, keys.default, rich())
    base = f"/console/mail/{message_id}"
    page = await client.get(base)
    assert page.status_code == 200
    iframe = re.search(r"<iframe[^>]*>", page.text)
    assert iframe is not None
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in iframe.group(0)
    assert "allow-scripts" not in iframe.group(0)
    assert "allow-same-origin" not in iframe.group(0)
    assert "receipts" in page.text
    assert "invoice.pdf" in page.text
    assert f'src="{base}/attachments/0?p=0&amp;inline=1"' in page.text
    assert "delivered" in page.text
    assert "carol@example.com" in page.text
    text = await client.get(base, params={"tab": "text"})
    assert "Hello Alice" in text.text
    headers = await client.get(base, params={"tab": "headers"})
    assert "<td>Subject</td><td>For Alice Alice</td>" in headers.text
    raw = await client.get(base, params={"tab": "raw"})
    assert "Content-Type: multipart/mixed" in raw.text
    second = await client.get(base, params={"p": 1, "tab": "headers"})
    assert "dave@example.com" in second.text


async def test_the_html_body_is_sandboxed_and_remote_images_wait_until_asked(
    signed_in: httpx.AsyncClient, keys: Keys
) -> None:
    client = signed_in
    html = '<p>Hi</p><img src="cid:logo"><img src="https://tracker.example/pixel.gif"><script>alert(1)</script>'
    payload = rich()
    payload["content"] = [{"type": "text/plain", "value": "Hi"}, {"type": "text/html", "value": html}]
    message_id = await send(client, keys.default, payload)
    base = f"/console/mail/{message_id}"
    document = await client.get(f"{base}/html")
    policy = document.headers["content-security-policy"]
    assert policy.startswith("sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'")
    assert "img-src data:;" in policy
    assert "script-src" not in policy
    assert "data:image/png;base64," in document.text
    assert '<base target="_blank">' in document.text
    page = await client.get(base)
    assert "Remote images and styles are blocked." in page.text
    shown = await client.get(f"{base}/html", params={"images": 1})
    assert "img-src data: http: https:;" in shown.headers["content-security-policy"]
    plain = await send(client, keys.default, body(content=[{"type": "text/plain", "value": "only text"}]))
    assert (await client.get(f"/console/mail/{plain}/html")).status_code == 404
    assert "only text" in (await client.get(f"/console/mail/{plain}")).text
    assert "This message has no HTML part." in (await client.get(f"/console/mail/{plain}?tab=html")).text


async def test_attachments_and_raw_source_download(signed_in: httpx.AsyncClient, keys: Keys) -> None:
    client = signed_in
    message_id = await send(client, keys.default, rich())
    base = f"/console/mail/{message_id}"
    pdf = await client.get(f"{base}/attachments/1")
    assert pdf.content == b"%PDF-1.4 test"
    assert pdf.headers["content-disposition"] == 'attachment; filename="invoice.pdf"'
    assert pdf.headers["content-security-policy"].startswith("sandbox;")
    image = await client.get(f"{base}/attachments/0", params={"inline": 1})
    assert image.headers["content-disposition"] == 'inline; filename="logo.png"'
    assert image.headers["content-type"] == "image/png"
    not_inline = await client.get(f"{base}/attachments/1", params={"inline": 1})
    assert not_inline.headers["content-disposition"].startswith("attachment;")
    assert (await client.get(f"{base}/attachments/9")).status_code == 404
    eml = await client.get(f"{base}/raw")
    assert eml.headers["content-type"] == "message/rfc822"
    assert eml.headers["content-disposition"] == f'attachment; filename="{message_id}-0.eml"'
    assert b"Subject: For Alice Alice" in eml.content
    # One rendering, stored on first read: the console and /_mirror/ show the same bytes.
    assert eml.content == (await client.get(f"/_mirror/messages/{message_id}/raw")).content


async def test_delete_and_clear_touch_only_this_inbox(signed_in: httpx.AsyncClient, keys: Keys) -> None:
    client = signed_in
    other = await customer_key(client, keys.partner, await create_customer(client, keys.partner))
    theirs = await send(client, other, body(subject="theirs"))
    gone = await send(client, keys.default, body(subject="gone"))
    await send(client, keys.default, body(subject="kept"))
    deleted = await submit(client, f"/console/mail/{gone}/delete", {}, page=f"/console/mail/{gone}")
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/console/mail")
    assert subjects(await client.get("/console/mail")) == ["kept"]
    refused = await client.post("/console/mail/clear", data={"csrf_token": "nope"})
    assert refused.status_code == 403
    assert subjects(await client.get("/console/mail")) == ["kept"]
    await submit(client, "/console/mail/clear", {}, page="/console/mail")
    assert subjects(await client.get("/console/mail")) == []
    assert (await client.get(f"/_mirror/messages/{theirs}")).status_code == 200


async def test_a_partner_sees_its_customers_mail(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    customer = await create_customer(client, keys.partner)
    await send(client, await customer_key(client, keys.partner, customer), body(subject="from a customer"))
    await send(client, keys.default, body(subject="from default"))
    give_password(db, "partner")
    await sign_in(client, "partner")
    inbox = await client.get("/console/mail")
    assert subjects(inbox) == ["from default", "from a customer"]
    assert '<th scope="col">Account</th>' in inbox.text


async def test_all_mail_is_the_admins_view(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    await send(client, keys.default, body(subject="one"))
    everything = await client.get("/console/all-mail")
    assert (everything.status_code, subjects(everything)) == (200, ["one"])
    outside = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=client._transport.app, client=("203.0.113.9", 5000)),  # type: ignore[attr-defined]
        base_url="http://mirror.test",
    )
    async with outside:
        refused = await outside.get("/console/all-mail")
        assert refused.status_code == 403
        assert "loopback visitors only" in refused.text


async def test_the_admin_token_opens_all_mail_in_a_browser(db: Database, keys: Keys, scratch_dir: Path) -> None:
    app = create_app(
        Settings(data_dir=scratch_dir / "data", admin_token="s3cret-admin", trusted_hosts="mirror.test"), database=db
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test") as browser:
        assert (await browser.get("/console/all-mail")).status_code == 403
        wrong = await submit(browser, "/console/admin", {"token": "guess"})
        assert wrong.status_code == 403
        opened = await submit(browser, "/console/admin", {"token": "s3cret-admin"})
        assert (opened.status_code, opened.headers["location"]) == (303, "/console/all-mail")
        assert "SameSite=strict" in opened.headers["set-cookie"]
        assert (await browser.get("/console/all-mail")).status_code == 200
        closed = await submit(browser, "/console/admin/logout", {}, page="/console/admin")
        assert closed.status_code == 303
        assert (await browser.get("/console/all-mail")).status_code == 403


async def test_unknown_console_pages_are_404_pages(client: httpx.AsyncClient, keys: Keys) -> None:
    missing = await client.get("/console/no/such/page")
    assert missing.status_code == 404
    assert "There is no such page in the console." in missing.text
    assert missing.headers["content-type"].startswith("text/html")


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient, keys: Keys) -> None:
    for path in ("/console/mail", "/console/mail/abc", "/console/account", "/console/api-keys"):
        response = await client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login"), path
