"""Helpers for console tests: forms with their CSRF token, passwords, and links from captured emails."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from app.accounts import passwords
from app.accounts.models import Account
from app.inspection import service as inspection
from app.kernel.db.session import Database
from app.mail import system as system_mail
from app.mail.models import Message, Recipient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "console-password-1"


async def csrf(client: httpx.AsyncClient, page: str) -> str:
    """The CSRF token of a console page (the visit also sets the browser cookie)."""
    response = await client.get(page)
    assert response.status_code == 200, response.text
    found = CSRF.search(response.text)
    assert found is not None, f"no form on {page}"
    return found.group(1)


async def submit(
    client: httpx.AsyncClient, action: str, fields: dict[str, Any], *, page: str | None = None
) -> httpx.Response:
    """Post a console form the way a browser does: token from the page, urlencoded body."""
    token = await csrf(client, page or action)
    return await client.post(action, data={"csrf_token": token, **fields})


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await submit(client, "/console/login", {"username": username, "password": password})


def give_password(db: Database, account: str, password: str = PASSWORD, *, email: str | None = None) -> str:
    """Set an account's console password (by id or username); returns its id."""
    with db.session() as session:
        found = session.get(Account, account) or session.scalar(select(Account).where(Account.username == account))
        assert found is not None
        found.password_hash = passwords.hash_password(password)
        if email is not None:
            found.email = email
        return found.id


def system_mails(db: Database, to: str) -> list[Message]:
    """The mirror's own emails to an address, newest first."""
    with db.read_session() as session:
        query = (
            select(Message)
            .join(Account, Account.id == Message.account_id)
            .where(Account.kind == system_mail.SYSTEM_KIND)
            .where(
                select(Recipient.id).where(Recipient.message_id == Message.id, Recipient.email == to.lower()).exists()
            )
            .order_by(Message.created_at.desc(), Message.id)
        )
        return list(session.scalars(query))


def mail_text(db: Database, message_id: str) -> str:
    with db.session() as session:
        return inspection.body(session, message_id, 0, "text")


def emailed_link(db: Database, to: str, path: str) -> str:
    """The link to `path` in the newest email the mirror sent to `to` (as a path with its query)."""
    mails = system_mails(db, to)
    assert mails, f"no email to {to}"
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}\?[^\s]+)", mail_text(db, mails[0].id))
    assert found is not None, f"no {path} link in the email to {to}"
    return found.group(1)
