"""The official Node SDKs (@sendgrid/client and @sendgrid/mail 8.1.6) against a real uvicorn, as their READMEs use them.

Each test runs a script of tests/node with Node.js; the scripts print the SDK's response or ResponseError as JSON.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import Keys
from tests.support.node import NodeRunner, node_runner

pytestmark = [pytest.mark.contract, pytest.mark.node]

KEY_PATTERN = re.compile(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def _route_exists(method: str, path: str) -> bool:
    """Whether the app serves `method path`, read from its OpenAPI document (routers nest in recent FastAPI)."""
    database = Database("sqlite://")
    try:
        paths = create_app(Settings(), database=database).openapi().get("paths", {})
        return method.lower() in paths.get(path, {})
    finally:
        database.dispose()


MAIL_SEND_MISSING = not _route_exists("POST", "/v3/mail/send")
INSPECTION_MISSING = not _route_exists("GET", "/_mirror/messages/{message_id}")
needs_mail_send = pytest.mark.skipif(MAIL_SEND_MISSING, reason="POST /v3/mail/send is not built yet")


@pytest.fixture(scope="session")
def node() -> NodeRunner:
    return node_runner()


def _request(node: NodeRunner, base_url: str, key: str, *requests: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = node.run(
        "client_request.js", {"baseUrl": base_url, "apiKey": key, "requests": list(requests)}
    )["results"]
    return results


def _create_key(node: NodeRunner, base_url: str, key: str, scopes: list[str]) -> dict[str, Any]:
    [created] = _request(
        node, base_url, key, {"method": "POST", "url": "/v3/api_keys", "body": {"scopes": scopes, "name": "node"}}
    )
    assert created["statusCode"] == 201, created
    body: dict[str, Any] = created["body"]
    return body


def test_client_reads_the_calling_keys_scopes(node: NodeRunner, base_url: str, keys: Keys) -> None:
    [scopes] = _request(node, base_url, keys.default, {"method": "GET", "url": "/v3/scopes"})
    assert scopes["ok"], scopes
    assert scopes["statusCode"] == 200
    assert {"mail.send", "api_keys.create", "api_keys.read"} <= set(scopes["body"]["scopes"])
    assert scopes["headers"]["content-type"].startswith("application/json")


def test_client_runs_an_api_keys_life(node: NodeRunner, base_url: str, keys: Keys) -> None:
    steps = node.run(
        "api_keys.js",
        {"baseUrl": base_url, "apiKey": keys.default, "name": "node key", "scopes": ["mail.send", "alerts.read"]},
    )
    created = steps["created"]
    assert created["statusCode"] == 201, created
    assert KEY_PATTERN.fullmatch(created["body"]["api_key"])
    key_id = created["body"]["api_key_id"]
    assert created["body"] == {
        "api_key": created["body"]["api_key"],
        "api_key_id": key_id,
        "name": "node key",
        "scopes": ["alerts.read", "mail.send"],
    }

    assert steps["listed"]["statusCode"] == 200
    assert {"api_key_id": key_id, "name": "node key"} in steps["listed"]["body"]["result"]
    assert steps["fetched"]["body"] == {
        "api_key_id": key_id,
        "name": "node key",
        "scopes": ["alerts.read", "mail.send"],
    }

    deleted = steps["deleted"]
    assert deleted["statusCode"] == 204
    assert deleted["body"] in ("", None)

    gone = steps["gone"]
    assert (gone["ok"], gone["name"], gone["code"], gone["message"]) == (False, "ResponseError", 404, "Not Found")
    assert gone["body"] == {"errors": [{"field": None, "message": "not found"}]}


def test_client_rejects_with_the_mirrors_error_envelope(node: NodeRunner, base_url: str, keys: Keys) -> None:
    send_only = _create_key(node, base_url, keys.default, ["mail.send"])

    [forbidden] = _request(node, base_url, send_only["api_key"], {"method": "GET", "url": "/v3/api_keys"})
    assert (forbidden["ok"], forbidden["name"]) == (False, "ResponseError")
    assert forbidden["code"] == 403
    assert forbidden["message"] == "Forbidden"
    assert forbidden["body"]["errors"][0]["message"] == "access forbidden"
    assert forbidden["body"] == {"errors": [{"field": None, "message": "access forbidden"}]}
    assert "access forbidden" in forbidden["text"]

    [deleted] = _request(
        node, base_url, keys.default, {"method": "DELETE", "url": f"/v3/api_keys/{send_only['api_key_id']}"}
    )
    assert deleted["statusCode"] == 204
    [revoked] = _request(node, base_url, send_only["api_key"], {"method": "GET", "url": "/v3/scopes"})
    assert (revoked["code"], revoked["message"]) == (401, "Unauthorized")
    assert revoked["body"]["errors"][0]["message"] == "The provided authorization grant is invalid, expired, or revoked"


ATTACHMENT = base64.b64encode(b"order,total\n42,19.99\n").decode()


def _full_message() -> dict[str, Any]:
    """What a Node user passes to sgMail.send: camelCase fields the SDK turns into the v3 body."""
    return {
        "to": ["first@example.com", {"email": "second@example.com", "name": "Second"}],
        "from": {"email": "sender@example.com", "name": "Node SDK"},
        "replyTo": "replies@example.com",
        "subject": "Your order 42",
        "text": "Thanks for your order.",
        "html": "<p>Thanks for your <strong>order</strong>.</p>",
        "attachments": [
            {"content": ATTACHMENT, "filename": "order.csv", "type": "text/csv", "disposition": "attachment"}
        ],
        "categories": ["orders", "node-sdk"],
        "customArgs": {"order_id": "42", "source": "node"},
    }


@needs_mail_send
def test_mail_sends_a_full_message_to_two_personalizations(node: NodeRunner, base_url: str, keys: Keys) -> None:
    result = node.run(
        "mail_send.js", {"baseUrl": base_url, "apiKey": keys.default, "message": _full_message(), "isMultiple": True}
    )
    assert result["ok"], result
    assert result["statusCode"] == 202
    assert result["body"] in ("", None)
    assert MESSAGE_ID.fullmatch(result["messageId"] or ""), result["headers"]

    if INSPECTION_MISSING:
        return
    stored = httpx.get(f"{base_url}/_mirror/messages/{result['messageId']}", timeout=10).json()
    assert stored["personalizations"] == 2
    assert stored["to"] == ["first@example.com", "second@example.com"]
    assert stored["categories"] == ["orders", "node-sdk"]
    assert stored["custom_args"] == {"order_id": "42", "source": "node"}
    # What the SDK put on the wire: isMultiple gives one personalization per recipient, camelCase becomes snake_case.
    sent = stored["request"]
    assert [p["to"] for p in sent["personalizations"]] == [
        [{"email": "first@example.com"}],
        [{"email": "second@example.com", "name": "Second"}],
    ]
    assert sent["reply_to"] == {"email": "replies@example.com"}
    assert [c["type"] for c in sent["content"]] == ["text/plain", "text/html"]
    assert sent["attachments"][0]["filename"] == "order.csv"


@needs_mail_send
def test_mail_rejects_an_invalid_message_with_the_mail_error_envelope(
    node: NodeRunner, base_url: str, keys: Keys
) -> None:
    message = _full_message()
    del message["from"]
    result = node.run("mail_send.js", {"baseUrl": base_url, "apiKey": keys.default, "message": message})
    assert (result["ok"], result["name"], result["code"], result["message"]) == (
        False,
        "ResponseError",
        400,
        "Bad Request",
    )
    errors = result["body"]["errors"]
    assert errors
    for error in errors:
        assert list(error) == ["message", "field", "help"]
        assert isinstance(error["message"], str)
        assert error["message"]
    # CONTRACT §3 row 5: a missing `from` is reported on the field `from.email`.
    [missing_from] = [error for error in errors if error["field"] == "from.email"]
    assert missing_from["message"].startswith("The from object must be provided for every email send.")
    assert errors[0]["message"] in result["text"]
