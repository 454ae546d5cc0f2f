"""An acknowledged message survives SIGKILL of the server right after the 202."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from app.db.models import Message, Recipient
from tests.api.mail_support import VALID
from tests.support.postgres import free_port
from tests.support.server import wait_until_up

pytestmark = pytest.mark.contract

KEY = "SG.durableKey00000000000.durableSecret000000000000000000000000000000"


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    env.update(SGMIRROR_DATA_DIR=str(data_dir), SGMIRROR_HTTP_PORT=str(port), SGMIRROR_API_KEY=KEY)
    env.update(SGMIRROR_REQUIRE_VERIFIED_SENDER="false")  # measures durability, not sender identity
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_acknowledged_messages_survive_sigkill(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start(tmp_path, port)
    acknowledged: list[str] = []
    try:
        wait_until_up(url)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as http:
            for _ in range(20):
                response = http.post("/v3/mail/send", json=VALID)
                assert response.status_code == 202
                acknowledged.append(response.headers["x-message-id"])
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    engine = create_engine(f"sqlite:///{tmp_path / 'sgmirror.db'}")
    with engine.connect() as conn:
        stored = set(conn.scalars(select(Message.id)))
        recipients = set(conn.scalars(select(Recipient.message_id)))
    engine.dispose()
    assert set(acknowledged) <= stored
    assert set(acknowledged) <= recipients

    restarted = _start(tmp_path, port)
    try:
        wait_until_up(url)
        raw = httpx.get(f"{url}/_mirror/messages/{acknowledged[-1]}/raw")
        assert raw.status_code == 200
        assert b"alice@example.com" in raw.content
    finally:
        restarted.send_signal(signal.SIGINT)
        restarted.wait(timeout=15)
