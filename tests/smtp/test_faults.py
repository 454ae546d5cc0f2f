"""Fault injection on the SMTP relay: smtplib gets the chosen reply at each stage, or a dropped connection."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.conftest import Keys
from tests.smtp.conftest import HOST, Mirror


def add(mirror: Mirror, **rule: Any) -> None:
    response = httpx.post(f"{mirror.base_url}/_mirror/faults", json={"transport": "smtp", **rule}, timeout=10)
    assert response.status_code == 201, response.text


def hits(mirror: Mirror) -> dict[str, int]:
    return {r["id"]: r["hits"] for r in mirror.get("/_mirror/faults").json()["rules"]}


def message(to: str = "ann@example.com", **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "sender@example.com", to, "Fault test"
    for name, value in headers.items():
        mail[name] = value
    mail.set_content("Hello")
    return mail


def signed_in(mirror: Mirror, keys: Keys) -> smtplib.SMTP:
    client = smtplib.SMTP(HOST, mirror.port, timeout=30)
    client.starttls()
    client.login("apikey", keys.default)
    return client


def test_connect_stage_421_refuses_the_greeting(mirror: Mirror, keys: Keys) -> None:
    add(mirror, id="closed", stage="connect", times=1, action={"code": 421})
    with pytest.raises(smtplib.SMTPConnectError) as raised:
        smtplib.SMTP(HOST, mirror.port, timeout=30)
    assert raised.value.smtp_code == 421
    assert raised.value.smtp_error == b"4.7.0 Try again later, closing connection"
    with signed_in(mirror, keys) as client:
        assert client.noop()[0] == 250


def test_connect_stage_drop(mirror: Mirror) -> None:
    add(mirror, stage="connect", action={"drop": True})
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtplib.SMTP(HOST, mirror.port, timeout=30)


def test_mail_stage_reply_with_the_rules_own_text(mirror: Mirror, keys: Keys) -> None:
    add(mirror, id="busy", stage="mail", nth=2, action={"code": 451, "text": "4.7.1 Busy, come back later"})
    with signed_in(mirror, keys) as client:
        client.send_message(message())
        with pytest.raises(smtplib.SMTPSenderRefused) as raised:
            client.send_message(message())
        assert (raised.value.smtp_code, raised.value.smtp_error) == (451, b"4.7.1 Busy, come back later")
        client.rset()
        client.send_message(message())
    assert hits(mirror) == {"busy": 1}
    assert mirror.total() == 2


def test_421_at_mail_closes_the_connection(mirror: Mirror, keys: Keys) -> None:
    add(mirror, stage="mail", action={"code": 421})
    client = signed_in(mirror, keys)
    assert client.mail("sender@example.com")[0] == 421
    time.sleep(0.2)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.noop()


def test_recipient_rule_refuses_only_the_matching_address(mirror: Mirror, keys: Keys) -> None:
    add(mirror, id="full", recipient="+fault452@", action={"code": 452})
    with signed_in(mirror, keys) as client:
        assert client.mail("sender@example.com")[0] == 250
        assert client.rcpt("ann+fault452@example.com")[0] == 452
        assert client.rcpt("bob@example.com")[0] == 250
        assert client.data(message(to="bob@example.com").as_bytes())[0] == 250
    stored = mirror.get("/_mirror/messages").json()["messages"][0]
    assert stored["to"] == ["bob@example.com"]


def test_data_stage_554_stores_nothing(mirror: Mirror, keys: Keys) -> None:
    add(mirror, id="reject", every=1, action={"code": 554})
    with signed_in(mirror, keys) as client, pytest.raises(smtplib.SMTPDataError) as raised:
        client.send_message(message())
    assert raised.value.smtp_code == 554
    assert mirror.total() == 0


def test_data_stage_header_and_recipient_rules(mirror: Mirror, keys: Keys) -> None:
    add(mirror, id="by-header", header={"X-Mirror-Fault": "451"}, action={"code": 451})
    add(mirror, id="by-domain", stage="data", recipient="@down.example", action={"code": 550})
    with signed_in(mirror, keys) as client:
        client.send_message(message())
        with pytest.raises(smtplib.SMTPDataError) as by_header:
            client.send_message(message(**{"X-Mirror-Fault": "451"}))
        with pytest.raises(smtplib.SMTPDataError) as by_domain:
            client.send_message(message(to="ops@down.example"))
    assert (by_header.value.smtp_code, by_domain.value.smtp_code) == (451, 550)
    assert hits(mirror) == {"by-header": 1, "by-domain": 1}


def test_data_stage_drop_disconnects(mirror: Mirror, keys: Keys) -> None:
    add(mirror, stage="data", action={"drop": True})
    client = signed_in(mirror, keys)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.send_message(message())
    assert mirror.total() == 0


def test_latency_then_normal_service(mirror: Mirror, keys: Keys) -> None:
    add(mirror, id="slow", stage="rcpt", action={"latency_ms": 200})
    with signed_in(mirror, keys) as client:
        started = time.monotonic()
        client.send_message(message())
        assert time.monotonic() - started >= 0.2
    assert hits(mirror) == {"slow": 1}
    assert mirror.total() == 1


def test_http_rules_leave_smtp_alone(mirror: Mirror, keys: Keys) -> None:
    response = httpx.post(f"{mirror.base_url}/_mirror/faults", json={"action": {"status": 503}}, timeout=10)
    assert response.status_code == 201
    with signed_in(mirror, keys) as client:
        client.send_message(message())
    assert mirror.total() == 1
