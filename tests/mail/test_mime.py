"""render_mime: parse the bytes back with the stdlib and check headers, structure and payloads."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.mail.message import Address, Asm, Attachment, Content, OutboundMessage, Personalization
from app.mail.mime import render_mime
from app.mail.validation import parse_mail_send

DATE = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00binary\xff"


def message(**overrides: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "from_": Address("from@example.com", "Sender"),
        "personalizations": (Personalization(to=(Address("to@example.com", "To Person"),)),),
        "subject": "Global subject",
        "content": (Content("text/plain", "plain body"),),
    }
    fields.update(overrides)
    return OutboundMessage(**fields)


def render(msg: OutboundMessage, index: int = 0) -> bytes:
    return render_mime(msg, index, message_id="AOb5ZXUgSEeRAymhwhEySA", date=DATE)


def parsed(msg: OutboundMessage, index: int = 0) -> EmailMessage:
    return email.message_from_bytes(render(msg, index), policy=default)


def types(part: EmailMessage) -> list[str]:
    return [p.get_content_type() for p in part.walk()]


def test_envelope_headers() -> None:
    p = Personalization(
        to=(Address("to@example.com", "To Person"), Address("two@example.com")),
        cc=(Address("cc@example.com", "Cc Person"),),
        bcc=(Address("hidden@example.com"),),
    )
    out = parsed(message(personalizations=(p,), reply_to=Address("reply@example.com", "Replies")))
    assert out["From"] == "Sender <from@example.com>"
    assert out["To"] == "To Person <to@example.com>, two@example.com"
    assert out["Cc"] == "Cc Person <cc@example.com>"
    assert out["Bcc"] is None
    assert b"hidden@example.com" not in render(message(personalizations=(p,)))
    assert out["Reply-To"] == "Replies <reply@example.com>"
    assert out["Subject"] == "Global subject"
    assert out["Date"].datetime == DATE
    assert out["Message-ID"] == "<AOb5ZXUgSEeRAymhwhEySA.0@sendgrid-mirror.local>"
    assert out["MIME-Version"] == "1.0"


def test_crlf_line_endings_only() -> None:
    raw = render(message(content=(Content("text/plain", "a\nb"), Content("text/html", "<p>x</p>"))))
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_personalization_overrides_subject_and_from_and_index_picks_the_envelope() -> None:
    first = Personalization(to=(Address("a@example.com"),))
    second = Personalization(
        to=(Address("b@example.com"),), subject="Own subject", from_=Address("other@example.com", "Other")
    )
    msg = message(personalizations=(first, second))
    assert (parsed(msg, 0)["Subject"], parsed(msg, 0)["To"]) == ("Global subject", "a@example.com")
    out = parsed(msg, 1)
    assert (out["Subject"], out["To"], out["From"]) == ("Own subject", "b@example.com", "Other <other@example.com>")
    assert out["Message-ID"] == "<AOb5ZXUgSEeRAymhwhEySA.1@sendgrid-mirror.local>"


def test_reply_to_list_becomes_one_reply_to_header() -> None:
    out = parsed(message(reply_to_list=(Address("r1@example.com"), Address("r2@example.com", "Two"))))
    assert out["Reply-To"] == "r1@example.com, Two <r2@example.com>"


def test_non_ascii_names_and_subject_are_encoded_and_round_trip() -> None:
    p = Personalization(to=(Address("to@example.com", "Zoë Ünïcode"),), subject="Grüße ✓")
    msg = message(personalizations=(p,), from_=Address("from@example.com", 'Fröm "Co", Ltd.'))
    raw = render(msg)
    assert raw.isascii()
    assert b"=?utf-8?" in raw
    out = parsed(msg)
    assert out["Subject"] == "Grüße ✓"
    assert out["To"].addresses[0].display_name == "Zoë Ünïcode"
    assert out["From"].addresses[0].display_name == 'Fröm "Co", Ltd.'


def test_single_content_is_a_plain_leaf() -> None:
    out = parsed(message())
    assert types(out) == ["text/plain"]
    assert out.get_content().rstrip("\r\n") == "plain body"
    assert out.get_content_charset() == "utf-8"


def test_plain_and_html_are_alternatives_in_order() -> None:
    contents = (Content("text/plain", "plain é"), Content("text/html", "<p>html</p>"), Content("text/x-amp-html", "a"))
    out = parsed(message(content=contents))
    assert types(out) == ["multipart/alternative", "text/plain", "text/html", "text/x-amp-html"]
    bodies = [part.get_content().rstrip("\r\n") for part in out.iter_parts()]
    assert bodies == ["plain é", "<p>html</p>", "a"]


def test_attachments_make_a_mixed_message() -> None:
    attachments = (
        Attachment(b"%PDF-1.4 data", "report.pdf", "application/pdf"),
        Attachment(PNG, "résumé photo.png"),
        Attachment(b"???", "unknown.zzz-unknown"),
    )
    out = parsed(message(content=(Content("text/plain", "p"), Content("text/html", "h")), attachments=attachments))
    assert types(out) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
        "image/png",
        "application/octet-stream",
    ]
    files = [(a.get_filename(), a.get_content_disposition(), a.get_content()) for a in out.iter_attachments()]
    assert files == [
        ("report.pdf", "attachment", b"%PDF-1.4 data"),
        ("résumé photo.png", "attachment", PNG),
        ("unknown.zzz-unknown", "attachment", b"???"),
    ]


def test_inline_attachments_are_related_with_content_ids() -> None:
    attachments = (
        Attachment(PNG, "logo.png", "image/png", "inline", "logo@cid"),
        Attachment(b"doc", "doc.txt", "text/plain"),
    )
    html = '<img src="cid:logo@cid">'
    msg = message(content=(Content("text/plain", "p"), Content("text/html", html)), attachments=attachments)
    out = parsed(msg)
    assert types(out) == [
        "multipart/mixed",
        "multipart/related",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "image/png",
        "text/plain",
    ]
    related = next(p for p in out.walk() if p.get_content_type() == "multipart/related")
    assert related.get_param("type") == "multipart/alternative"
    image = next(p for p in out.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<logo@cid>"
    assert image.get_content_disposition() == "inline"
    assert image.get_filename() == "logo.png"
    assert image.get_content() == PNG


def test_inline_only_wraps_the_body_in_related() -> None:
    msg = message(attachments=(Attachment(PNG, "i.png", "image/png", "inline", "<i>"),))
    out = parsed(msg)
    assert types(out) == ["multipart/related", "text/plain", "image/png"]
    assert next(p for p in out.walk() if p.get_content_type() == "image/png")["Content-ID"] == "<i>"


def test_container_types_in_attachments_fall_back_to_octet_stream() -> None:
    attachments = (Attachment(b"x", "a.eml", "message/rfc822"), Attachment(b"y", "b", "multipart/mixed"))
    out = parsed(message(attachments=attachments))
    assert types(out)[-2:] == ["application/octet-stream", "application/octet-stream"]


def test_substitutions_apply_to_subject_and_content_literally() -> None:
    p = Personalization(
        to=(Address("to@example.com"),),
        subject="Hi -name- ([id])",
        substitutions={"-name-": "Ana", "[id]": "$1 \\1", "-name-s": "Everyone", "-x-": "-name-"},
    )
    contents = (Content("text/plain", "Dear -name-s, -name-. -x-"), Content("text/html", "<b>-name-</b> [id]"))
    out = parsed(message(personalizations=(p,), content=contents))
    assert out["Subject"] == "Hi Ana ($1 \\1)"
    bodies = [part.get_content().rstrip("\r\n") for part in out.iter_parts()]
    assert bodies == ["Dear Everyone, Ana. -name-", "<b>Ana</b> $1 \\1"]


def test_dynamic_templates_ignore_substitutions() -> None:
    p = Personalization(to=(Address("to@example.com"),), substitutions={"-n-": "X"})
    msg = message(personalizations=(p,), template_id="d-" + "0" * 32, content=(Content("text/plain", "-n-"),))
    assert parsed(msg).get_content().rstrip("\r\n") == "-n-"


def test_template_send_without_content_or_subject() -> None:
    out = parsed(message(subject=None, content=(), template_id="d-" + "0" * 32))
    assert out["Subject"] is None
    assert types(out) == ["text/plain"]


def test_custom_headers_global_then_personalization() -> None:
    p = Personalization(to=(Address("to@example.com"),), headers={"x-shared": "from personalization", "X-P": "p"})
    long_value = "<https://example.com/unsubscribe/" + "u" * 150 + ">, <mailto:u@example.com>"
    headers = {"X-Shared": "global", "X-G": "g", "List-Unsubscribe": long_value, "X-Utf8": "héllo"}
    out = parsed(message(personalizations=(p,), headers=headers))
    assert out.get_all("X-Shared") == ["from personalization"]
    assert (out["X-G"], out["X-P"], out["X-Utf8"]) == ("g", "p", "héllo")
    assert out["List-Unsubscribe"] == long_value
    assert b"u" * 150 in render(message(headers=headers))  # a long token is folded around, never encoded
    names = [name.lower() for name in out]
    assert names.index("x-g") < names.index("x-p")


def test_header_values_with_line_breaks_are_flattened() -> None:
    p = Personalization(to=(Address("to@example.com", "Evil\r\nBcc: x@example.com"),), subject="a\r\nb")
    out = parsed(message(personalizations=(p,), headers={"X-Inject": "v\r\nBcc: y@example.com"}))
    assert out["Bcc"] is None
    assert out["X-Inject"] == "v Bcc: y@example.com"
    assert out["Subject"] == "a b"


def test_mime_owned_headers_are_not_overridden() -> None:
    out = parsed(message(headers={"MIME-Version": "2.0", "X-SMTPAPI": "{}", "Content-ID": "<x>"}))
    assert out.get_all("MIME-Version") == ["1.0"]
    assert out["X-SMTPAPI"] is None
    assert out["Content-ID"] is None


def test_x_smtpapi_carries_categories_and_merged_custom_args() -> None:
    p = Personalization(to=(Address("to@example.com"),), custom_args={"shared": "p", "order": "42"}, send_at=99)
    msg = message(
        personalizations=(p,),
        categories=("welcome", "ünicode-free"),
        custom_args={"shared": "g", "tenant": "t1"},
        send_at=10,
        asm=Asm(5, (5, 6)),
        ip_pool_name="pool",
    )
    assert json.loads(parsed(msg)["X-SMTPAPI"]) == {
        "category": ["welcome", "ünicode-free"],
        "unique_args": {"shared": "p", "tenant": "t1", "order": "42"},
        "send_at": 99,
        "asm_group_id": 5,
        "asm_groups_to_display": [5, 6],
        "ip_pool": "pool",
    }


def test_x_smtpapi_absent_when_there_is_nothing_to_carry() -> None:
    assert parsed(message())["X-SMTPAPI"] is None


def test_large_x_smtpapi_stays_plain_json_on_the_wire() -> None:
    args = {f"key{i}": "value " * 20 for i in range(50)}
    raw = render(message(custom_args=args, categories=("c" * 200,)))
    header = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?" not in header
    assert all(len(line) <= 998 for line in header.split(b"\r\n"))
    out = email.message_from_bytes(raw, policy=default)
    assert json.loads(out["X-SMTPAPI"]) == {"category": ["c" * 200], "unique_args": args}


def test_date_keeps_its_offset() -> None:
    offset = datetime(2024, 5, 6, 9, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    raw = render_mime(message(), 0, message_id="m", date=offset)
    assert b"Date: Mon, 06 May 2024 09:08:09 +0200\r\n" in raw


def test_renders_what_parse_mail_send_builds() -> None:
    payload = {
        "personalizations": [
            {"to": [{"email": "a@example.com"}], "substitutions": {":n": "A"}},
            {"to": [{"email": "b@example.com"}], "substitutions": {":n": "B"}, "subject": "For :n"},
        ],
        "from": {"email": "from@example.com"},
        "subject": "Hello :n",
        "content": [{"type": "text/plain", "value": "Hi :n"}],
        "attachments": [{"content": "aGVsbG8=", "filename": "h.txt", "type": "text/plain"}],
        "categories": ["c"],
    }
    msg = parse_mail_send(payload, now=0)
    first, second = parsed(msg, 0), parsed(msg, 1)
    assert (first["Subject"], second["Subject"]) == ("Hello A", "For B")
    assert [a.get_content() for a in second.iter_attachments()] == ["hello"]
    assert json.loads(second["X-SMTPAPI"]) == {"category": ["c"]}


def test_control_characters_in_attachment_names_are_flattened() -> None:
    msg = message(attachments=(Attachment(PNG, "a\x1eb.png", "image/png", "inline", "c\x85id"),))
    image = next(p for p in parsed(msg).walk() if p.get_content_type() == "image/png")
    assert (image.get_filename(), image["Content-ID"]) == ("a b.png", "<c id>")


text = st.text(max_size=24)


@settings(max_examples=150, deadline=None)
@given(text, text, text, text, text, text)
def test_any_text_renders_and_parses_back(
    subject: str, name: str, value: str, body: str, filename: str, arg: str
) -> None:
    p = Personalization(to=(Address("to@example.com", name),), subject=subject, headers={"X-P": value})
    msg = message(
        personalizations=(p,),
        content=(Content("text/plain", body), Content("text/html", body)),
        attachments=(Attachment(PNG, filename or "f", disposition="inline", content_id=filename or "f"),),
        custom_args={"arg": arg},
        headers={"X-G": value * 20},
    )
    raw = render(msg)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    out = email.message_from_bytes(raw, policy=default)
    assert json.loads(out["X-SMTPAPI"]) == {"unique_args": {"arg": arg}}
    assert out["To"].addresses[0].addr_spec == "to@example.com"
