"""A message whose MIME parts nest too deep: refused for good (a client must not retry it), and read no further."""

from __future__ import annotations

import smtplib
import time

import pytest

from app.kernel.errors import BadRequest
from app.smtp import mime_parse
from tests.conftest import Keys
from tests.smtp.conftest import HOST, Mirror

REFUSED = (554, f"5.6.0 {mime_parse.TOO_DEEP}".encode())
KINDS = ["multipart", "message"]


def nested(depth: int, kind: str) -> bytes:
    """A message with `depth` containers (multipart/mixed or message/rfc822), each inside the one before."""
    head = b"From: shop@example.com\r\nTo: ann@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    if kind == "multipart":
        part = b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n'
        opening = b"".join(part % (i, i) for i in range(depth))
        closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    else:
        opening = b"".join(b"Content-Type: message/rfc822\r\n\r\nSubject: level %d\r\n" % i for i in range(depth))
        closing = b""
    return head + opening + b"Content-Type: text/plain\r\n\r\nthe innermost part\r\n" + closing


def _parse(raw: bytes) -> mime_parse.Received:
    return mime_parse.parse_received(raw, mail_from="shop@example.com", rcpt_tos=["ann@example.com"], now=0)


@pytest.mark.parametrize("kind", KINDS)
def test_the_parser_reads_up_to_the_nesting_limit_and_no_further(kind: str) -> None:
    assert _parse(nested(mime_parse.MAX_NESTING, kind)).message.personalizations
    with pytest.raises(BadRequest) as refused:
        _parse(nested(mime_parse.MAX_NESTING + 1, kind))
    assert [detail.message for detail in refused.value.details] == [mime_parse.TOO_DEEP]
    started = time.monotonic()
    with pytest.raises(BadRequest):  # Python's own parser would raise RecursionError near 1,000 levels
        _parse(nested(5000, kind))
    assert time.monotonic() - started < 10  # it stops at the limit rather than reading on


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_nested_5000_deep_gets_a_permanent_refusal(mirror: Mirror, keys: Keys, kind: str) -> None:
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server:
        server.login("apikey", keys.default)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            server.sendmail("shop@example.com", ["ann@example.com"], nested(5000, kind))
        assert (refused.value.smtp_code, refused.value.smtp_error) == REFUSED
        # The session carries on: the next message is taken.
        assert server.sendmail("shop@example.com", ["ann@example.com"], b"Subject: after\r\n\r\nfine\r\n") == {}
    assert mirror.total() == 1


def test_a_message_at_the_limit_is_stored_and_can_be_read_back(mirror: Mirror, keys: Keys) -> None:
    raw = nested(mime_parse.MAX_NESTING, "message")
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server:
        server.login("apikey", keys.default)
        assert server.mail("shop@example.com")[0] == 250
        assert server.rcpt("ann@example.com")[0] == 250
        code, reply = server.data(raw)
    assert code == 250, reply
    message_id = reply.decode().rsplit(" ", 1)[-1]
    assert mirror.stored(message_id)["subject"] == "deep"
    assert mirror.raw(message_id) == raw
