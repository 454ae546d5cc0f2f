"""Python's smtplib against the relay: SendGrid's tutorial code with only host and port changed, then AUTH,
the replies SendGrid gives, and where the message lands (/_mirror/messages and Email Activity)."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.mime.text import MIMEText

import httpx
import pytest

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.kernel.errors import SENDER_NOT_VERIFIED
from tests.conftest import Keys, bearer
from tests.smtp.conftest import HOST, Mirror, run_mirror
from tests.support.accounts import set_state

QUEUED = b"Ok: queued as "


def tutorial_starttls(host: str, port: int, api_key: str) -> None:
    """SendGrid's "Sending email with Python's smtplib" (port 587 → the relay's STARTTLS port)."""
    msg = MIMEText("Hello from SendGrid's SMTP relay")
    msg["Subject"] = "SMTP tutorial"
    msg["From"] = "sender@example.com"
    msg["To"] = "recipient@example.com"

    with smtplib.SMTP(host, port) as server:
        server.starttls()
        server.login("apikey", api_key)
        server.sendmail(msg["From"], [msg["To"]], msg.as_string())


def tutorial_ssl(host: str, port: int, api_key: str) -> None:
    """The same over implicit TLS (port 465 → the relay's TLS port)."""
    msg = MIMEText("Hello over implicit TLS")
    msg["Subject"] = "SMTP tutorial (SSL)"
    msg["From"] = "sender@example.com"
    msg["To"] = "recipient@example.com"

    with smtplib.SMTP_SSL(host, port) as server:
        server.login("apikey", api_key)
        server.sendmail(msg["From"], [msg["To"]], msg.as_string())


def _latest(mirror: Mirror, to: str) -> dict[str, object]:
    page = mirror.get("/_mirror/messages", to=to).json()
    assert page["total"] >= 1, page
    latest: dict[str, object] = page["messages"][0]
    return latest


def _send_raw(mirror: Mirror, key: str, raw: bytes, *, rcpt: list[str], sender: str = "sender@example.com") -> str:
    """MAIL, RCPT, DATA by hand; returns the X-Message-Id from `250 Ok: queued as <id>`."""
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.starttls()
        server.login("apikey", key)
        assert server.mail(sender)[0] == 250
        for address in rcpt:
            assert server.rcpt(address)[0] == 250
        code, reply = server.data(raw)
    assert code == 250, reply
    assert reply.startswith(QUEUED), reply
    return reply[len(QUEUED) :].decode()


def test_the_starttls_tutorial_works_unchanged(mirror: Mirror, keys: Keys) -> None:
    tutorial_starttls(HOST, mirror.port, keys.default)
    latest = _latest(mirror, "recipient@example.com")
    assert latest["transport"] == "smtp"
    assert latest["subject"] == "SMTP tutorial"
    assert latest["from"] == {"email": "sender@example.com", "name": None}
    assert latest["to"] == ["recipient@example.com"]


def test_the_implicit_tls_tutorial_works_unchanged(mirror: Mirror, keys: Keys) -> None:
    tutorial_ssl(HOST, mirror.tls_port, keys.default)
    assert _latest(mirror, "recipient@example.com")["subject"] == "SMTP tutorial (SSL)"


def test_a_message_appears_in_email_activity(mirror: Mirror, keys: Keys) -> None:
    tutorial_starttls(HOST, mirror.port, keys.default)
    response = mirror.get("/v3/messages", keys.default, query='to_email="recipient@example.com"')
    assert response.status_code == 200, response.text
    [found] = response.json()["messages"]
    assert (found["subject"], found["status"], found["from_email"]) == (
        "SMTP tutorial",
        "delivered",
        "sender@example.com",
    )


def test_the_reply_carries_the_x_message_id_and_the_bytes_are_kept(mirror: Mirror, keys: Keys) -> None:
    raw = b"From: sender@example.com\r\nTo: ann@example.com\r\nSubject: Kept\r\n\r\nBody as sent\r\n"
    message_id = _send_raw(mirror, keys.default, raw, rcpt=["ann@example.com"])
    assert len(message_id) == 22
    stored = mirror.stored(message_id)
    assert (stored["transport"], stored["status"], stored["request"]) == ("smtp", "sent", None)
    assert mirror.raw(message_id) == raw
    assert stored["envelopes"][0]["text"] == "Body as sent\r\n"


@pytest.mark.parametrize("initial_response", [True, False])
def test_auth_login_works_with_and_without_an_initial_response(
    mirror: Mirror, keys: Keys, initial_response: bool
) -> None:
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.starttls()
        server.ehlo()
        server.user, server.password = "apikey", keys.default
        code, _ = server.auth("LOGIN", server.auth_login, initial_response_ok=initial_response)
        assert code == 235


def test_auth_login_prompts_like_sendgrid(mirror: Mirror, keys: Keys) -> None:
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.starttls()
        server.ehlo()
        assert server.docmd("AUTH", "LOGIN") == (334, base64.b64encode(b"Username:"))
        assert server.docmd(base64.b64encode(b"apikey").decode()) == (334, base64.b64encode(b"Password:"))
        assert server.docmd(base64.b64encode(keys.default.encode()).decode())[0] == 235


def test_auth_plain_works(mirror: Mirror, keys: Keys) -> None:
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.starttls()
        server.ehlo()
        server.user, server.password = "apikey", keys.default
        assert server.auth("PLAIN", server.auth_plain)[0] == 235


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("sendgrid-user", None),  # anything but the literal `apikey`
        ("APIKEY", None),
        ("apikey", "SG.unknownKey0000000000.unknownSecret000000000000000000000000000000"),
        ("apikey", "not a key"),
        ("apikey", ""),
    ],
)
def test_wrong_credentials_are_535(mirror: Mirror, keys: Keys, user: str, password: str | None) -> None:
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.starttls()
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            server.login(user, keys.default if password is None else password)
    assert (refused.value.smtp_code, refused.value.smtp_error) == (535, b"Authentication credentials invalid")


def test_a_key_without_mail_send_is_535(mirror: Mirror, keys: Keys) -> None:
    created = httpx.post(
        mirror.base_url + "/v3/api_keys", headers=bearer(keys.default), json={"name": "r", "scopes": ["alerts.read"]}
    )
    assert created.status_code == 201, created.text
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        server.login("apikey", created.json()["api_key"])
    assert refused.value.smtp_code == 535


def test_mail_before_auth_is_530(mirror: Mirror) -> None:
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.starttls()
        server.ehlo()
        assert server.mail("sender@example.com") == (530, b"Authentication required")


def test_auth_is_offered_only_after_starttls(mirror: Mirror, keys: Keys) -> None:
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.ehlo()
        assert "auth" not in server.esmtp_features
        assert server.has_extn("starttls")
        token = base64.b64encode(f"\0apikey\0{keys.default}".encode()).decode()
        assert server.docmd("AUTH", f"PLAIN {token}")[0] == 538
        server.starttls()
        server.ehlo()
        assert server.esmtp_features["auth"].split() == ["LOGIN", "PLAIN"]
        assert not server.has_extn("starttls")


def test_a_setting_allows_plaintext_auth_on_loopback(db: Database, relay_settings: Settings, keys: Keys) -> None:
    settings = relay_settings.model_copy(update={"smtp_allow_plaintext_auth": True})
    for mirror in run_mirror(db, settings):
        with smtplib.SMTP(HOST, mirror.port) as server:
            server.ehlo()
            assert "auth" in server.esmtp_features
            server.login("apikey", keys.default)
            server.sendmail("sender@example.com", ["plain@example.com"], b"Subject: plain\r\n\r\nno TLS\r\n")
        assert _latest(mirror, "plain@example.com")["subject"] == "plain"


def test_ehlo_advertises_what_sendgrid_does(mirror: Mirror) -> None:
    with smtplib.SMTP(HOST, mirror.port) as server:
        server.ehlo()
        assert server.esmtp_features["size"] == str(30 * 1024 * 1024)
        assert {"8bitmime", "smtputf8", "starttls"} <= set(server.esmtp_features)


def test_the_certificate_is_self_signed_and_verifiable_against_itself(mirror: Mirror, relay_settings: Settings) -> None:
    context = ssl.create_default_context(cafile=str(relay_settings.data_dir / "smtp-tls.pem"))
    with smtplib.SMTP_SSL("localhost", mirror.tls_port, context=context) as server:
        assert server.noop()[0] == 250
    with smtplib.SMTP("127.0.0.1", mirror.port) as server:
        server.starttls(context=context)
        assert server.noop()[0] == 250


def test_a_declared_size_over_30_mb_is_refused(mirror: Mirror, keys: Keys) -> None:
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server:
        server.login("apikey", keys.default)
        server.ehlo()
        code, _ = server.mail("sender@example.com", [f"SIZE={30 * 1024 * 1024 + 1}"])
    assert code == 552


def test_an_unverified_sender_is_550(db: Database, relay_settings: Settings, keys: Keys) -> None:
    settings = relay_settings.model_copy(update={"require_verified_sender": True})
    for mirror in run_mirror(db, settings):
        with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server:
            server.login("apikey", keys.default)
            with pytest.raises(smtplib.SMTPDataError) as refused:
                server.sendmail(
                    "nobody@unverified.example", ["ann@example.com"], b"From: nobody@unverified.example\r\n\r\nx"
                )
        assert refused.value.smtp_code == 550
        assert refused.value.smtp_error.decode() == f"5.7.1 {SENDER_NOT_VERIFIED}"
        assert mirror.total() == 0


@pytest.mark.anyio
async def test_a_suspended_account_is_refused_at_mail_from(mirror: Mirror, keys: Keys) -> None:
    async with httpx.AsyncClient(base_url=mirror.base_url) as client:
        assert (await set_state(client, "default", "suspended")).status_code == 200
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server:
        server.login("apikey", keys.default)
        code, reply = server.mail("sender@example.com")
    assert code == 550
    assert reply.decode() == (
        "5.7.1 account suspended: this account may log in but cannot send mail. Please contact Support."
    )


@pytest.mark.anyio
@pytest.mark.parametrize("state", ["deactivated", "banned"])
async def test_a_deactivated_or_banned_accounts_key_is_535(mirror: Mirror, keys: Keys, state: str) -> None:
    async with httpx.AsyncClient(base_url=mirror.base_url) as client:
        assert (await set_state(client, "default", state)).status_code == 200
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        server.login("apikey", keys.default)
    assert refused.value.smtp_code == 535


@pytest.mark.anyio
async def test_a_session_that_outlives_its_accounts_state_is_refused_per_message(mirror: Mirror, keys: Keys) -> None:
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server:
        server.login("apikey", keys.default)
        server.sendmail("sender@example.com", ["one@example.com"], b"Subject: one\r\n\r\n1")
        async with httpx.AsyncClient(base_url=mirror.base_url) as client:
            assert (await set_state(client, "default", "suspended")).status_code == 200
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            server.sendmail("sender@example.com", ["two@example.com"], b"Subject: two\r\n\r\n2")
    assert refused.value.smtp_code == 550
    assert mirror.total() == 1


def test_smtputf8_addresses_and_8bit_bodies(mirror: Mirror, keys: Keys) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Grüße"
    msg["From"] = "jörg@example.com"
    msg["To"] = "zoë@example.com"
    msg.set_content("Grüße aus dem Relay", cte="8bit")
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server:
        server.login("apikey", keys.default)
        server.send_message(msg)  # non-ASCII addresses: smtplib asks for SMTPUTF8
    latest = _latest(mirror, "zoë@example.com")
    assert (latest["subject"], latest["from"]) == ("Grüße", {"email": "jörg@example.com", "name": None})
    assert mirror.stored(str(latest["id"]))["envelopes"][0]["text"].startswith("Grüße aus dem Relay")


def test_x_smtpapi_categories_unique_args_schedule_and_sandbox(mirror: Mirror, keys: Keys) -> None:
    in_an_hour = int(time.time()) + 3600
    smtpapi = {"category": ["receipts"], "unique_args": {"order": 42}, "send_at": in_an_hour, "asm_group_id": 7}
    raw = f"From: shop@example.com\r\nTo: ann@example.com\r\nX-SMTPAPI: {json.dumps(smtpapi)}\r\n\r\nx\r\n"
    stored = mirror.stored(_send_raw(mirror, keys.default, raw.encode(), rcpt=["ann@example.com"]))
    assert (stored["categories"], stored["custom_args"], stored["status"]) == (
        ["receipts"],
        {"order": "42"},
        "scheduled",
    )
    assert stored["send_at"] is not None
    sandbox = {"filters": {"sandbox_mode": {"settings": {"enable": 1}}}}
    raw = f"From: shop@example.com\r\nX-SMTPAPI: {json.dumps(sandbox)}\r\n\r\nx\r\n"
    stored = mirror.stored(_send_raw(mirror, keys.default, raw.encode(), rcpt=["ann@example.com"]))
    assert (stored["status"], stored["sandbox"]) == ("sandbox", True)


def test_x_smtpapi_to_sends_each_address_its_own_copy(mirror: Mirror, keys: Keys) -> None:
    smtpapi = {"to": ["Ben <ben@example.com>", "joe@example.com"], "sub": {"-name-": ["Ben", "Joe"]}}
    raw = (
        "From: shop@example.com\r\nTo: list@example.com\r\nSubject: Hi -name-\r\n"
        f"X-SMTPAPI: {json.dumps(smtpapi)}\r\n\r\nDear -name-,\r\n"
    ).encode()
    message_id = _send_raw(mirror, keys.default, raw, rcpt=["list@example.com"])
    stored = mirror.stored(message_id)
    assert [(r["email"], r["kind"], r["personalization"]) for r in stored["recipients"]] == [
        ("ben@example.com", "to", 0),
        ("joe@example.com", "to", 1),
        ("list@example.com", "to", 2),
    ]
    ben = email.message_from_bytes(mirror.raw(message_id, 0), policy=email.policy.default)
    assert (ben["To"], ben["Subject"], ben.get_content()) == ("Ben <ben@example.com>", "Hi Ben", "Dear Ben,\r\n")
    assert b"Dear Joe," in mirror.raw(message_id, 1)
    assert mirror.raw(message_id, 2) == raw


def test_a_bad_x_smtpapi_header_refuses_the_message(mirror: Mirror, keys: Keys) -> None:
    with smtplib.SMTP_SSL(HOST, mirror.tls_port) as server:
        server.login("apikey", keys.default)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            server.sendmail("shop@example.com", ["ann@example.com"], b"X-SMTPAPI: {category: oops\r\n\r\nx\r\n")
    assert (refused.value.smtp_code, refused.value.smtp_error) == (
        554,
        b"5.6.0 The X-SMTPAPI header must be a JSON object.",
    )
    assert mirror.total() == 0


def _legacy_template(mirror: Mirror, key: str, **version: object) -> str:
    made = httpx.post(f"{mirror.base_url}/v3/templates", headers=bearer(key), json={"name": "Legacy"}, timeout=30)
    template_id: str = made.json()["id"]
    body = {"name": "v1", **version}
    created = httpx.post(f"{mirror.base_url}/v3/templates/{template_id}/versions", headers=bearer(key), json=body)
    assert created.status_code == 201, created.text
    return template_id


def _with_template(template_id: str, **smtpapi: object) -> str:
    return json.dumps({**smtpapi, "filters": {"templates": {"settings": {"enable": 1, "template_id": template_id}}}})


def test_x_smtpapi_templates_put_the_subject_and_body_into_a_legacy_template(mirror: Mirror, keys: Keys) -> None:
    template_id = _legacy_template(
        mirror, keys.default, subject="[Shop] <%subject%>",
        html_content="<h1>Shop</h1><%body%><p>for -name-</p>", plain_content="SHOP\n<%body%>\nfor -name-",
        generate_plain_content=False,
    )  # fmt: skip
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "shop@example.com", "list@example.com", "Order 7"
    msg["X-SMTPAPI"] = _with_template(template_id, to=["ben@example.com"], sub={"-name-": ["Ben"]})
    msg.set_content("Your order")
    msg.add_alternative("<p>Your order</p>", subtype="html")
    message_id = _send_raw(mirror, keys.default, msg.as_bytes(), rcpt=["list@example.com"])

    ben = email.message_from_bytes(mirror.raw(message_id, 0), policy=email.policy.default)
    assert (ben["To"], ben["Subject"]) == ("ben@example.com", "[Shop] Order 7")
    plain, html = ben.get_body(("plain",)), ben.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().replace("\r\n", "\n").strip() == "SHOP\nYour order\n\nfor Ben"
    assert html.get_content().replace("\r\n", "\n").strip() == "<h1>Shop</h1><p>Your order</p>\n<p>for Ben</p>"
    envelope = email.message_from_bytes(mirror.raw(message_id, 1), policy=email.policy.default)
    assert envelope["Subject"] == "[Shop] Order 7"
    assert mirror.stored(message_id)["subject"] == "[Shop] Order 7"


def test_x_smtpapi_templates_with_an_unknown_legacy_id_drop_the_message(mirror: Mirror, keys: Keys) -> None:
    raw = (
        f"From: shop@example.com\r\nTo: ann@example.com\r\nSubject: Hi\r\n"
        f"X-SMTPAPI: {_with_template('5997fcf6-2b9f-484d-acd5-7e9a99f0dc1f')}\r\n\r\nx\r\n"
    ).encode()
    stored = mirror.stored(_send_raw(mirror, keys.default, raw, rcpt=["ann@example.com"]))
    [ann] = stored["recipients"]
    assert ann["status"] == "not_delivered"
    assert [(e["event"], e["reason"]) for e in ann["events"]] == [
        ("processed", None),
        ("dropped", "Invalid SMTPAPI header"),
    ]


def test_x_smtpapi_leaves_dynamic_templates_alone_as_sendgrid_smtp_does_not_support_them(
    mirror: Mirror, keys: Keys
) -> None:
    raw = (
        f"From: shop@example.com\r\nTo: ann@example.com\r\nSubject: Hi\r\n"
        f"X-SMTPAPI: {_with_template('d-' + '0' * 32)}\r\n\r\nx\r\n"
    ).encode()
    message_id = _send_raw(mirror, keys.default, raw, rcpt=["ann@example.com"])
    assert mirror.raw(message_id) == raw
    assert [r["status"] for r in mirror.stored(message_id)["recipients"]] == ["delivered"]
