"""The official Python SDK sends through the mirror; what it sent is found by its X-Message-Id."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    Category,
    Content,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    From,
    Mail,
    MailSettings,
    Personalization,
    SandBoxMode,
    To,
)

from tests.conftest import Keys

pytestmark = pytest.mark.contract


def _mail() -> Mail:
    message = Mail(from_email=From("shop@example.com", "Shop"), subject="Your order")
    message.add_content(Content("text/plain", "Thanks for your order"))
    message.add_content(Content("text/html", "<p>Thanks for your order</p>"))
    for address in ("ann@example.com", "ben@example.com"):
        personalization = Personalization()
        personalization.add_to(To(address))
        personalization.add_custom_arg(CustomArg("customer", address.split("@")[0]))
        message.add_personalization(personalization)
    message.add_category(Category("orders"))
    message.add_custom_arg(CustomArg("campaign", "spring"))
    message.attachment = Attachment(
        FileContent(base64.b64encode(b"receipt body").decode()), FileName("receipt.txt"), FileType("text/plain"),
        Disposition("attachment"),
    )  # fmt: skip
    return message


def test_sdk_send_is_stored_and_found_by_its_message_id(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)
    response = sg.send(_mail())
    assert response.status_code == 202
    message_id = response.headers["X-Message-Id"]

    stored = httpx.get(f"{base_url}/_mirror/messages/{message_id}").json()
    assert sorted(stored["to"]) == ["ann@example.com", "ben@example.com"]
    assert stored["categories"] == ["orders"]
    assert {"campaign": "spring", "customer": "ben"} in [e["custom_args"] for e in stored["envelopes"]]
    attachment = httpx.get(f"{base_url}/_mirror/messages/{message_id}/attachments/0")
    assert attachment.content == b"receipt body"

    activity = sg.client.messages.get(query_params={"query": f'msg_id LIKE "{message_id}%"', "limit": 10})
    found = json.loads(activity.body)["messages"]
    assert sorted(m["to_email"] for m in found) == ["ann@example.com", "ben@example.com"]
    assert all(m["msg_id"].startswith(message_id) for m in found)


def test_sdk_sandbox_send_is_200(base_url: str, keys: Keys) -> None:
    message = _mail()
    message.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    response = SendGridAPIClient(api_key=keys.default, host=base_url).send(message)
    assert response.status_code == 200


def test_sdk_reads_validation_errors(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)
    with pytest.raises(http_errors.BadRequestsError) as error:
        sg.client.mail.send.post(request_body={"personalizations": [{"to": [{"email": "x@example.com"}]}]})
    fields = [e["field"] for e in error.value.to_dict["errors"]]
    assert fields == ["from.email", "subject", "content"]
