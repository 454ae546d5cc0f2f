"""nodemailer 10.6.0 (tests/node/smtp_send.js) against the relay, configured as SendGrid's SMTP tutorials show."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import Keys
from tests.smtp.conftest import HOST, Mirror
from tests.support.node import NodeRunner, node_runner

pytestmark = pytest.mark.node

QUEUED = "250 Ok: queued as "
MESSAGE = {
    "from": "Example Shop <shop@example.com>",
    "to": "Ann <ann@example.com>",
    "subject": "Hello from nodemailer",
    "text": "Hello in text",
    "html": "<p>Hello in HTML</p>",
}


@pytest.fixture(scope="session")
def node() -> NodeRunner:
    return node_runner()


def _send(node: NodeRunner, port: int, *, secure: bool, key: str, user: str = "apikey", **message: Any) -> Any:
    payload = {"host": HOST, "port": port, "secure": secure, "user": user, "pass": key, "message": message}
    return node.run("smtp_send.js", payload)


def _message_id(result: dict[str, Any]) -> str:
    assert result["ok"], result
    assert result["response"].startswith(QUEUED), result
    return str(result["response"][len(QUEUED) :])


def test_the_starttls_tutorial_works(node: NodeRunner, mirror: Mirror, keys: Keys) -> None:
    result = _send(node, mirror.port, secure=False, key=keys.default, **MESSAGE)
    stored = mirror.stored(_message_id(result))
    assert (stored["transport"], stored["subject"], stored["to"]) == (
        "smtp",
        "Hello from nodemailer",
        ["ann@example.com"],
    )
    assert stored["from"] == {"email": "shop@example.com", "name": "Example Shop"}
    [envelope] = stored["envelopes"]
    assert (envelope["text"], envelope["html"]) == ("Hello in text", "<p>Hello in HTML</p>")
    assert result["accepted"] == ["ann@example.com"]


def test_the_implicit_tls_tutorial_works(node: NodeRunner, mirror: Mirror, keys: Keys) -> None:
    result = _send(node, mirror.tls_port, secure=True, key=keys.default, **MESSAGE)
    assert mirror.stored(_message_id(result))["subject"] == "Hello from nodemailer"


@pytest.mark.parametrize("user", ["sendgrid-user", "apikey "])
def test_a_wrong_username_is_535(node: NodeRunner, mirror: Mirror, keys: Keys, user: str) -> None:
    result = _send(node, mirror.port, secure=False, key=keys.default, user=user, **MESSAGE)
    assert result == {
        "ok": False,
        "code": "EAUTH",
        "responseCode": 535,
        "response": "535 Authentication credentials invalid",
    }
    assert mirror.total() == 0


def test_cc_bcc_reply_to_headers_and_attachments(node: NodeRunner, mirror: Mirror, keys: Keys) -> None:
    result = _send(
        node,
        mirror.tls_port,
        secure=True,
        key=keys.default,
        **{**MESSAGE, "html": '<p>Logo: <img src="cid:logo@shop"></p>'},
        cc="Carol <carol@example.com>",
        bcc="bob@example.com",
        replyTo="help@shop.example",
        headers={"X-SMTPAPI": '{"category": ["welcome"], "unique_args": {"user": "7"}}', "X-Order": "42"},
        attachments=[
            {"filename": "invoice.pdf", "content": base64.b64encode(b"%PDF-1.4").decode(), "encoding": "base64"},
            {"filename": "logo.png", "content": base64.b64encode(b"\x89PNG").decode(), "encoding": "base64",
             "cid": "logo@shop"},
        ],
    )  # fmt: skip
    message_id = _message_id(result)
    stored = mirror.stored(message_id)
    assert (stored["to"], stored["cc"], stored["bcc"]) == (
        ["ann@example.com"],
        ["carol@example.com"],
        ["bob@example.com"],
    )
    assert (stored["categories"], stored["custom_args"]) == (["welcome"], {"user": "7"})
    [envelope] = stored["envelopes"]
    assert ["X-Order", "42"] in envelope["headers"]
    assert ["Reply-To", "help@shop.example"] in envelope["headers"]
    found = {(a["filename"], a["content_type"], a["disposition"], a["content_id"]) for a in envelope["attachments"]}
    assert found == {
        ("invoice.pdf", "application/pdf", "attachment", None),
        ("logo.png", "image/png", "inline", "logo@shop"),
    }
    index = next(a["index"] for a in envelope["attachments"] if a["filename"] == "logo.png")
    assert mirror.get(f"/_mirror/messages/{message_id}/attachments/{index}").content == b"\x89PNG"
