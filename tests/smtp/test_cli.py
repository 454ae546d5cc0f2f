"""The relay as a user starts it: inside `sgmirror serve`, or alone with `python -m app.smtp`."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.mime.text import MIMEText
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.mail.models import Message
from app.main import create_app
from tests.support.postgres import free_port
from tests.support.server import serve, wait_until_up

pytestmark = pytest.mark.contract

KEY = "SG.smtpCliKey0000000000.smtpCliSecret000000000000000000000000000000"
PORTS = re.compile(r"SMTP relay on 127\.0\.0\.1:(\d+) \(STARTTLS\) and 127\.0\.0\.1:(\d+) \(implicit TLS\)")


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    env.update(SGMIRROR_DATA_DIR=str(data_dir), SGMIRROR_API_KEY=KEY, SGMIRROR_REQUIRE_VERIFIED_SENDER="false")
    env.update(SGMIRROR_HTTPS_PORT="0")
    env.update(extra)
    return env


@contextmanager
def _running(env: dict[str, str], *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start `python -m <args>`; yields the process and its output up to the SMTP line; SIGINT at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + 60
    while "SMTP relay on" not in seen and time.monotonic() < deadline and process.poll() is None:
        seen += process.stdout.readline()
    try:
        yield process, seen
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


def _tutorial(port: int, *, subject: str) -> None:
    msg = MIMEText("Hello")
    msg["Subject"] = subject
    msg["From"] = "sender@example.com"
    msg["To"] = "recipient@example.com"
    with smtplib.SMTP("127.0.0.1", port) as server:
        server.starttls()
        server.login("apikey", KEY)
        server.sendmail(msg["From"], [msg["To"]], msg.as_string())


def test_python_m_app_smtp_runs_the_relay_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = _env(data_dir, SGMIRROR_SMTP_PORT="0", SGMIRROR_SMTPS_PORT="0")
    with _running(env, "app.smtp") as (process, output):
        ports = PORTS.search(output)
        assert ports is not None, output
        _tutorial(int(ports.group(1)), subject="alone")
        context = ssl.create_default_context(cafile=str(data_dir / "smtp-tls.pem"))
        with smtplib.SMTP_SSL("localhost", int(ports.group(2)), context=context) as server:
            server.login("apikey", KEY)
    assert process.returncode == 0
    database = Database(f"sqlite:///{data_dir / 'sgmirror.db'}")
    try:
        with database.read_session() as session:
            stored = [(m.transport, m.subject) for m in session.scalars(select(Message))]
    finally:
        database.dispose()
    assert stored == [("smtp", "alone")]


def test_serve_runs_http_and_the_relay_in_one_process(tmp_path: Path) -> None:
    http, smtp, smtps = free_port(), free_port(), free_port()
    env = _env(
        tmp_path / "data", SGMIRROR_HTTP_PORT=str(http), SGMIRROR_SMTP_PORT=str(smtp), SGMIRROR_SMTPS_PORT=str(smtps)
    )
    with _running(env, "app", "serve") as (process, output):
        assert f"SMTP relay on 127.0.0.1:{smtp} (STARTTLS) and 127.0.0.1:{smtps} (implicit TLS)" in output, output
        base_url = f"http://127.0.0.1:{http}"
        wait_until_up(base_url)
        _tutorial(smtp, subject="served")
        listed = httpx.get(base_url + "/_mirror/messages").json()
    assert [(m["transport"], m["subject"]) for m in listed["messages"]] == [("smtp", "served")]
    assert process.returncode == 0


def test_the_lifespan_starts_no_relay_when_it_is_off(db: Database, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"smtp_enabled": False}), database=db)
    with serve(app):
        assert app.state.smtp is None
