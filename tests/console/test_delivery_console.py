"""The console's events timeline shows simulated events with their reason and SendGrid's fields."""

from __future__ import annotations

import html

import httpx
import pytest

from app.kernel.db.session import Database
from tests.conftest import Keys
from tests.support.console import give_password, sign_in
from tests.support.delivery import advance, send

pytestmark = pytest.mark.anyio


async def test_the_timeline_shows_deferrals_with_their_attempt_and_a_bounce_with_its_type(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    give_password(db, "default")
    assert (await sign_in(client, "default")).status_code == 303
    deferred = await send(client, keys.default, "rita+deferred@example.com")
    await advance(client, 5 * 60)
    page = html.unescape((await client.get(f"/console/mail/{deferred.split('.', 1)[0]}")).text)
    assert page.count('class="status status-deferred">deferred</span>') == 2
    assert "attempt: 2" in page
    bounced = await send(client, keys.default, "bounce@example.com")
    page = html.unescape((await client.get(f"/console/mail/{bounced.split('.', 1)[0]}")).text)
    assert 'class="status status-bounce">bounce</span>' in page
    assert "550 5.1.1 The email account that you tried to reach does not exist" in page
    assert "type: bounce" in page
    assert "bounce_classification: Invalid Address" in page
