"""The search structures behind /_mirror/messages, the console and /v3/messages: labels, the substring index,
the word index, seek pagination and bounded counts. Each search gives the same answer on every path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.activity import service as activity
from app.inspection import indexer, words
from app.inspection import service as inspection
from app.kernel.db.session import Database
from app.mail import search as mail_search
from app.mail.models import MessageLabel, MessageWords
from tests.conftest import Keys, bearer
from tests.support.mail import body

# The index pass waits for sends to settle; these tests index at once.
NO_WAIT = timedelta(0)

pytestmark = pytest.mark.anyio


async def _send(client: httpx.AsyncClient, key: str, payload: dict[str, Any]) -> str:
    response = await client.post("/v3/mail/send", headers=bearer(key), json=payload)
    assert response.status_code == 202, response.text
    message_id: str = response.headers["x-message-id"]
    return message_id


async def _page(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get("/_mirror/messages", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    return [m["id"] for m in (await _page(client, **params))["messages"]]


async def test_cursors_walk_every_message_once_newest_first(client: httpx.AsyncClient, keys: Keys) -> None:
    sent = [await _send(client, keys.default, body(subject=f"m{n}")) for n in range(7)]
    seen: list[str] = []
    page = await _page(client, limit="3")
    while True:
        seen += [m["id"] for m in page["messages"]]
        if page["next_cursor"] is None:
            break
        page = await _page(client, limit="3", cursor=page["next_cursor"])
    assert seen == sent[::-1]
    first = await _page(client, limit="3")
    assert await _ids(client, limit="2", cursor=first["next_cursor"], offset="1") == sent[::-1][4:6]
    assert await _ids(client, limit="3", offset="3") == sent[::-1][3:6], "offset alone still skips"


async def test_a_cursor_keeps_the_filters(client: httpx.AsyncClient, keys: Keys) -> None:
    wanted = [await _send(client, keys.default, body(categories=["keep"])) for _ in range(3)]
    await _send(client, keys.default, body(categories=["other"]))
    first = await _page(client, category="keep", limit="2")
    rest = await _page(client, category="keep", limit="2", cursor=first["next_cursor"])
    assert [m["id"] for m in first["messages"] + rest["messages"]] == wanted[::-1]
    assert rest["next_cursor"] is None


async def test_a_foreign_cursor_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/_mirror/messages", params={"cursor": "not-one-of-ours"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_counts_stop_at_the_limit_and_say_so(
    client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(4):
        await _send(client, keys.default, body())
    assert (await _page(client))["total"] == 4
    monkeypatch.setattr(inspection, "COUNT_LIMIT", 3)
    page = await _page(client, limit="2")
    assert (page["total"], page["total_exact"], len(page["messages"])) == (3, False, 2)


async def test_labels_find_every_address_category_and_custom_argument(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    payload = body(
        personalizations=[
            {"to": [{"email": "To@Example.com"}], "cc": [{"email": "cc@example.com"}], "custom_args": {"p": "1"}},
            {"to": [{"email": "two@example.com"}], "bcc": [{"email": "bcc@example.com"}]},
        ],
        categories=["alpha", "beta"],
        custom_args={"order": "A-1"},
    )
    payload["from"] = {"email": "Boss@Example.com"}
    sent = await _send(client, keys.default, payload)
    other = await _send(client, keys.default, body(categories=["gamma"]))
    for params in (
        {"to": "to@example.COM"}, {"to": "cc@example.com"}, {"to": "bcc@example.com"}, {"to": "two@example.com"},
        {"from": "boss@example.com"}, {"category": "beta"}, {"custom_arg": "order=A-1"}, {"custom_arg": "p=1"},
        {"category": "alpha", "to": "two@example.com", "custom_arg": "p=1"},
    ):  # fmt: skip
        assert await _ids(client, **params) == [sent], params
    assert await _ids(client, category="gamma") == [other]
    assert await _ids(client, category="alpha", to="nobody@example.com") == []
    assert await _ids(client, custom_arg="order=A-2") == []
    await client.delete(f"/_mirror/messages/{sent}")
    with db.read_session() as session:
        left = session.scalar(select(func.count()).select_from(MessageLabel).where(MessageLabel.message_id == sent))
    assert left == 0, "a message's labels go with it"


async def test_subject_search_answers_alike_from_the_index_and_by_walking(
    client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    subjects = ["Invoice 100% paid", "invoice_2 due", "Your INVOICE", "Receipt", "in"]
    sent = {s: await _send(client, keys.default, body(subject=s)) for s in subjects}
    queries = ["invoice", "100%", "_2", "in", "voice", "nothing"]
    indexed = {q: await _ids(client, subject=q) for q in queries}
    assert indexed["invoice"] == [sent["Your INVOICE"], sent["invoice_2 due"], sent["Invoice 100% paid"]]
    assert indexed["100%"] == [sent["Invoice 100% paid"]], "wildcards are taken literally"
    assert indexed["_2"] == [sent["invoice_2 due"]]
    assert indexed["nothing"] == []
    monkeypatch.setattr(mail_search, "CANDIDATE_LIMIT", 0)
    assert {q: await _ids(client, subject=q) for q in queries} == indexed


async def test_activity_subject_like_answers_alike_from_the_index_and_by_walking(
    client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    for subject in ("Invoice 7 paid", "Paid invoice 8", "Receipt 9"):
        await _send(client, keys.default, body(subject=subject))

    async def subjects(query: str) -> list[str]:
        response = await client.get("/v3/messages", params={"query": query}, headers=bearer(keys.default))
        assert response.status_code == 200, response.text
        return sorted(m["subject"] for m in response.json()["messages"])

    queries = ['subject LIKE "%invoice%"', 'subject LIKE "Invoice%"', 'subject = "Receipt 9"', 'subject LIKE "%7%"']
    indexed = {q: await subjects(q) for q in queries}
    assert indexed == {
        queries[0]: ["Invoice 7 paid", "Paid invoice 8"],
        queries[1]: ["Invoice 7 paid"],
        queries[2]: ["Receipt 9"],
        queries[3]: ["Invoice 7 paid"],
    }
    monkeypatch.setattr(mail_search, "CANDIDATE_LIMIT", 0)
    assert {q: await subjects(q) for q in queries} == indexed


async def test_the_word_index_forgets_deleted_messages_and_never_reuses_a_row(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    gone = await _send(client, keys.default, body(content=[{"type": "text/plain", "value": "alpha bravo"}]))
    assert await indexer.catch_up(db, settle=NO_WAIT) == 1
    await client.delete(f"/_mirror/messages/{gone}")
    assert await _ids(client, text="alpha bravo") == []
    kept = await _send(client, keys.default, body(content=[{"type": "text/plain", "value": "charlie"}]))
    assert await indexer.catch_up(db, settle=NO_WAIT) == 1
    assert await _ids(client, text="alpha") == [], "the deleted message's words point at no later message"
    assert await _ids(client, text="charlie") == [kept]
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(MessageWords)) == 1
    assert await indexer.catch_up(db, settle=NO_WAIT) == 0, "nothing left to index"


def test_runs_are_the_literal_stretches_of_a_pattern() -> None:
    assert mail_search.runs("%invoice%") == ["invoice"]
    assert mail_search.runs("ab%cdef_ghi") == ["cdef", "ghi"]
    assert mail_search.runs("100\\%%") == ["100%"]
    assert mail_search.runs("%a_b%") == []


def test_words_fold_case_and_diacritics_and_drop_punctuation() -> None:
    assert words.tokens("Grüße aus KÖLN, 2024!") == ["grusse", "aus", "koln", "2024"]
    assert words.has_phrase(["your", "password", "reset"], ["password", "reset"])
    assert not words.has_phrase(["your", "password", "reset"], ["pass"])
    assert not words.has_phrase(["your", "password", "reset"], ["reset", "your"])


async def test_text_answers_alike_from_the_index_and_by_walking(
    client: httpx.AsyncClient, keys: Keys, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["order shipped today", "your order", "shipped", "orders are open", "nothing"]
    sent = [await _send(client, keys.default, body(content=[{"type": "text/plain", "value": t}])) for t in texts]
    while await indexer.catch_up(db, settle=NO_WAIT):
        pass
    late = await _send(client, keys.default, body(content=[{"type": "text/plain", "value": "late order"}]))
    queries = ["order", "order shipped", "shipped", "orders", "missing"]
    indexed = {q: await _ids(client, text=q) for q in queries}
    assert indexed["order"] == [late, sent[1], sent[0]], "indexed and not yet indexed alike"
    assert indexed["orders"] == [sent[3]]
    assert indexed["order shipped"] == [sent[0]]
    monkeypatch.setattr(mail_search, "CANDIDATE_LIMIT", 0)
    assert {q: await _ids(client, text=q) for q in queries} == indexed
    walked = await _page(client, text="order", limit="2")
    assert (walked["total"], walked["total_exact"]) == (2, False), "walking counts only what the page reached"
    last = await _page(client, text="order", limit="2", offset="2")
    assert (last["total"], last["total_exact"]) == (3, True), "exact once the walk ran out"


async def test_activity_send_fields_answer_alike_for_rare_and_common_values(
    client: httpx.AsyncClient, keys: Keys, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _send(client, keys.default, body(subject="one"))
    await _send(client, keys.default, body(subject="two"))
    key_id = keys.default.split(".")[1]

    async def subjects(query: str) -> list[str]:
        response = await client.get("/v3/messages", params={"query": query}, headers=bearer(keys.default))
        assert response.status_code == 200, response.text
        return sorted(m["subject"] for m in response.json()["messages"])

    queries = [f'api_key_id="{key_id}"', 'api_key_id="nope"', 'template_id="nope"']
    rare = {q: await subjects(q) for q in queries}
    assert rare == {queries[0]: ["one", "two"], queries[1]: [], queries[2]: []}
    assert await indexer.catch_up(db, settle=NO_WAIT) == 2
    assert {q: await subjects(q) for q in queries} == rare, "from the labels as from the unindexed messages"
    monkeypatch.setattr(activity, "_FEW", 0)
    assert {q: await subjects(q) for q in queries} == rare


async def test_a_text_walk_pages_by_cursor_and_keeps_the_other_filters(
    client: httpx.AsyncClient, keys: Keys, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = []
    for n in range(9):
        category = "even" if n % 2 == 0 else "odd"
        content = [{"type": "text/plain", "value": f"common word {n}"}]
        sent.append(await _send(client, keys.default, body(content=content, categories=[category])))
    while await indexer.catch_up(db, settle=NO_WAIT):
        pass
    monkeypatch.setattr(mail_search, "CANDIDATE_LIMIT", 0)
    monkeypatch.setattr(inspection, "_WALK_CHUNK", 2)
    seen: list[str] = []
    page = await _page(client, text="common word", category="even", limit="2")
    while True:
        seen += [m["id"] for m in page["messages"]]
        if page["next_cursor"] is None:
            break
        page = await _page(client, text="common word", category="even", limit="2", cursor=page["next_cursor"])
    assert seen == sent[::-2]


async def test_activity_addresses_answer_alike_for_rare_and_common_values(
    client: httpx.AsyncClient, keys: Keys, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = body(personalizations=[{"to": [{"email": "Ann@example.com"}], "cc": [{"email": "cc@example.com"}]}])
    two["from"] = {"email": "Boss@Example.com"}
    await _send(client, keys.default, two)
    await _send(client, keys.default, body(personalizations=[{"to": [{"email": "bob@example.com"}]}]))

    async def recipients(query: str) -> list[str]:
        response = await client.get("/v3/messages", params={"query": query}, headers=bearer(keys.default))
        assert response.status_code == 200, response.text
        return sorted(m["to_email"] for m in response.json()["messages"])

    queries = [
        'to_email="ANN@example.com"',
        'to_email="cc@example.com"',
        'from_email="boss@example.com"',
        'to_email="nobody@example.com"',
        'to_email="bob@example.com" AND from_email="boss@example.com"',
    ]
    found = {q: await recipients(q) for q in queries}
    assert list(found.values()) == [
        ["ann@example.com"],
        ["cc@example.com"],
        ["ann@example.com", "cc@example.com"],
        [],
        [],
    ]
    assert await indexer.catch_up(db, settle=NO_WAIT) == 2
    assert {q: await recipients(q) for q in queries} == found, "from the labels as from the unindexed messages"
    monkeypatch.setattr(activity, "_FEW", 0)
    assert {q: await recipients(q) for q in queries} == found
