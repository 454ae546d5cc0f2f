"""Keys, passwords and tokens never reach a log line, with every logger at DEBUG and the access log on."""

from __future__ import annotations

import base64
import logging
import re
import secrets
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.accounts import bootstrap
from app.api_keys import credentials
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from app.webhooks.models import EventWebhook
from tests.conftest import bearer
from tests.support.console import emailed_link, give_password, sign_in, submit
from tests.support.server import serve

pytestmark = pytest.mark.anyio

PASSWORD_CHARS = "abcdefghijkmnopqrstuvwxyz23456789"


def new_password() -> str:
    return "pw-" + "".join(secrets.choice(PASSWORD_CHARS) for _ in range(20))


@contextmanager
def serve_with_logs(app: FastAPI) -> Iterator[str]:
    """uvicorn at DEBUG with its access log, its records left to propagate to the test's capture."""
    with serve(app, log_level="debug", access_log=True, log_config=None) as base_url:
        yield base_url


def smtp_forms(key: str) -> list[str]:
    """What an SMTP client puts on the wire for AUTH PLAIN and AUTH LOGIN with this key."""
    return [
        base64.b64encode(f"\0apikey\0{key}".encode()).decode(),
        base64.b64encode(f"apikey\0apikey\0{key}".encode()).decode(),
        base64.b64encode(key.encode()).decode(),
    ]


def smtp_send(port: int, key: str, mechanism: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "news@logs.example", "rcpt@logs.example", "logs"
    message.set_content("body")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.starttls(context=context)
        client.ehlo()
        client.esmtp_features["auth"] = mechanism
        client.login("apikey", key)
        client.send_message(message)


async def test_no_secret_reaches_the_logs(db: Database, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sgmirror", "uvicorn", "uvicorn.error", "uvicorn.access", "mail.log", "sqlalchemy", "httpx"):
        caplog.set_level(logging.DEBUG, logger=name)
    default_key, partner_key = credentials.generate_key(), credentials.generate_key()
    admin_token, password, new = secrets.token_urlsafe(32), new_password(), new_password()
    with db.session() as session:
        bootstrap.bootstrap(session, api_key=default_key, partner_api_key=partner_key)
    default_id = give_password(db, "default", password, email="dev@logs.example")
    changes = {"admin_token": admin_token, "smtp_enabled": True, "smtp_port": 0, "smtps_port": 0,
               "host": "127.0.0.1", "require_verified_sender": False, "log_level": "debug"}  # fmt: skip
    app = create_app(settings.model_copy(update=changes), database=db)
    found_secrets = {"default key": default_key, "partner key": partner_key, "admin token": admin_token,
                     "password": password, "new password": new}  # fmt: skip
    with serve_with_logs(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            created = await client.post("/v3/api_keys", headers=bearer(default_key), json={"name": "made"})
            made = found_secrets["created key"] = created.json()["api_key"]
            mail = {"personalizations": [{"to": [{"email": "a@logs.example"}]}], "from": {"email": "n@logs.example"},
                    "subject": "s", "content": [{"type": "text/plain", "value": "v"}]}  # fmt: skip
            assert (await client.post("/v3/mail/send", headers=bearer(made), json=mail)).status_code == 202
            wrong = made[:-4] + "AAAA"
            found_secrets["wrong secret"] = wrong
            assert (await client.get("/v3/scopes", headers=bearer(wrong))).status_code == 401
            assert (await client.get("/_mirror/accounts", headers=bearer(admin_token))).status_code == 200
            smtp_port = app.state.smtp.port("smtp")
            smtp_send(smtp_port, made, "PLAIN")
            smtp_send(smtp_port, made, "LOGIN")
            with pytest.raises(smtplib.SMTPAuthenticationError):
                smtp_send(smtp_port, wrong, "PLAIN")
            assert (await sign_in(client, "default", password)).status_code == 303
            await submit(client, "/console/forgot-password", {"username": "default"})
            link = emailed_link(db, "dev@logs.example", "/console/reset-password")
            token = found_secrets["reset token"] = parse_qs(urlsplit(link).query)["token"][0]
            assert (await client.get(link)).status_code == 200
            form = {"token": token, "password": new, "password_confirm": new}
            assert (await submit(client, "/console/reset-password", form, page=link)).status_code == 303
            sso = await client.post(f"/v3/partners/accounts/{default_id}/sso", headers=bearer(partner_key))
            location = sso.headers["location"]
            found_secrets["sso code"] = parse_qs(urlsplit(location).query)["code"][0]
            assert (await client.get(location)).status_code in (200, 303)
            signed = await client.patch(
                "/v3/user/webhooks/event/settings/signed", headers=bearer(default_key), json={"enabled": True}
            )
            assert signed.status_code == 200, signed.text
    with db.read_session() as session:
        private = session.scalar(select(EventWebhook.private_key).where(EventWebhook.private_key.is_not(None)))
    assert private
    found_secrets["webhook private key"] = base64.b64encode(private).decode()[:40]
    # The test's own HTTP client logs what it sends; only the server's records count.
    server_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in server_records)
    assert "POST /v3/mail/send" in text, "the access log was not captured"
    leaks = []
    for label, value in found_secrets.items():
        forms = [value, value.split(".")[-1]] if value.startswith("SG.") else [value]
        forms += smtp_forms(value) if value.startswith("SG.") else []
        leaks += [f"{label} ({form[:12]}…)" for form in forms if re.search(re.escape(form), text)]
    assert leaks == [], (
        "secrets in the logs:\n"
        + "\n".join(
            line
            for line in text.splitlines()
            if any(f in line for v in found_secrets.values() for f in [v, *smtp_forms(v)])
        )[:5000]
    )
