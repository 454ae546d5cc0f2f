"""Mail send with `template_id`: the active version rendered per personalization and stored as sent."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest

from app.templates import service as templates
from tests.conftest import Keys, bearer
from tests.support.accounts import create_customer, customer_key

pytestmark = pytest.mark.anyio

HTML = "<p>Hello {{name}}</p>{{#each items}}<li>{{this}}</li>{{/each}}"
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.template_id"


async def _template(client: httpx.AsyncClient, key: str, generation: str = "dynamic", **version: Any) -> str:
    made = await client.post("/v3/templates", headers=bearer(key), json={"name": "T", "generation": generation})
    template_id: str = made.json()["id"]
    if version:
        body = {"name": "v1", **version}
        created = await client.post(f"/v3/templates/{template_id}/versions", headers=bearer(key), json=body)
        assert created.status_code == 201, created.text
    return template_id


def _send_body(template_id: str, *personalizations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "personalizations": list(personalizations) or [{"to": [{"email": "ann@example.com"}]}],
        "from": {"email": "shop@example.com"},
        "template_id": template_id,
        **extra,
    }


async def _send(client: httpx.AsyncClient, key: str, payload: dict[str, Any]) -> str:
    response = await client.post("/v3/mail/send", headers=bearer(key), json=payload)
    assert response.status_code == 202, response.text
    return response.headers["x-message-id"]


async def _eml(client: httpx.AsyncClient, message_id: str, position: int = 0) -> Message:
    raw = await client.get(f"/_mirror/messages/{message_id}/raw", params={"personalization": position})
    return message_from_bytes(raw.content)


def _parts(message: Message) -> dict[str, str]:
    """Each leaf part's text, line breaks as LF, without the final one MIME adds."""
    return {
        part.get_content_type(): part.get_payload(decode=True).decode().replace("\r\n", "\n").removesuffix("\n")  # type: ignore[union-attr]
        for part in message.walk()
        if not part.is_multipart()
    }


async def test_the_rendered_subject_html_and_text_are_stored(client: httpx.AsyncClient, keys: Keys) -> None:
    template_id = await _template(client, keys.default, subject="Order for {{name}}", html_content=HTML)
    ann = {"to": [{"email": "ann@example.com"}], "dynamic_template_data": {"name": "Ann", "items": ["a", "b"]}}
    ben = {"to": [{"email": "ben@example.com"}], "dynamic_template_data": {"name": "Ben & Co", "items": []}}
    message_id = await _send(client, keys.default, _send_body(template_id, ann, ben))

    first, second = await _eml(client, message_id, 0), await _eml(client, message_id, 1)
    assert first["Subject"] == "Order for Ann"
    assert _parts(first) == {"text/plain": "Hello Ann\na\nb", "text/html": "<p>Hello Ann</p><li>a</li><li>b</li>"}
    assert second["Subject"] == "Order for Ben &amp; Co"
    assert _parts(second)["text/html"] == "<p>Hello Ben &amp; Co</p>"

    detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
    assert detail["subject"] == "Order for Ann"
    assert [e["subject"] for e in detail["envelopes"]] == ["Order for Ann", "Order for Ben &amp; Co"]
    assert (await client.get(f"/_mirror/messages/{message_id}/html")).text.startswith("<p>Hello Ann</p>")
    assert (await client.get(f"/_mirror/messages/{message_id}/text")).text.replace(
        "\r\n", "\n"
    ).strip() == "Hello Ann\na\nb"
    assert [e["event"] for e in detail["recipients"][0]["events"]] == ["processed", "delivered"]


async def test_the_activity_api_shows_the_rendered_subject(client: httpx.AsyncClient, keys: Keys) -> None:
    template_id = await _template(client, keys.default, subject="{{{greeting}}}, it's here", html_content="<p>x</p>")
    data = {"to": [{"email": "ann@example.com"}], "dynamic_template_data": {"greeting": "Bonjour"}}
    await _send(client, keys.default, _send_body(template_id, data))
    found = await client.get(
        "/v3/messages", headers=bearer(keys.default), params={"query": 'to_email="ann@example.com"'}
    )
    assert [m["subject"] for m in found.json()["messages"]] == ["Bonjour, it's here"]


async def test_a_template_subject_wins_and_an_empty_one_yields(client: httpx.AsyncClient, keys: Keys) -> None:
    with_subject = await _template(client, keys.default, subject="From the template", html_content="<p>x</p>")
    personal = {"to": [{"email": "ann@example.com"}], "subject": "From the request"}
    message_id = await _send(client, keys.default, _send_body(with_subject, personal))
    assert (await _eml(client, message_id))["Subject"] == "From the template"
    without = await _template(client, keys.default, subject="", html_content="<p>x</p>")
    message_id = await _send(client, keys.default, _send_body(without, personal))
    assert (await _eml(client, message_id))["Subject"] == "From the request"


async def test_a_new_active_version_is_used_at_once(client: httpx.AsyncClient, keys: Keys) -> None:
    template_id = await _template(client, keys.default, subject="one", html_content="<p>1</p>")
    await _send(client, keys.default, _send_body(template_id))
    second = await client.post(
        f"/v3/templates/{template_id}/versions",
        headers=bearer(keys.default),
        json={"name": "v2", "subject": "two", "html_content": "<p>2</p>", "active": 1},
    )
    assert second.status_code == 201
    message_id = await _send(client, keys.default, _send_body(template_id))
    assert (await _eml(client, message_id))["Subject"] == "two"


@pytest.mark.parametrize("template_id", ["not-a-guid", "d-123", "", "D-" + "0" * 32])
async def test_a_malformed_template_id_is_the_catalogue_error(
    client: httpx.AsyncClient, keys: Keys, template_id: str
) -> None:
    response = await client.post("/v3/mail/send", headers=bearer(keys.default), json=_send_body(template_id))
    assert response.status_code == 400
    assert {
        "message": f"The template_id must be a valid GUID, you provided '{template_id}'.",
        "field": "template_id",
        "help": HELP,
    } in response.json()["errors"]


async def test_unknown_or_inactive_templates_are_accepted_then_dropped(client: httpx.AsyncClient, keys: Keys) -> None:
    no_version = await _template(client, keys.default)
    foreign_key = await customer_key(client, keys.partner, await create_customer(client, keys.partner))
    foreign = await _template(client, foreign_key, subject="theirs", html_content="<p>theirs</p>")
    for template_id in ("d-" + "0" * 32, "00000000-0000-0000-0000-000000000000", no_version, foreign):
        message_id = await _send(client, keys.default, _send_body(template_id))
        detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
        [recipient] = detail["recipients"]
        assert recipient["status"] == "not_delivered", template_id
        assert [(e["event"], e["reason"]) for e in recipient["events"]] == [
            ("processed", None), ("dropped", templates.UNKNOWN_TEMPLATE)
        ]  # fmt: skip


async def test_a_version_that_cannot_render_drops_the_send(client: httpx.AsyncClient, keys: Keys) -> None:
    template_id = await _template(client, keys.default, subject="s", html_content="{{#if x}}never closed")
    message_id = await _send(client, keys.default, _send_body(template_id))
    detail = (await client.get(f"/_mirror/messages/{message_id}")).json()
    assert detail["recipients"][0]["events"][-1] == {
        "event": "dropped", "timestamp": detail["recipients"][0]["events"][-1]["timestamp"],
        "reason": templates.RENDER_FAILED, "detail": None,
    }  # fmt: skip


async def test_legacy_templates_wrap_the_body_and_subject(client: httpx.AsyncClient, keys: Keys) -> None:
    template_id = await _template(
        client, keys.default, "legacy", subject="[Shop] <%subject%>", html_content="<div><%body%></div>",
        generate_plain_content=False, plain_content="-- <%body%> --",
    )  # fmt: skip
    personal = {"to": [{"email": "ann@example.com"}], "substitutions": {"-name-": "Ann"}}
    payload = _send_body(
        template_id, personal, subject="Hi -name-",
        content=[{"type": "text/plain", "value": "Dear -name-"}, {"type": "text/html", "value": "<b>Dear -name-</b>"}],
    )  # fmt: skip
    eml = await _eml(client, await _send(client, keys.default, payload))
    assert eml["Subject"] == "[Shop] Hi Ann"
    assert _parts(eml) == {"text/plain": "-- Dear Ann --", "text/html": "<div><b>Dear Ann</b></div>"}


async def test_non_template_sends_are_untouched(client: httpx.AsyncClient, keys: Keys) -> None:
    payload = {
        "personalizations": [{"to": [{"email": "ann@example.com"}], "dynamic_template_data": {"x": 1}}],
        "from": {"email": "shop@example.com"},
        "subject": "Plain {{x}}",
        "content": [{"type": "text/plain", "value": "Body {{x}}"}],
    }
    eml = await _eml(client, await _send(client, keys.default, payload))
    assert eml["Subject"] == "Plain {{x}}"
    assert _parts(eml) == {"text/plain": "Body {{x}}"}
