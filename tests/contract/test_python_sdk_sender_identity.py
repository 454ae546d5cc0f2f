"""The official Python SDK meets sender identity, quotas and scheduled sends on a real uvicorn."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import BatchId, Mail, SendAt

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.kernel.errors import SENDER_NOT_VERIFIED
from app.main import create_app
from tests.conftest import Keys
from tests.support.server import serve

pytestmark = pytest.mark.contract

LINK = re.compile(r"(http://\S+/_mirror/senders/verify/[A-Za-z0-9_-]{43})")
FREE = {"name": "org.ei.free.v1", "type": "package", "quantity": 1}


@pytest.fixture
def strict_url(db: Database, settings: Settings) -> Iterator[str]:
    app: FastAPI = create_app(settings.model_copy(update={"require_verified_sender": True}), database=db)
    with serve(app) as url:
        yield url


def _mail(to: str = "ann@example.com") -> Mail:
    return Mail(from_email="shop@example.com", to_emails=to, subject="Your order", plain_text_content="Thanks!")


def test_an_unverified_from_is_refused_until_the_emailed_link_is_followed(strict_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=strict_url)
    with pytest.raises(http_errors.ForbiddenError) as refused:
        sg.send(_mail())
    assert json.loads(refused.value.body) == {
        "errors": [{"message": SENDER_NOT_VERIFIED, "field": "from", "help": None}]
    }

    sender = {"nickname": "Shop", "from_email": "shop@example.com", "reply_to": "shop@example.com"}
    created = sg.client.verified_senders.post(request_body=sender)
    assert created.status_code == 201
    assert json.loads(created.body)["verified"] is False

    captured = httpx.get(f"{strict_url}/_mirror/messages/wait", params={"to": "shop@example.com", "since": "0"}).json()
    text = httpx.get(f"{strict_url}/_mirror/messages/{captured['id']}/text").text
    link = LINK.search(text)
    assert link is not None
    assert link.group(1).startswith(strict_url)
    assert httpx.get(link.group(1)).status_code == 200

    assert sg.send(_mail()).status_code == 202
    steps = sg.client.verified_senders.steps_completed.get()
    assert json.loads(steps.body) == {"results": {"sender_verified": True, "domain_verified": False}}


def test_the_101st_recipient_of_a_free_account_is_refused(base_url: str, keys: Keys) -> None:
    partner = SendGridAPIClient(api_key=keys.partner, host=base_url)
    account = partner.client.partners.accounts.post(
        request_body={"profile": {"email": "free@shop.example"}, "offerings": [FREE]}
    )
    account_id = json.loads(account.body)["account_id"]
    partner.client.request_headers["On-Behalf-Of"] = f"account-id {account_id}"
    created = partner.client.api_keys.post(request_body={"name": "free"})
    sg = SendGridAPIClient(api_key=json.loads(created.body)["api_key"], host=base_url)
    for _ in range(4):
        assert sg.send(_mail([f"r{i}@example.com" for i in range(25)])).status_code == 202
    with pytest.raises(http_errors.UnauthorizedError) as refused:
        sg.send(_mail("one-more@example.com"))
    assert json.loads(refused.value.body) == {
        "errors": [{"message": "Maximum credits exceeded", "field": None, "help": None}]
    }


def _delivered(base_url: str, message_id: str) -> bool:
    detail = httpx.get(f"{base_url}/_mirror/messages/{message_id}").json()
    return bool(detail["status"] == "sent")


def test_a_send_two_hours_ahead_waits_for_the_mirror_clock(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)
    message = _mail()
    message.send_at = SendAt(int(time.time()) + 2 * 3600)
    message_id = sg.send(message).headers["X-Message-Id"]
    time.sleep(1.5)
    httpx.post(f"{base_url}/_mirror/clock/advance", json={"seconds": 3600})
    assert not _delivered(base_url, message_id)
    httpx.post(f"{base_url}/_mirror/clock/advance", json={"seconds": 3601})
    assert _delivered(base_url, message_id)


def test_cancelling_the_batch_first_means_it_never_delivers(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)
    batch_id = json.loads(sg.client.mail.batch.post().body)["batch_id"]
    message = _mail()
    message.send_at = SendAt(int(time.time()) + 2 * 3600)
    message.batch_id = BatchId(batch_id)
    message_id = sg.send(message).headers["X-Message-Id"]
    cancelled = sg.client.user.scheduled_sends.post(request_body={"batch_id": batch_id, "status": "cancel"})
    assert cancelled.status_code == 201
    httpx.post(f"{base_url}/_mirror/clock/advance", json={"seconds": 3 * 3600})
    time.sleep(1.5)
    detail = httpx.get(f"{base_url}/_mirror/messages/{message_id}").json()
    assert detail["status"] == "cancelled"
    assert [e["event"] for e in detail["recipients"][0]["events"]] == ["processed", "dropped"]


def test_the_background_scheduler_delivers_on_time(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)
    message = _mail()
    message.send_at = SendAt(int(time.time()) + 2)
    message_id = sg.send(message).headers["X-Message-Id"]
    assert not _delivered(base_url, message_id)
    deadline = time.monotonic() + 15
    while not _delivered(base_url, message_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _delivered(base_url, message_id)
