"""A real uvicorn with its background dispatcher: set the Event Webhook up with the official Python SDK, send
mail, and check the signed POST that reaches a receiver with the SDKs' own EventWebhook helpers (Python, Node)."""

from __future__ import annotations

import json
import time

import pytest
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, CustomArg, Mail

from tests.conftest import Keys
from tests.support.node import NodeRunner, node_runner
from tests.support.webhooks import ALL_EVENTS, SIGNATURE, TIMESTAMP, Received, Receiver, receiver

pytestmark = pytest.mark.contract
__all__ = ["receiver"]

WAIT_SECONDS = 60


def _set_up_and_send(base_url: str, key: str, receiver: Receiver) -> str:
    """What a developer does with the SDK: settings, signing, one send; returns the public key."""
    client = SendGridAPIClient(api_key=key, host=base_url)
    settings = {"enabled": True, "url": receiver.url, **dict.fromkeys(ALL_EVENTS, True)}
    assert client.client.user.webhooks.event.settings.patch(request_body=settings).status_code == 200
    signed = client.client.user.webhooks.event.settings.signed.patch(request_body={"enabled": True})
    public_key: str = json.loads(signed.body)["public_key"]
    message = Mail(
        from_email="shop@example.com", to_emails="ann@example.com", subject="Order", plain_text_content="Thanks"
    )
    message.category = Category("orders")
    message.custom_arg = CustomArg("order", "42")
    assert client.send(message).status_code == 202
    return public_key


def _first_post(receiver: Receiver) -> Received:
    """The background dispatcher's first POST (it runs every second; waiting is not what is tested)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not receiver.posts:
        assert time.monotonic() < deadline, "no Event Webhook POST arrived"
        time.sleep(0.2)
    return receiver.posts[0]


def test_the_python_sdk_helper_verifies_the_background_post(base_url: str, keys: Keys, receiver: Receiver) -> None:
    public_key = _set_up_and_send(base_url, keys.default, receiver)
    post = _first_post(receiver)
    assert post.verified_by_the_sdk(public_key)
    [processed, delivered] = post.events
    assert (processed["event"], delivered["event"]) == ("processed", "delivered")
    assert (processed["category"], processed["order"]) == (["orders"], "42")


@pytest.mark.node
def test_the_node_sdk_helper_verifies_the_background_post(base_url: str, keys: Keys, receiver: Receiver) -> None:
    node: NodeRunner = node_runner()
    public_key = _set_up_and_send(base_url, keys.default, receiver)
    post = _first_post(receiver)
    check = {"publicKey": public_key, "signature": post.headers[SIGNATURE], "timestamp": post.headers[TIMESTAMP]}
    assert node.run("event_webhook_verify.js", {**check, "payload": post.body.decode()}) == {"verified": True}
    tampered = post.body.decode().replace("processed", "dropped")
    assert node.run("event_webhook_verify.js", {**check, "payload": tampered}) == {"verified": False}
