"""Mail the mirror sends itself (console confirmations, resets, reminders), through the one ingest path.

It is sent by the mirror's own `system` account from SYSTEM_FROM, so it is captured like any other
message (inbox, /_mirror/messages); the custom arg ACCOUNT_ARG names the account a mail concerns, which
is how that account's console inbox shows it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.accounts import service as accounts
from app.accounts.models import Account
from app.kernel.db.session import Database
from app.kernel.principal import Principal
from app.mail import policy as send_policy
from app.mail import service as mail
from app.mail import validation as mail_validation

SYSTEM_KIND = "system"
SYSTEM_FROM = "no-reply@sendgrid-mirror.invalid"
SYSTEM_NAME = "SendGrid Mirror"
ACCOUNT_ARG = "sgmirror_account"
CATEGORY = "sgmirror-console"


@dataclass(frozen=True, slots=True)
class Letter:
    to: str
    subject: str
    text: str
    html: str
    account_id: str


def system_account(session: Session) -> Account:
    """The mirror's own sending account, created on first use (it has no keys and never signs in)."""
    found = session.scalar(select(Account).where(Account.kind == SYSTEM_KIND).order_by(Account.created_at).limit(1))
    return found or accounts.create_account(session, kind=SYSTEM_KIND, email=SYSTEM_FROM)


def _principal(db: Database) -> Principal:
    with db.session() as session:
        account = system_account(session)
        return Principal(
            key_id="system",
            key_account_id=account.id,
            account_id=account.id,
            account_kind=account.kind,
            account_state=account.state,
            scopes=frozenset({"mail.send"}),
        )


def request_body(letter: Letter) -> dict[str, object]:
    """The v3 mail-send body of a letter: what is stored and later rendered as MIME."""
    return {
        "personalizations": [{"to": [{"email": letter.to}]}],
        "from": {"email": SYSTEM_FROM, "name": SYSTEM_NAME},
        "subject": letter.subject,
        "content": [{"type": "text/plain", "value": letter.text}, {"type": "text/html", "value": letter.html}],
        "categories": [CATEGORY],
        "custom_args": {ACCOUNT_ARG: letter.account_id},
    }


async def send(db: Database, letter: Letter) -> str:
    """Accept the letter as a message of the system account; returns its X-Message-Id.

    Call it outside any open write transaction: the group-commit writer needs SQLite's write lock.
    """
    principal = await run_in_threadpool(_principal, db)
    body = request_body(letter)
    message = mail_validation.parse_mail_send(body, now=int(time.time()))
    return await mail.accept(
        db, principal, message, transport="system", raw_request=orjson.dumps(body), policy=send_policy.SYSTEM
    )
