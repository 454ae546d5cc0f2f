"""The official Python SDK manages templates and sends with `template_id` + `dynamic_template_data`."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes

import httpx
import pytest
from fastapi import FastAPI
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail, To

from tests.conftest import Keys
from tests.support.server import serve

pytestmark = pytest.mark.contract


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_sdk_template_send_stores_the_rendered_message(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)
    template = sg.client.templates.post(request_body={"name": "Receipt", "generation": "dynamic"}).to_dict
    version = {
        "name": "v1",
        "subject": "Receipt for {{customer.name}}",
        "html_content": "<p>{{customer.name}}, you paid {{total}}</p>{{#if vip}}<p>VIP</p>{{/if}}",
        "generate_plain_content": True,
    }
    created = sg.client.templates._(template["id"]).versions.post(request_body=version)
    assert created.status_code == 201
    assert created.to_dict["active"] == 1
    listed = sg.client.templates.get(query_params={"generations": "dynamic", "page_size": 10}).to_dict
    assert [t["id"] for t in listed["result"]] == [template["id"]]

    message = Mail(from_email="shop@example.com", to_emails=To("ann@example.com"))
    message.template_id = template["id"]
    message.dynamic_template_data = {"customer": {"name": "Ann O'Neil"}, "total": "$5", "vip": True}
    response = sg.send(message)
    assert response.status_code == 202
    message_id = response.headers["X-Message-Id"]

    raw = httpx.get(f"{base_url}/_mirror/messages/{message_id}/raw").content
    eml = message_from_bytes(raw)
    assert eml["Subject"] == "Receipt for Ann O&apos;Neil"
    html = httpx.get(f"{base_url}/_mirror/messages/{message_id}/html").text
    assert html == "<p>Ann O&apos;Neil, you paid $5</p><p>VIP</p>\r\n"
    text = httpx.get(f"{base_url}/_mirror/messages/{message_id}/text").text
    assert text.replace("\r\n", "\n").strip() == "Ann O&apos;Neil, you paid $5\nVIP"
