"""aiosmtpd hooks: AUTH as `apikey` with an API key, the envelope, then DATA into the one ingest path.

Protocol work only: app.domain.mime_parse reads the message, app.services.mail.accept stores it (the same
call as POST /v3/mail/send) and app.smtp.replies words every refusal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session, TLSSetupException

from app.config import Settings
from app.db.session import Database
from app.domain import mime_parse
from app.errors import InternalError, SendGridError
from app.services import auth, mail, send_policy, sending
from app.services.principal import Principal
from app.smtp import replies

USERNAME: Final = b"apikey"
# Parsing a large message takes tens of milliseconds: past this size it runs off the event loop, and only
# _LARGE_AT_ONCE such messages are parsed and stored at a time.
_SMALL_MESSAGE_BYTES: Final = 256 * 1024
_LARGE_AT_ONCE: Final = 2

log = logging.getLogger("sgmirror.smtp")


def _principal(db: Database, key: str) -> Principal:
    """The key's principal (the same short cache as HTTP), which must hold mail.send."""
    principal = auth.key_principal(db, f"Bearer {key}")
    principal.require_scope("mail.send")
    return principal


def _key_of(session: Session) -> str:
    """The API key the session authenticated with (AUTH stores it as the session's auth data)."""
    key: object = session.auth_data
    return key if isinstance(key, str) else ""


class RelayHandler:
    """One per relay; SMTP sessions keep the key they authenticated with and re-check it per message."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._policy = send_policy.from_settings(settings)
        self._large_messages = asyncio.Semaphore(_LARGE_AT_ONCE)

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """User `apikey` and an active key with mail.send; anything else is 535."""
        refused = AuthResult(success=False, handled=False, message=replies.AUTH_INVALID)
        if not isinstance(auth_data, LoginPassword) or auth_data.login != USERNAME:
            return refused
        try:
            key = auth_data.password.decode("utf-8")
            _principal(self._db, key)
        except (UnicodeDecodeError, SendGridError):
            return refused
        return AuthResult(success=True, auth_data=key)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        """530 before AUTH; an account that may not send is refused here, before its DATA is read."""
        if not session.authenticated:
            return replies.AUTH_REQUIRED
        try:
            sending.require_can_send(_principal(self._db, _key_of(session)))
        except SendGridError as error:
            return replies.reply_for(error)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= mime_parse.MAX_RECIPIENTS:
            return replies.TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message exactly as HTTP mail send would, and answer only after its COMMIT."""
        raw = envelope.original_content or b""
        if len(raw) <= _SMALL_MESSAGE_BYTES:
            return await self._ingest(session, envelope, raw)
        # A large message costs about ten times its size while it is parsed and stored; take turns.
        async with self._large_messages:
            return await self._ingest(session, envelope, raw)

    async def _ingest(self, session: Session, envelope: Envelope, raw: bytes) -> str:
        try:
            principal = _principal(self._db, _key_of(session))
            received = await _parse(raw, envelope)
            message_id = await mail.accept(
                self._db,
                principal,
                received.message,
                transport="smtp",
                raw_request=raw,
                policy=self._policy,
                mime=received.mime,
            )
        except SendGridError as error:
            return replies.reply_for(error)
        return replies.queued(message_id)

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):
            log.info("SMTP TLS handshake failed: %s", error.__cause__)
        else:
            log.exception("SMTP session failed")
        return replies.reply_for(InternalError())


async def _parse(raw: bytes, envelope: Envelope) -> mime_parse.Received:
    mail_from, rcpt_tos, now = envelope.mail_from or "", list(envelope.rcpt_tos), int(time.time())
    if len(raw) <= _SMALL_MESSAGE_BYTES:
        return mime_parse.parse_received(raw, mail_from=mail_from, rcpt_tos=rcpt_tos, now=now)
    return await asyncio.to_thread(mime_parse.parse_received, raw, mail_from=mail_from, rcpt_tos=rcpt_tos, now=now)
