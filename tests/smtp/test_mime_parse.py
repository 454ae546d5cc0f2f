"""app.smtp.mime_parse: what an SMTP message (MIME + envelope + X-SMTPAPI) means in v3 terms."""

from __future__ import annotations

import email
import email.policy
import json
from email.message import EmailMessage

import pytest

from app.kernel.errors import BadRequest
from app.mail.message import Address, Attachment, Content
from app.smtp import mime_parse

NOW = 1_700_000_000


def _message(subject: str = "Your order", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Shop <shop@example.com>"
    msg["To"] = "Alice <alice@example.com>, bob@example.com"
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Plain body\n")
    msg.add_alternative('<p>HTML body</p><img src="cid:logo@shop">', subtype="html")
    return msg


def _parse(msg: EmailMessage, rcpt: list[str], sender: str = "bounce@shop.example") -> mime_parse.Received:
    return mime_parse.parse_received(msg.as_bytes(), mail_from=sender, rcpt_tos=rcpt, now=NOW)


def test_headers_say_to_and_cc_and_the_rest_of_the_envelope_is_bcc() -> None:
    msg = _message(Cc="Carol <carol@example.com>, ghost@example.com")
    received = _parse(msg, ["alice@example.com", "BOB@example.com", "carol@example.com", "dave@example.com"])
    [only] = received.message.personalizations
    assert only.to == (Address("alice@example.com", "Alice"), Address("bob@example.com"))
    assert only.cc == (Address("carol@example.com", "Carol"),)  # ghost@ was never a RCPT TO
    assert only.bcc == (Address("dave@example.com"),)
    assert received.mime == (msg.as_bytes(),)


def test_sender_subject_bodies_reply_to_and_custom_headers() -> None:
    msg = _message(Reply_To="Support <help@shop.example>", X_Order="42", X_Mailer="test")
    message = _parse(msg, ["alice@example.com"]).message
    assert message.from_ == Address("shop@example.com", "Shop")
    assert message.subject == "Your order"
    assert message.content == (
        Content("text/plain", "Plain body\n"),
        Content("text/html", '<p>HTML body</p><img src="cid:logo@shop">\n'),
    )
    assert message.reply_to == Address("help@shop.example", "Support")
    assert message.headers == {"X-Order": "42", "X-Mailer": "test"}


def test_without_a_from_header_the_envelope_sender_is_the_sender() -> None:
    raw = b"To: a@example.com\r\nSubject: s\r\n\r\nbody\r\n"
    message = mime_parse.parse_received(raw, mail_from="env@example.com", rcpt_tos=["a@example.com"], now=NOW).message
    assert message.from_ == Address("env@example.com")


def test_attachments_and_inline_images() -> None:
    msg = _message()
    html = msg.get_payload()[1]  # multipart/alternative: text/plain, text/html
    html.add_related(b"\x89PNG", "image", "png", cid="<logo@shop>")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="invoice.pdf")
    msg.add_attachment(b"no name", maintype="application", subtype="octet-stream")
    message = _parse(msg, ["alice@example.com"]).message
    assert message.attachments == (
        Attachment(b"\x89PNG", "attachment-1.png", "image/png", "inline", "logo@shop"),
        Attachment(b"%PDF-1.4", "invoice.pdf", "application/pdf", "attachment", None),
        Attachment(b"no name", "attachment-3.bin", "application/octet-stream", "attachment", None),
    )
    assert [c.type for c in message.content] == ["text/plain", "text/html"]


def test_an_attached_message_is_one_attachment_not_the_body() -> None:
    inner = _message("inner")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "a@example.com", "b@example.com", "outer"
    outer.set_content("Forwarded:\n")
    outer.add_attachment(inner)
    message = _parse(outer, ["b@example.com"]).message
    assert message.content == (Content("text/plain", "Forwarded:\n"),)
    [attached] = message.attachments
    assert attached.type == "message/rfc822"
    assert email.message_from_bytes(attached.content, policy=email.policy.default)["Subject"] == "inner"


def test_x_smtpapi_to_makes_one_personalization_each_before_the_envelopes() -> None:
    api = {"to": ["Ben <ben@example.com>", "alice@example.com"], "sub": {"-n-": ["Ben", "Alice"]}, "category": "c"}
    msg = _message(X_SMTPAPI=json.dumps(api))
    received = _parse(msg, ["alice@example.com", "bob@example.com"])
    first, second, envelope = received.message.personalizations
    assert (first.to, first.substitutions) == ((Address("ben@example.com", "Ben"),), {"-n-": "Ben"})
    assert (second.to, second.substitutions) == ((Address("alice@example.com"),), {"-n-": "Alice"})
    assert (envelope.to, envelope.bcc) == ((Address("bob@example.com"),), ())  # alice@ is not sent twice
    assert received.mime == (None, None, msg.as_bytes())
    assert received.message.categories == ("c",)


def test_every_envelope_recipient_listed_by_x_smtpapi_leaves_no_envelope_personalization() -> None:
    msg = _message(X_SMTPAPI=json.dumps({"to": ["alice@example.com"]}))
    received = _parse(msg, ["alice@example.com"])
    assert len(received.message.personalizations) == 1
    assert received.mime == (None,)


def test_x_smtpapi_settings_reach_the_message() -> None:
    api = {
        "unique_args": {"order": "42"},
        "send_at": NOW + 600,
        "asm_group_id": 7,
        "batch_id": "b1",
        "filters": {"sandbox_mode": {"settings": {"enable": 1}}},
    }
    message = _parse(_message(X_SMTPAPI=json.dumps(api)), ["alice@example.com"]).message
    assert (message.custom_args, message.send_at, message.batch_id) == ({"order": "42"}, NOW + 600, "b1")
    assert message.asm is not None
    assert message.asm.group_id == 7
    assert message.sandbox


def test_more_than_1000_recipients_is_refused() -> None:
    api = {"to": [f"x{i}@example.com" for i in range(600)]}
    with pytest.raises(BadRequest, match="limit of 1000"):
        _parse(_message(X_SMTPAPI=json.dumps(api)), [f"y{i}@example.com" for i in range(401)])


def test_personalize_rewrites_to_and_substitutes_subject_and_text_parts() -> None:
    api = {"to": ["Ben <ben@example.com>"], "sub": {"%name%": ["Bén"]}}
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "shop@example.com", "list@example.com", "Hi %name%"
    msg["X-SMTPAPI"] = json.dumps(api)
    msg.set_content("Hello %name%\n")
    msg.add_alternative("<p>Hello %name%</p>", subtype="html")
    msg.add_attachment(b"%name% stays", maintype="text", subtype="plain", filename="raw.txt")
    raw = msg.as_bytes()
    copy = email.message_from_bytes(mime_parse.personalize(raw, 0), policy=email.policy.default)
    assert (copy["To"], copy["Subject"]) == ("Ben <ben@example.com>", "Hi Bén")
    assert list(copy.keys())[:3] == ["From", "To", "Subject"]
    plain, html, attached = (part for part in copy.walk() if not part.is_multipart())
    assert (plain.get_content(), html.get_content()) == ("Hello Bén\r\n", "<p>Hello Bén</p>\r\n")
    assert attached.get_content() == "%name% stays"
    assert "MIME-Version" not in plain
    assert mime_parse.personalize(raw, 1) == raw


def test_utf8_headers_are_read_as_utf8() -> None:
    raw = "From: Jörg <jörg@exämple.com>\r\nTo: zoë@example.com\r\nSubject: Grüße\r\n\r\nHallo\r\n".encode()
    message = mime_parse.parse_received(raw, mail_from="x@example.com", rcpt_tos=["zoë@example.com"], now=NOW).message
    assert message.from_ == Address("jörg@exämple.com", "Jörg")
    assert message.subject == "Grüße"
    assert message.personalizations[0].to == (Address("zoë@example.com"),)


def test_an_rfc2047_encoded_x_smtpapi_header_is_decoded_first() -> None:
    # What nodemailer sends for {"category": ["welcome"], "unique_args": {"user": "7"}}.
    encoded = (
        "=?UTF-8?Q?=7B=22category=22=3A_=5B=22welcome=22=5D?=\r\n"
        " =?UTF-8?Q?=2C_=22unique=5Fargs=22=3A_=7B=22user=22?=\r\n =?UTF-8?Q?=3A_=227=22=7D=7D?="
    )
    raw = f"From: a@example.com\r\nTo: b@example.com\r\nX-SMTPAPI: {encoded}\r\nSubject: s\r\n\r\nx\r\n".encode()
    message = mime_parse.parse_received(raw, mail_from="a@example.com", rcpt_tos=["b@example.com"], now=NOW).message
    assert (message.categories, message.custom_args) == (("welcome",), {"user": "7"})


def test_a_json_x_smtpapi_header_that_merely_contains_encoded_word_markers_is_kept() -> None:
    header = json.dumps({"unique_args": {"link": "https://x.example/?a=?b"}})
    raw = f"From: a@example.com\r\nX-SMTPAPI: {header}\r\n\r\nx\r\n".encode()
    message = mime_parse.parse_received(raw, mail_from="a@example.com", rcpt_tos=["b@example.com"], now=NOW).message
    assert message.custom_args == {"link": "https://x.example/?a=?b"}
