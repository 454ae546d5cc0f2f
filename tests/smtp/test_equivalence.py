"""One ingest path: the same message sent over SMTP and over POST /v3/mail/send is stored the same way, and both
are visible through /_mirror/messages and Email Activity (on SQLite and PostgreSQL). The relay's shortcuts read
what the stdlib reads: simple_mime builds the feed parser's tree, and plain addresses parse as getaddresses
parses them."""

from __future__ import annotations

import email
import email.policy
import json
import smtplib
from email.message import EmailMessage
from email.message import Message as MimeMessage
from email.utils import getaddresses
from typing import Any
from unittest import mock

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.mail.models import Envelope, Event, Message, Recipient
from app.smtp import mime_parse, simple_mime
from bench.smtp import mime_body
from tests.conftest import Keys, bearer
from tests.smtp.conftest import HOST, Mirror

HTTP_BODY: dict[str, Any] = {
    "personalizations": [
        {
            "to": [{"email": "alice@example.com", "name": "Alice"}],
            "cc": [{"email": "carol@example.com"}],
            "bcc": [{"email": "bob@example.com"}],
        }
    ],
    "from": {"email": "shop@example.com", "name": "Example Shop"},
    "reply_to": {"email": "help@shop.example"},
    "subject": "Same content",
    "content": [{"type": "text/plain", "value": "Hello"}, {"type": "text/html", "value": "<p>Hello</p>"}],
    "categories": ["receipts", "march"],
    "custom_args": {"order": "42"},
    "asm": {"group_id": 7},
}


def _smtp_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Example Shop <shop@example.com>"
    message["To"] = "Alice <alice@example.com>"
    message["Cc"] = "carol@example.com"
    message["Reply-To"] = "help@shop.example"
    message["Subject"] = "Same content"
    message["X-SMTPAPI"] = json.dumps(
        {"category": ["receipts", "march"], "unique_args": {"order": "42"}, "asm_group_id": 7}
    )
    message.set_content("Hello")
    message.add_alternative("<p>Hello</p>", subtype="html")
    return message


def _send_both(mirror: Mirror, key: str) -> tuple[str, str]:
    response = httpx.post(mirror.base_url + "/v3/mail/send", headers=bearer(key), json=HTTP_BODY)
    assert response.status_code == 202, response.text
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.starttls()
        server.login("apikey", key)
        server.send_message(_smtp_message(), to_addrs=["alice@example.com", "carol@example.com", "bob@example.com"])
    smtp_id = mirror.get("/_mirror/messages", subject="Same content").json()["messages"][0]["id"]
    return response.headers["x-message-id"], smtp_id


_DIFFERENT = {"id", "transport", "request", "created_at", "message_id", "mime", "recipient_id", "occurred_at",
              "last_event_time"}  # fmt: skip


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in _DIFFERENT}


def _rows(mirror: Mirror, message_id: str) -> dict[str, Any]:
    with mirror.db.read_session() as session:
        message = session.get(Message, message_id)
        envelopes = session.scalars(select(Envelope).where(Envelope.message_id == message_id))
        recipients = list(session.scalars(select(Recipient).where(Recipient.message_id == message_id)))
        events = session.scalars(select(Event).join(Recipient).where(Recipient.message_id == message_id))
        return {
            "message": _columns(message),
            "envelopes": [_columns(e) for e in envelopes],
            "recipients": sorted((_columns(r) for r in recipients), key=lambda r: r["email"]),
            "recipient_ids": sorted(r.id.removeprefix(message_id) for r in recipients),
            "events": sorted(_columns(e)["event"] for e in events),
        }


def test_smtp_and_http_store_the_same_rows(mirror: Mirror, keys: Keys) -> None:
    http_id, smtp_id = _send_both(mirror, keys.default)
    http_rows, smtp_rows = _rows(mirror, http_id), _rows(mirror, smtp_id)
    assert smtp_rows == http_rows
    assert [(r["kind"], r["email"], r["name"]) for r in smtp_rows["recipients"]] == [
        ("to", "alice@example.com", "Alice"),
        ("bcc", "bob@example.com", None),
        ("cc", "carol@example.com", None),
    ]


def test_both_are_visible_in_the_inspection_api_and_email_activity(mirror: Mirror, keys: Keys) -> None:
    http_id, smtp_id = _send_both(mirror, keys.default)
    listed = mirror.get("/_mirror/messages", to="bob@example.com").json()
    assert {(m["id"], m["transport"]) for m in listed["messages"]} == {(http_id, "http"), (smtp_id, "smtp")}
    http_view, smtp_view = mirror.stored(http_id), mirror.stored(smtp_id)
    for field in ("from", "subject", "to", "cc", "bcc", "categories", "custom_args", "status"):
        assert smtp_view[field] == http_view[field], field
    for view in (http_view, smtp_view):
        [envelope] = view["envelopes"]
        assert (envelope["text"].strip(), envelope["html"].strip()) == ("Hello", "<p>Hello</p>")
    activity = mirror.get("/v3/messages", keys.default, query='to_email="alice@example.com"', limit=10).json()
    assert {m["msg_id"].split(".")[0] for m in activity["messages"]} == {http_id, smtp_id}
    detail = mirror.get(f"/v3/messages/{smtp_id}.filter0001.0.0.0", keys.default)
    assert detail.status_code == 200, detail.text
    assert [e["event_name"] for e in detail.json()["events"]] == ["processed", "delivered"]


def _tree(msg: MimeMessage) -> tuple[Any, ...]:
    """Everything parse_received can read of a parsed message: header fields as stored, payloads, structure."""
    payload = msg.get_payload()
    parts = [_tree(part) for part in payload] if isinstance(payload, list) else payload
    return type(msg), msg.get_unixfrom(), list(msg.raw_items()), msg.preamble, msg.epilogue, parts


def _feed_parsed(raw: bytes) -> MimeMessage:
    return email.message_from_bytes(raw, mime_parse._NestingLimited, policy=email.policy.compat32)


def _mime(build: str) -> bytes:
    """Messages clients send, as an SMTP client puts them on the wire (CRLF)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Shop <shop@example.com>", "Ann <ann@example.com>, bob@example.com", "Hi"
    msg["X-SMTPAPI"] = json.dumps({"category": ["a", "b"], "unique_args": {"order": "42"}})
    if build == "text":
        msg.set_content("Just text.\n.leading dot\n")
    elif build == "utf8":
        msg.replace_header("Subject", "Grüße – déjà vu")
        msg.set_content("Grüße aus Köln\n" * 40)
    elif build == "html-only":
        msg.set_content("<p>Hello</p>", subtype="html")
    elif build in ("alternative", "attachment", "inline"):
        msg.set_content("Plain body\n")
        msg.add_alternative('<p>HTML</p><img src="cid:logo@shop">', subtype="html")
        if build == "attachment":
            msg.add_attachment(b"%PDF-1.4 " * 300, maintype="application", subtype="pdf", filename="invoice.pdf")
        if build == "inline":
            msg.get_payload()[1].add_related(b"\x89PNG", maintype="image", subtype="png", cid="<logo@shop>")
    elif build == "mixed":
        msg.set_content("See the files.\n")
        msg.add_attachment("a,b\n1,2\n", subtype="csv", filename="data.csv")
        msg.add_attachment(b"\x00\x01" * 100, maintype="application", subtype="octet-stream", filename="x.bin")
    elif build == "message":
        inner = EmailMessage()
        inner["Subject"] = "inner"
        inner.set_content("forwarded\n")
        msg.set_content("See attached.\n")
        msg.add_attachment(inner)
    return msg.as_bytes(policy=email.policy.SMTP)


_BUILDS = ["text", "utf8", "html-only", "alternative", "attachment", "inline", "mixed", "message"]
_SIMPLE = {"text", "utf8", "html-only", "alternative", "mixed"}  # one level of leaf parts


@pytest.mark.parametrize("build", _BUILDS)
def test_simple_mime_reads_what_the_feed_parser_reads_or_leaves_it_to_it(build: str) -> None:
    raw = _mime(build)
    quick = simple_mime.read(raw, mime_parse._NestingLimited)
    assert (quick is not None) == (build in _SIMPLE)
    if quick is not None:
        assert _tree(quick) == _tree(_feed_parsed(raw))


def test_simple_mime_reads_the_benchmark_message() -> None:
    raw = mime_body()
    quick = simple_mime.read(raw, mime_parse._NestingLimited)
    assert quick is not None
    assert _tree(quick) == _tree(_feed_parsed(raw))


@pytest.mark.parametrize("build", [*_BUILDS, "bench"])
def test_a_message_means_the_same_with_or_without_the_shortcuts(build: str) -> None:
    raw = mime_body() if build == "bench" else _mime(build)
    envelope: dict[str, Any] = {"mail_from": "b@shop.example", "rcpt_tos": ["ann@example.com", "cc@x.example"]}
    quick = mime_parse.parse_received(raw, **envelope, now=NOW)
    with (
        mock.patch.object(simple_mime, "read", return_value=None),
        mock.patch.object(mime_parse, "_plain_mailboxes", return_value=None),
    ):
        full = mime_parse.parse_received(raw, **envelope, now=NOW)
    assert quick == full


NOW = 1_700_000_000
BOUNDARY = "b0und"
# Lines that steer the feed parser: boundaries of every form, header and continuation lines, blank lines, unix
# From lines, nameless fields, 8-bit text, bare CR and LF, and the content types that decide the structure.
_LINES = st.sampled_from([
    "", " ", "\t", "text", "more text.", ".", "Subject: hi", "X-Custom: a", "X-Custom:", " folded", "\tfolded",
    "From someone", ":nameless", "Not a header", "Key : spaced", "é 8-bit", "a\rb", "a\nb",
    f"--{BOUNDARY}", f"--{BOUNDARY}--", f"--{BOUNDARY} ", f"--{BOUNDARY}-- \t", f"--{BOUNDARY}x", f"--{BOUNDARY}--x",
    f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"', "Content-Type: multipart/mixed",
    f"Content-Type: multipart/alternative; boundary={BOUNDARY}",
    f'Content-Type: multipart/digest; boundary="{BOUNDARY}"',
    "Content-Type: text/plain; charset=utf-8", "Content-Type: text/html", "Content-Type: message/rfc822",
    "Content-Type: message/delivery-status", "Content-Transfer-Encoding: base64", "Content-Disposition: attachment",
])  # fmt: skip
_TOP = st.sampled_from([
    f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"', "Content-Type: text/plain", "",
    f"Content-Type: multipart/alternative;\r\n boundary={BOUNDARY}",
])  # fmt: skip


_PART_HEADERS = st.lists(st.sampled_from([
    "Content-Type: text/plain; charset=utf-8", "Content-Type: text/html;\r\n charset=us-ascii", "X-Part: 1",
    "Content-Transfer-Encoding: quoted-printable", 'Content-Disposition: attachment; filename="a.txt"',
]), max_size=3)  # fmt: skip


@st.composite
def _multiparts(draw: st.DrawFn) -> list[str]:
    """Well-formed multiparts with the odd line thrown in anywhere."""
    lines = [*draw(st.lists(_LINES, max_size=2))]
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        lines += [draw(st.sampled_from([f"--{BOUNDARY}", f"--{BOUNDARY} \t"])), *draw(_PART_HEADERS)]
        lines += draw(st.sampled_from([[""], [], ["", ""]])) + draw(st.lists(_LINES, max_size=4))
    lines += [draw(st.sampled_from([f"--{BOUNDARY}--", f"--{BOUNDARY}--  "])), *draw(st.lists(_LINES, max_size=2))]
    return lines


@settings(max_examples=600, deadline=None)
@given(
    top=_TOP,
    lines=st.one_of(st.lists(_LINES, max_size=30), _multiparts()),
    blank=st.booleans(),
    ending=st.sampled_from(["", "\r\n", "\r\n\r\n"]),
)
def test_simple_mime_never_reads_otherwise_than_the_feed_parser(
    top: str, lines: list[str], blank: bool, ending: str
) -> None:
    head = ["From: a@example.com", top, *([""] if blank else [])]
    raw = ("\r\n".join([*head, *lines]) + ending).encode("utf-8", "surrogateescape")
    quick = simple_mime.read(raw, mime_parse._NestingLimited)
    if quick is not None:
        assert _tree(quick) == _tree(_feed_parsed(raw))


_PHRASE = st.text(alphabet="ab Z9!#'=?-_.\t\"(),;:<>@\\é", max_size=12)
_LOCAL = st.sampled_from(["ann", "a.b", "a..b", ".a", "a+tag", "o'neil", "x=y", "a b", "", '"q"'])
_DOMAIN = st.sampled_from(["example.com", "EXAMPLE.com", "ex-ample.co.uk", "localhost", "a..b", "[1.2.3.4]", ""])


@st.composite
def _address_values(draw: st.DrawFn) -> list[str]:
    values = []
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        mailboxes = []
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            addr = f"{draw(_LOCAL)}@{draw(_DOMAIN)}"
            form = draw(st.sampled_from(["bare", "angled", "named"]))
            mailboxes.append(addr if form == "bare" else f"{draw(_PHRASE) if form == 'named' else ''} <{addr}>")
        values.append(draw(st.sampled_from([",", ", ", " ,\t"])).join(mailboxes))
    return values


@settings(max_examples=600, deadline=None)
@given(values=_address_values())
def test_plain_addresses_read_as_getaddresses_reads_them(values: list[str]) -> None:
    assert mime_parse.mailboxes(values) == getaddresses(values)


def test_the_usual_address_forms_take_the_shortcut() -> None:
    values = ["Customer One <customer.one@example.net>", "ann@example.com,  Bob  Smith <bob@example.com>"]
    assert mime_parse._plain_mailboxes(values) == getaddresses(values)
