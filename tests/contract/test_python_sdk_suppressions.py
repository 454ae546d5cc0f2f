"""The official Python `sendgrid` SDK reads and clears suppression lists and unsubscribe groups on the mirror."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from app.kernel.db.session import Database
from tests.conftest import Keys
from tests.support.suppressions import seed

pytestmark = pytest.mark.contract

CREATED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _json(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def test_list_and_delete_bounces_through_the_sdk(base_url: str, keys: Keys, db: Database) -> None:
    for email in ("first@example.com", "second@example.com", "third@example.com"):
        seed(db, keys.default, "bounce", email, at=CREATED, reason="550 5.1.1 no such user", status="5.1.1")
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)

    listed = sg.client.suppression.bounces.get(query_params={"limit": 10, "offset": 0})
    assert listed.status_code == 200
    assert _json(listed)[0] == {
        "created": int(CREATED.timestamp()),
        "email": "first@example.com",
        "reason": "550 5.1.1 no such user",
        "status": "5.1.1",
    }

    deleted = sg.client.suppression.bounces._("first@example.com").delete()
    assert deleted.status_code == 204
    assert _json(sg.client.suppression.bounces._("first@example.com").get()) == []
    with pytest.raises(http_errors.NotFoundError):
        sg.client.suppression.bounces._("first@example.com").delete()

    cleared = sg.client.suppression.bounces.delete(request_body={"emails": ["second@example.com"]})
    assert cleared.status_code == 204
    assert [b["email"] for b in _json(sg.client.suppression.bounces.get())] == ["third@example.com"]

    with pytest.raises(http_errors.BadRequestsError) as both:
        sg.client.suppression.bounces.delete(request_body={"delete_all": True, "emails": ["third@example.com"]})
    assert both.value.to_dict == {"errors": [{"field": None, "message": "emails and delete_all cannot both be set"}]}


def test_groups_and_global_unsubscribes_through_the_sdk(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)
    group = _json(sg.client.asm.groups.post(request_body={"name": "Weekly", "description": "Weekly news"}))
    added = sg.client.asm.groups._(group["id"]).suppressions.post(request_body={"recipient_emails": ["a@example.com"]})
    assert added.status_code == 201
    assert _json(sg.client.asm.groups._(group["id"]).suppressions.get()) == ["a@example.com"]
    assert _json(sg.client.asm.groups._(group["id"]).get())["unsubscribes"] == 1

    sg.client.asm.suppressions._("global").post(request_body={"recipient_emails": ["b@example.com"]})
    assert _json(sg.client.asm.suppressions._("global")._("b@example.com").get()) == {
        "recipient_email": "b@example.com"
    }
    assert sg.client.asm.groups._(group["id"]).delete().status_code == 204
