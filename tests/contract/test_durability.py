"""An acknowledged message survives SIGKILL of the server right after the 202."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from app.mail.models import Message, Recipient
from tests.support import mirror_process
from tests.support.mail import VALID

pytestmark = pytest.mark.contract

KEY = "SG.durableKey00000000000.durableSecret000000000000000000000000000000"
# Measures durability, not sender identity.
SETTINGS = {"api_key": KEY, "require_verified_sender": "false"}


def test_acknowledged_messages_survive_sigkill(tmp_path: Path) -> None:
    server = mirror_process.start(tmp_path, **SETTINGS)
    acknowledged: list[str] = []
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as http:
            for _ in range(20):
                response = http.post("/v3/mail/send", json=VALID)
                assert response.status_code == 202
                acknowledged.append(response.headers["x-message-id"])
    finally:
        server.kill()
    engine = create_engine(f"sqlite:///{tmp_path / 'sgmirror.db'}")
    with engine.connect() as conn:
        stored = set(conn.scalars(select(Message.id)))
        recipients = set(conn.scalars(select(Recipient.message_id)))
    engine.dispose()
    assert set(acknowledged) <= stored
    assert set(acknowledged) <= recipients

    restarted = mirror_process.start(tmp_path, **SETTINGS)
    try:
        raw = httpx.get(f"{restarted.url}/_mirror/messages/{acknowledged[-1]}/raw")
        assert raw.status_code == 200
        assert b"alice@example.com" in raw.content
    finally:
        restarted.stop()
