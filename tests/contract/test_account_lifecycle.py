"""One customer account walks activated → suspended → activated → deactivated → activated → banned.

After each step the official Python SDK (and a browser-like client for the console cookie) checks
what the state matrix promises: key use, SSO login, subusers and IPs, and a real send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Mail

from app.accounts import state as account_state
from app.accounts.state import Capability
from app.api_keys import auth
from app.kernel.db.session import Database
from app.kernel.errors import CapabilityDenied
from app.mail import gate as send_gate
from tests.conftest import Keys

pytestmark = pytest.mark.contract

NOT_AUTHORIZED = "You are not authorized to access SendGrid, please contact Support."
SUSPENDED = "account suspended: this account may log in but cannot send mail. Please contact Support."
INVALID_GRANT = "The provided authorization grant is invalid, expired, or revoked"


@dataclass(frozen=True)
class Expected:
    """What one state should look like from outside."""

    state: str
    keys_work: bool
    login: bool
    subusers: list[str]
    ips: int
    send_refusal: str | None


STEPS = [
    Expected("activated", True, True, ["lifecycle-eu"], 3, None),
    Expected("suspended", True, True, ["lifecycle-eu"], 3, SUSPENDED),
    Expected("activated", True, True, ["lifecycle-eu"], 3, None),
    Expected("deactivated", False, False, ["lifecycle-eu"], 3, NOT_AUTHORIZED),
    Expected("activated", True, True, ["lifecycle-eu"], 3, None),
    Expected("banned", False, False, [], 0, NOT_AUTHORIZED),
]


def _json(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


@dataclass
class World:
    base_url: str
    partner: SendGridAPIClient
    acting: SendGridAPIClient
    account_id: str
    customer_key: str
    subuser_key: str


def _setup(base_url: str, keys: Keys) -> World:
    """A partner creates the account, gives it a key, IPs and a subuser with its own key."""
    partner = SendGridAPIClient(api_key=keys.partner, host=base_url)
    created = partner.client.partners.accounts.post(
        request_body={
            "profile": {"email": "owner@lifecycle.example", "timezone": "America/New_York"},
            "offerings": [{"name": "org.ei.pro100k.v1", "type": "package", "quantity": 1}],
        }
    )
    assert created.status_code == 201
    account_id = _json(created)["account_id"]
    acting = SendGridAPIClient(api_key=keys.partner, host=base_url, impersonate_subuser=f"account-id {account_id}")
    customer_key = _json(acting.client.api_keys.post(request_body={"name": "lifecycle"}))["api_key"]
    customer = SendGridAPIClient(api_key=customer_key, host=base_url)
    added = partner.client.partners.accounts._(account_id).ips.post(request_body={"count": 1, "region": "us"})
    assert added.status_code == 201
    ips = _json(customer.client.ips.post(request_body={"count": 2}))["ips"]
    subuser = customer.client.subusers.post(
        request_body={
            "username": "lifecycle-eu",
            "email": "eu@lifecycle.example",
            "password": "a long enough password",
            "ips": [ips[0]["ip"]],
        }
    )
    assert subuser.status_code == 200
    as_subuser = SendGridAPIClient(api_key=customer_key, host=base_url, impersonate_subuser="lifecycle-eu")
    subuser_key = _json(as_subuser.client.api_keys.post(request_body={"name": "eu"}))["api_key"]
    return World(base_url, partner, acting, account_id, customer_key, subuser_key)


def _check_key(world: World, key: str, works: bool) -> None:
    scopes = SendGridAPIClient(api_key=key, host=world.base_url).client.scopes
    if works:
        assert scopes.get().status_code == 200
        return
    with pytest.raises(http_errors.UnauthorizedError) as refused:
        scopes.get()
    assert refused.value.to_dict == {"errors": [{"field": None, "message": INVALID_GRANT}]}


def _check_sdk_sso(world: World, login: bool) -> None:
    """The SDK follows the 303 to the console link (without cookies) and reports the console's answer."""
    sso = world.partner.client.partners.accounts._(world.account_id).sso
    if login:
        assert sso.post().status_code == 200
        return
    with pytest.raises(http_errors.ForbiddenError) as refused:
        sso.post()
    assert NOT_AUTHORIZED in refused.value.body.decode()


def _browser_sso_login(world: World) -> bool:
    """A cookie-keeping client: the SSO link signs the account in, or the console refuses."""
    url = f"{world.base_url}/v3/partners/accounts/{world.account_id}/sso"
    with httpx.Client() as browser:
        redirect = browser.post(url, headers={"Authorization": f"Bearer {world.partner.api_key}"})
        assert redirect.status_code == 303
        assert redirect.headers["location"].startswith(f"{world.base_url}/console/sso?code=")
        page = browser.get(redirect.headers["location"], follow_redirects=True)
    if page.status_code == 403:
        assert NOT_AUTHORIZED in page.text
        return False
    assert page.status_code == 200
    assert f"Signed in as owner@lifecycle.example (account {world.account_id}" in page.text
    return True


def _move_to(world: World, state: str) -> None:
    """Partners set activated/deactivated; compliance (the admin API) sets suspended and banned."""
    if account_state.partner_settable(state) is not None:
        response = world.partner.client.partners.accounts._(world.account_id).state.put(request_body={"state": state})
        assert (response.status_code, response.body) == (204, b"")
    else:
        response = httpx.put(f"{world.base_url}/_mirror/accounts/{world.account_id}/state", json={"state": state})
        assert response.status_code == 200


def _check_sending(db: Database, world: World, expected: Expected) -> None:
    assert account_state.allows(expected.state, Capability.SEND_MAIL) is (expected.send_refusal is None)
    subjects: list[Any] = [expected.state]
    if expected.keys_work:
        subjects.append(auth.authenticate(db, f"Bearer {world.customer_key}"))
        subjects.append(auth.authenticate(db, f"Bearer {world.subuser_key}"))
    for subject in subjects:
        if expected.send_refusal is None:
            send_gate.require_can_send(subject)
        else:
            with pytest.raises(CapabilityDenied) as denied:
                send_gate.require_can_send(subject)
            assert str(denied.value) == expected.send_refusal


def _check_sdk_send(world: World, expected: Expected) -> None:
    """A real send with the account's own key, through the SDK's Mail helper."""
    client = SendGridAPIClient(api_key=world.customer_key, host=world.base_url)
    message = Mail(from_email="owner@lifecycle.example", to_emails="someone@example.com", subject="Hi",
                   plain_text_content=f"sent while {expected.state}")  # fmt: skip
    if expected.send_refusal is None:
        assert client.send(message).status_code == 202
    elif not expected.keys_work:
        with pytest.raises(http_errors.UnauthorizedError) as revoked:
            client.send(message)
        assert revoked.value.to_dict["errors"][0]["message"] == INVALID_GRANT
    else:
        with pytest.raises(http_errors.ForbiddenError) as refused:
            client.send(message)
        assert refused.value.to_dict == {"errors": [{"message": expected.send_refusal, "field": None, "help": None}]}


def _observe(world: World, db: Database, expected: Expected) -> None:
    state = world.partner.client.partners.accounts._(world.account_id).state.get()
    assert _json(state) == {"state": expected.state}
    _check_key(world, world.customer_key, expected.keys_work)
    _check_key(world, world.subuser_key, expected.keys_work)
    _check_sdk_sso(world, expected.login)
    assert _browser_sso_login(world) is expected.login
    assert [s["username"] for s in _json(world.acting.client.subusers.get())] == expected.subusers
    assert len(_json(world.acting.client.ips.get(query_params={"limit": 50}))) == expected.ips
    partner_ips = _json(world.partner.client.partners.accounts._(world.account_id).ips.get())
    assert len(partner_ips["result"]) == expected.ips
    _check_sending(db, world, expected)
    _check_sdk_send(world, expected)


def test_one_account_through_every_state(base_url: str, keys: Keys, db: Database) -> None:
    world = _setup(base_url, keys)
    for expected in STEPS:
        _move_to(world, expected.state)
        _observe(world, db, expected)

    with pytest.raises(http_errors.BadRequestsError) as final:
        world.partner.client.partners.accounts._(world.account_id).state.put(request_body={"state": "activated"})
    assert final.value.to_dict == {
        "errors": [
            {
                "message": "The account is banned, a final state: its state cannot be changed to activated",
                "field": "state",
                "error_id": "10-40020",
            }
        ]
    }


def test_customer_keys_are_refused_by_the_partner_api(base_url: str, keys: Keys) -> None:
    customer = SendGridAPIClient(api_key=keys.default, host=base_url)
    with pytest.raises(http_errors.ForbiddenError) as refused:
        customer.client.partners.accounts.get()
    assert refused.value.to_dict == {
        "errors": [
            {
                "message": "The authenticated user is not authorized to perfrom this request",
                "field": "",
                "error_id": "10-40300",
            }
        ]
    }
