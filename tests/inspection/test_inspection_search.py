"""/_mirror/messages: the `text` word search over subjects and bodies (before and after the word indexer has
passed), and unknown query parameters refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from app.inspection import indexer
from app.inspection import service as inspection
from app.kernel.db.session import Database
from app.mail import mime
from app.mail import validation as mail_validation
from tests.conftest import Keys, bearer
from tests.support.mail import body, rich

# The index pass waits for sends to settle; these tests index at once.
NO_WAIT = timedelta(0)

pytestmark = pytest.mark.anyio

LIST_TAKES = "to, from, subject, text, category, custom_arg, account, since, until, limit, offset, cursor"
WAIT_TAKES = "to, from, subject, text, category, custom_arg, account, since, until, timeout"


async def _send(client: httpx.AsyncClient, key: str, payload: dict[str, Any]) -> str:
    response = await client.post("/v3/mail/send", headers=bearer(key), json=payload)
    assert response.status_code == 202, response.text
    message_id: str = response.headers["x-message-id"]
    return message_id


def _content(text: str | None = None, html: str | None = None) -> list[dict[str, str]]:
    parts = [("text/plain", text), ("text/html", html)]
    return [{"type": kind, "value": value} for kind, value in parts if value is not None]


async def _found(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/_mirror/messages", params=params)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["messages"]]


async def test_unknown_query_parameters_are_refused_by_name(client: httpx.AsyncClient, keys: Keys) -> None:
    await _send(client, keys.default, body(subject="hello"))
    response = await client.get("/_mirror/messages", params={"q": "hello"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"field": "q", "message": f"unknown query parameter 'q': this endpoint takes {LIST_TAKES}"}]
    }
    two = await client.get("/_mirror/messages?to=a@example.com&Subject=x&page=2&page=3")
    assert [e["field"] for e in two.json()["errors"]] == ["Subject", "page"]


async def test_the_wait_endpoint_refuses_unknown_parameters_at_once(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/_mirror/messages/wait", params={"recipient": "a@example.com", "timeout": "30"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": "recipient", "message": f"unknown query parameter 'recipient': this endpoint takes {WAIT_TAKES}"}
        ]
    }


@pytest.mark.parametrize(("path", "takes"), [("/_mirror/messages", LIST_TAKES), ("/_mirror/messages/wait", WAIT_TAKES)])
def test_the_parameters_taken_are_those_the_openapi_document_declares(app: FastAPI, path: str, takes: str) -> None:
    declared = {p["name"] for p in app.openapi()["paths"][path]["get"]["parameters"] if p["in"] == "query"}
    assert declared == set(takes.split(", "))


async def test_deleting_all_messages_refuses_a_filter_it_would_ignore(client: httpx.AsyncClient, keys: Keys) -> None:
    kept = await _send(client, keys.default, body())
    response = await client.delete("/_mirror/messages", params={"to": "alice@example.com"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"field": "to", "message": "unknown query parameter 'to': this endpoint takes none"}]
    }
    assert await _found(client) == [kept]
    assert (await client.delete("/_mirror/messages")).status_code == 204
    assert await _found(client) == []


@pytest.fixture(params=["tail", "indexed"])
async def indexed(request: pytest.FixtureRequest, db: Database) -> Callable[[], Awaitable[None]]:
    """Bring the word index up to date before a search (`indexed`), or leave it to the tail (`tail`)."""

    async def catch_up() -> None:
        if request.param == "indexed":
            while await indexer.catch_up(db, settle=NO_WAIT):
                pass

    return catch_up


async def test_text_finds_words_of_subjects_and_bodies_in_any_case(
    client: httpx.AsyncClient, keys: Keys, indexed: Callable[[], Awaitable[None]]
) -> None:
    by_subject = await _send(client, keys.default, body(subject="Quarterly REPORT", content=_content("nothing")))
    by_text = await _send(client, keys.default, body(subject="a", content=_content("Your report is ready")))
    html = "<p>Monthly <strong>Report</strong>"
    by_html = await _send(client, keys.default, body(subject="b", content=_content(html=html)))
    substituted = await _send(client, keys.default, rich())
    unrelated = await _send(client, keys.default, body(subject="c", content=_content("nothing", "<p>nothing</p>")))
    await indexed()

    assert await _found(client, text="report") == [by_html, by_text, by_subject]
    assert await _found(client, text="REPORT!") == [by_html, by_text, by_subject]
    assert await _found(client, text="repo") == [], "whole words, not parts of words"
    assert await _found(client, text="monthly, report!") == [by_html], "the HTML's visible text, punctuation aside"
    assert await _found(client, text="report monthly") == [], "the words in their order"
    assert await _found(client, text="<strong>") == [], "no tags"
    assert await _found(client, text="hello alice") == [substituted], "the body as rendered, substitutions made"
    assert await _found(client, text="nothing", subject="c") == [unrelated]
    assert await _found(client, text="report", limit="1", offset="1") == [by_text]
    total = (await client.get("/_mirror/messages", params={"text": "report", "limit": "1"})).json()["total"]
    assert total == 3


async def test_text_is_no_search_of_the_request_addresses_or_attachments(
    client: httpx.AsyncClient, keys: Keys, indexed: Callable[[], Awaitable[None]]
) -> None:
    await _send(client, keys.default, rich())
    await indexed()
    assert await _found(client, text="alice@example.com") == []
    assert await _found(client, text="PDF-1.4") == []


async def test_text_reads_bodies_already_rendered_and_encoded(
    client: httpx.AsyncClient, keys: Keys, indexed: Callable[[], Awaitable[None]]
) -> None:
    long_line = "Grüße aus Köln, " * 20
    message_id = await _send(client, keys.default, body(content=_content(long_line, f"<p>{long_line}</p>")))
    text = await client.get(f"/_mirror/messages/{message_id}/text")  # renders the MIME and stores it
    assert "Grüße aus Köln" in text.text
    raw = (await client.get(f"/_mirror/messages/{message_id}/raw")).content
    assert "Grüße aus Köln".encode() not in raw, "the stored body is transfer-encoded"
    await indexed()
    assert await _found(client, text="GRÜSSE AUS KÖLN") == [message_id]
    assert await _found(client, text="grusse aus koln") == [message_id], "diacritics folded"
    assert await _found(client, text="grüße aus berlin") == []


async def test_wait_takes_the_text_filter(client: httpx.AsyncClient, keys: Keys) -> None:
    before = await _send(client, keys.default, body(content=_content("Your code 4711")))
    since = (await client.get(f"/_mirror/messages/{before}")).json()["created_at"]  # so `before` is not "next"
    params = {"text": "code 4711", "since": since, "timeout": "10"}
    waiting = asyncio.create_task(client.get("/_mirror/messages/wait", params=params))
    await asyncio.sleep(0.3)
    await _send(client, keys.default, body(content=_content("Your code 1234")))
    wanted = await _send(client, keys.default, body(content=_content("Your code 4711")))
    response = await waiting
    assert response.status_code == 200, response.text
    assert response.json()["id"] == wanted


@pytest.mark.parametrize(
    "payload",
    [
        rich(),
        body(content=_content("only text")),
        body(content=_content(html="<p>only html</p>")),
        body(
            personalizations=[
                {"to": [{"email": "a@example.com"}], "substitutions": {"%n%": "Ann"}},
                {"to": [{"email": "b@example.com"}], "substitutions": {"%n%": "Bob"}},
            ],
            content=[
                {"type": "text/plain", "value": "Dear %n%,\r\nline two"},
                {"type": "TEXT/HTML", "value": "<p>Dear %n%</p>"},
                {"type": "text/calendar", "value": "BEGIN:VCALENDAR %n%"},
            ],
        ),
    ],
)
def test_the_bodies_searched_without_rendering_are_those_the_rendering_holds(payload: dict[str, Any]) -> None:
    message = mail_validation.parse_mail_send(orjson.loads(orjson.dumps(payload)), now=1_700_000_000)
    for index in range(len(message.personalizations)):
        rendered = mime.render_mime(message, index, message_id="m", date=datetime(2024, 1, 1, tzinfo=UTC))
        parsed = inspection.parse_mime(rendered)
        from_mime = [text for text in (parsed.text, parsed.html) if text is not None]
        assert [_lines(t) for t in mime.body_texts(message, index)] == [_lines(t) for t in from_mime]


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")
