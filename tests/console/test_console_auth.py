"""Console sign-up, sign-in, CSRF, throttling, password reset and username reminders (server side)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.accounts import passwords
from app.accounts.models import Account
from app.console import signin as console_signin
from app.console import signup as console_signup
from app.console.models import ConsoleSession, ConsoleSignup, ConsoleToken, LoginThrottle
from app.kernel.db.base import utcnow
from app.kernel.db.session import Database
from app.mail import system as system_mail
from tests.conftest import Keys, bearer
from tests.support.accounts import create_customer, create_subuser, customer_key, set_state
from tests.support.console import (
    PASSWORD,
    emailed_link,
    give_password,
    mail_text,
    sign_in,
    submit,
    system_mails,
)

pytestmark = pytest.mark.anyio

NEW = "another-password"
SIGNUP = {"username": "newcomer", "email": "newcomer@example.com", "password": PASSWORD, "password_confirm": PASSWORD}


def account_named(db: Database, username: str) -> Account | None:
    with db.read_session() as session:
        return session.scalar(select(Account).where(Account.username == username))


async def test_the_root_and_the_console_home_lead_to_sign_in(client: httpx.AsyncClient, keys: Keys) -> None:
    root = await client.get("/")
    assert (root.status_code, root.headers["location"]) == (303, "/console/")
    home = await client.get("/console/")
    assert (home.status_code, home.headers["location"]) == (303, "/console/login")
    page = await client.get("/console/login")
    assert page.status_code == 200
    assert "<h1>Sign in to SendGrid</h1>" in page.text
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("sgmirror_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


async def test_a_sign_up_exists_only_once_its_emailed_link_is_followed(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    sent = await submit(client, "/console/signup", SIGNUP)
    assert sent.status_code == 200
    assert "We sent a confirmation link to <strong>newcomer@example.com</strong>" in sent.text
    assert account_named(db, "newcomer") is None
    [mail] = system_mails(db, "newcomer@example.com")
    assert (mail.from_email, mail.subject, mail.transport) == (
        system_mail.SYSTEM_FROM,
        "Please confirm your email address",
        "system",
    )
    listed = await client.get("/_mirror/messages", params={"to": "newcomer@example.com"})
    assert [m["id"] for m in listed.json()["messages"]] == [mail.id]

    early = await sign_in(client, "newcomer")
    assert early.status_code == 403
    assert "Please confirm your email address first" in early.text

    link = emailed_link(db, "newcomer@example.com", "/console/signup/confirm")
    confirmed = await client.get(link)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/console/login?notice=confirmed&username=newcomer"
    account = account_named(db, "newcomer")
    assert account is not None
    assert (account.kind, account.state, account.email, account.parent_id) == (
        "customer",
        "activated",
        "newcomer@example.com",
        None,
    )
    assert account.offerings == console_signup.FREE_PLAN
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2")
    assert (await client.get(link)).status_code == 400

    signed = await sign_in(client, "newcomer")
    assert (signed.status_code, signed.headers["location"]) == (303, "/console/mail")
    inbox = await client.get("/console/mail")
    assert "Please confirm your email address" in inbox.text


async def test_sign_up_problems_are_reported_together(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    bad = {"username": "x", "email": "not-an-address", "password": "short", "password_confirm": "other"}
    refused = await submit(client, "/console/signup", bad)
    assert refused.status_code == 400
    for message in (
        "Usernames are 3 to 64 letters, digits or . _ - + @.",
        "Enter a valid email address.",
        "Your password must be 8 to 128 characters long.",
        "The passwords do not match.",
    ):
        assert message in refused.text
    taken = await submit(client, "/console/signup", {**SIGNUP, "username": "default"})
    assert taken.status_code == 400
    assert console_signup.USERNAME_TAKEN in taken.text
    assert system_mails(db, "newcomer@example.com") == []


async def test_a_confirmation_link_expires_after_24_hours(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    await submit(client, "/console/signup", SIGNUP)
    with db.session() as session:
        signup = session.scalar(select(ConsoleSignup))
        assert signup is not None
        assert signup.expires_at - signup.created_at == timedelta(hours=24)
        session.execute(update(ConsoleSignup).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await client.get(emailed_link(db, "newcomer@example.com", "/console/signup/confirm"))
    assert expired.status_code == 400
    assert console_signup.INVALID_LINK in expired.text
    assert account_named(db, "newcomer") is None


async def test_the_first_confirmed_sign_up_gets_the_username(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    await submit(client, "/console/signup", SIGNUP)
    first = emailed_link(db, "newcomer@example.com", "/console/signup/confirm")
    await submit(client, "/console/signup", {**SIGNUP, "email": "other@example.com"})
    second = emailed_link(db, "other@example.com", "/console/signup/confirm")
    assert (await client.get(second)).status_code == 303
    late = await client.get(first)
    assert late.status_code == 400
    assert "was taken before this link was followed" in late.text


async def test_forms_without_the_sessions_csrf_token_are_refused(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    give_password(db, "default")
    await client.get("/console/login")
    missing = await client.post("/console/login", data={"username": "default", "password": PASSWORD})
    assert missing.status_code == 403
    assert "security token does not match" in missing.text
    forged = await client.post(
        "/console/login", data={"username": "default", "password": PASSWORD, "csrf_token": "0" * 64}
    )
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers

    assert (await sign_in(client, "default")).status_code == 303
    # The token of the anonymous page no longer works once the browser signed in.
    stale = await client.post("/console/api-keys", data={"name": "x", "access": "full", "csrf_token": "0" * 64})
    assert stale.status_code == 403
    keys_page = await client.get("/console/api-keys")
    assert "Keys of this account (1)" in keys_page.text

    another_browser = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with another_browser:
        token = (await another_browser.get("/console/login")).text.split('name="csrf_token" value="')[1].split('"')[0]
    cross = await client.post("/console/api-keys", data={"name": "x", "access": "full", "csrf_token": token})
    assert cross.status_code == 403


async def test_urlencoded_forms_only(client: httpx.AsyncClient, keys: Keys) -> None:
    await client.get("/console/login")
    as_json = await client.post("/console/login", json={"username": "default"})
    assert as_json.status_code == 400
    assert "urlencoded forms" in as_json.text


async def test_sign_in_is_throttled_after_five_failures(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    give_password(db, "default")
    for _ in range(4):
        wrong = await sign_in(client, "default", "wrong password")
        assert wrong.status_code == 401
        assert console_signin.INVALID_CREDENTIALS in wrong.text
    fifth = await sign_in(client, "default", "wrong password")
    assert fifth.status_code == 401
    locked = await sign_in(client, "default")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in locked.text
    with db.session() as session:
        session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert (await sign_in(client, "default")).status_code == 303
    with db.read_session() as session:
        assert session.get(LoginThrottle, "user:default") is None


async def test_unknown_usernames_count_as_failures_too(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    for _ in range(5):
        assert (await sign_in(client, "nobody")).status_code == 401
    assert (await sign_in(client, "nobody")).status_code == 429
    with db.read_session() as session:
        row = session.get(LoginThrottle, "ip:127.0.0.1")
        assert row is not None
        assert row.failures == 5
        assert row.locked_until is None


@pytest.mark.parametrize(("state", "allowed"), [("activated", True), ("suspended", True), ("deactivated", False),
                                                 ("banned", False), ("indeterminate", False)])  # fmt: skip
async def test_the_state_matrix_decides_who_signs_in(
    client: httpx.AsyncClient, keys: Keys, db: Database, state: str, allowed: bool
) -> None:
    account_id = await create_customer(client, keys.partner)
    give_password(db, account_id, email="owner@example.com")
    with db.session() as session:
        session.execute(update(Account).where(Account.id == account_id).values(username="owner"))
    await set_state(client, account_id, state)
    response = await sign_in(client, "owner")
    if not allowed:
        assert response.status_code == 403
        assert "You are not authorized to access SendGrid, please contact Support." in response.text
        assert "sgmirror_console=" not in response.headers.get("set-cookie", "")
        return
    assert response.status_code == 303
    inbox = await client.get("/console/mail")
    assert inbox.status_code == 200
    suspended_banner = "Sending is suspended." in inbox.text
    assert suspended_banner is (state == "suspended")


async def test_a_disabled_subuser_or_one_whose_parent_may_not_sign_in_is_refused(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    account_id = await create_customer(client, keys.partner)
    await create_subuser(client, await customer_key(client, keys.partner, account_id), "eu-team")
    give_password(db, "eu-team")
    assert (await sign_in(client, "eu-team")).status_code == 303
    await set_state(client, account_id, "deactivated")
    refused = await client.get("/console/mail")
    assert refused.status_code == 403
    assert "You are not authorized to access SendGrid" in refused.text
    await set_state(client, account_id, "activated")
    with db.session() as session:
        session.execute(update(Account).where(Account.username == "eu-team").values(disabled=True))
    assert (await sign_in(client, "eu-team")).status_code == 403


async def test_a_session_ends_when_the_state_forbids_login(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    give_password(db, "default")
    await sign_in(client, "default")
    await set_state(client, "default", "banned")
    refused = await client.get("/console/account")
    assert refused.status_code == 403
    with db.read_session() as session:
        assert session.scalars(select(ConsoleSession)).all() == []


async def test_system_accounts_never_sign_in(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    await submit(client, "/console/signup", SIGNUP)
    with db.session() as session:
        system = system_mail.system_account(session)
        system.username = "sgmirror-system"
        system.password_hash = passwords.hash_password(PASSWORD)
    assert (await sign_in(client, "sgmirror-system")).status_code == 401


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    give_password(db, "default")
    await sign_in(client, "default")
    out = await submit(client, "/console/logout", {}, page="/console/account")
    assert (out.status_code, out.headers["location"]) == (303, "/console/login?notice=signed-out")
    with db.read_session() as session:
        assert session.scalars(select(ConsoleSession)).all() == []
    assert (await client.get("/console/account")).headers["location"] == "/console/login"


async def test_password_reset_by_a_single_use_emailed_link(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    give_password(db, "default", email="dev@example.com")
    asked = await submit(client, "/console/forgot-password", {"username": "default"})
    assert (asked.status_code, "If an account uses the details you gave" in asked.text) == (200, True)
    link = emailed_link(db, "dev@example.com", "/console/reset-password")
    form = await client.get(link)
    assert form.status_code == 200
    assert form.headers["referrer-policy"] == "no-referrer"
    token = link.split("token=")[1]
    short = await submit(
        client, "/console/reset-password", {"token": token, "password": "x", "password_confirm": "x"}, page=link
    )
    assert short.status_code == 400
    assert "Your password must be 8 to 128 characters long." in short.text
    new = {"token": token, "password": "brand-new-password", "password_confirm": "brand-new-password"}
    done = await submit(client, "/console/reset-password", new, page=link)
    assert (done.status_code, done.headers["location"]) == (303, "/console/login?notice=password-reset")
    assert (await sign_in(client, "default")).status_code == 401
    assert (await sign_in(client, "default", "brand-new-password")).status_code == 303
    assert (await client.get(link)).status_code == 400
    assert (await client.get("/v3/scopes", headers=bearer(keys.default))).status_code == 200


async def test_a_reset_link_expires_after_an_hour(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    give_password(db, "default", email="dev@example.com")
    await submit(client, "/console/forgot-password", {"username": "default"})
    with db.session() as session:
        session.execute(update(ConsoleToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await client.get(emailed_link(db, "dev@example.com", "/console/reset-password"))
    assert expired.status_code == 400
    assert console_signup.INVALID_LINK in expired.text


async def test_reset_and_reminder_answers_do_not_reveal_accounts(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    unknown = await submit(client, "/console/forgot-password", {"username": "nobody"})
    nobody = await submit(client, "/console/forgot-username", {"email": "nobody@example.com"})
    assert unknown.status_code == nobody.status_code == 200
    assert "If an account uses the details you gave" in unknown.text
    with db.read_session() as session:
        assert session.scalars(select(ConsoleToken)).all() == []


async def test_forgot_username_emails_the_username(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    give_password(db, "default", email="Dev@Example.com")
    await submit(client, "/console/forgot-username", {"email": "dev@example.com"})
    [mail] = system_mails(db, "dev@example.com")
    assert mail.subject == "Your SendGrid username"
    assert "is: default" in mail_text(db, mail.id)


async def test_changing_the_password_keeps_api_keys_and_signs_out_other_browsers(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    give_password(db, "default")
    other = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with other:
        await sign_in(other, "default")
        await sign_in(client, "default")
        wrong = await submit(
            client, "/console/account/password",
            {"current_password": "nope", "new_password": NEW, "new_password_confirm": NEW},
            page="/console/account",
        )  # fmt: skip
        assert wrong.status_code == 400
        assert "Your current password is not correct." in wrong.text
        changed = await submit(
            client, "/console/account/password",
            {"current_password": PASSWORD, "new_password": NEW, "new_password_confirm": NEW},
            page="/console/account",
        )  # fmt: skip
        assert (changed.status_code, changed.headers["location"]) == (303, "/console/account?notice=password")
        assert (await client.get("/console/account")).status_code == 200
        assert (await other.get("/console/account")).headers["location"] == "/console/login"
        assert (await sign_in(other, "default")).status_code == 401
    assert (await client.get("/v3/scopes", headers=bearer(keys.default))).status_code == 200
