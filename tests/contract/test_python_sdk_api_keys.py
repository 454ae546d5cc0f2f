"""The official Python `sendgrid` SDK manages keys against the mirror and reads its errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from tests.conftest import Keys

pytestmark = pytest.mark.contract


def _json(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def test_key_lifecycle_through_the_sdk(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url)
    created = sg.client.api_keys.post(request_body={"name": "sdk key", "scopes": ["mail.send", "alerts.read"]})
    assert created.status_code == 201
    key_id = _json(created)["api_key_id"]

    listed = sg.client.api_keys.get(query_params={"limit": 10})
    assert key_id in [k["api_key_id"] for k in _json(listed)["result"]]

    one = sg.client.api_keys._(key_id).get()
    assert _json(one) == {"api_key_id": key_id, "name": "sdk key", "scopes": ["alerts.read", "mail.send"]}

    renamed = sg.client.api_keys._(key_id).patch(request_body={"name": "renamed"})
    assert _json(renamed) == {"api_key_id": key_id, "name": "renamed"}

    replaced = sg.client.api_keys._(key_id).put(request_body={"name": "replaced", "scopes": ["alerts.create"]})
    assert _json(replaced)["scopes"] == ["alerts.create"]

    deleted = sg.client.api_keys._(key_id).delete()
    assert deleted.status_code == 204
    with pytest.raises(http_errors.NotFoundError):
        sg.client.api_keys._(key_id).get()


def test_errors_surface_through_the_sdks_exception_classes(base_url: str, keys: Keys) -> None:
    admin = SendGridAPIClient(api_key=keys.default, host=base_url)
    created = _json(admin.client.api_keys.post(request_body={"name": "send only", "scopes": ["mail.send"]}))
    send_only = SendGridAPIClient(api_key=created["api_key"], host=base_url)

    with pytest.raises(http_errors.ForbiddenError) as forbidden:
        send_only.client.api_keys.get()
    assert forbidden.value.to_dict == {"errors": [{"field": None, "message": "access forbidden"}]}
    assert forbidden.value.reason == "Forbidden"

    admin.client.api_keys._(created["api_key_id"]).delete()
    with pytest.raises(http_errors.UnauthorizedError) as revoked:
        send_only.client.scopes.get()
    assert revoked.value.to_dict["errors"][0]["message"] == (
        "The provided authorization grant is invalid, expired, or revoked"
    )

    empty = SendGridAPIClient(api_key="", host=base_url)
    with pytest.raises(http_errors.UnauthorizedError) as wrong:
        empty.client.scopes.get()
    assert wrong.value.to_dict["errors"][0]["message"] == "Permission denied, wrong credentials"


def test_a_host_with_a_trailing_slash_still_works(base_url: str, keys: Keys) -> None:
    sg = SendGridAPIClient(api_key=keys.default, host=base_url + "/")
    assert sg.client.scopes.get().status_code == 200
