"""Sends that share one group commit see each other's suppressions: the writer's checks run in order."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest

from app.api_keys import auth
from app.kernel.db.session import Database
from app.mail import service as mail
from app.mail import validation as mail_validation
from app.mail.policy import SendPolicy
from tests.conftest import Keys
from tests.support.delivery import recipient
from tests.support.mail import body

pytestmark = pytest.mark.anyio


async def test_a_bounce_listed_by_one_send_drops_the_next_send_of_the_same_commit(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    raw = orjson.dumps(body(personalizations=[{"to": [{"email": "bounce@example.com"}]}]))
    message = mail_validation.parse_mail_send(orjson.loads(raw), now=0)
    principal = auth.key_principal(db, f"Bearer {keys.default}")
    policy = SendPolicy(require_verified_sender=False)

    # Both reach the writer before it starts its next transaction, so they are committed together.
    first, second = await asyncio.gather(
        *(mail.accept(db, principal, message, transport="http", raw_request=raw, policy=policy) for _ in range(2))
    )

    bounced = await recipient(client, f"{first}.filter0001.0.0.0")
    dropped = await recipient(client, f"{second}.filter0001.0.0.0")
    assert [e["event"] for e in bounced["events"]] == ["processed", "bounce"]
    assert [(e["event"], e["reason"]) for e in dropped["events"]] == [
        ("processed", None),
        ("dropped", "Bounced Address"),
    ]
