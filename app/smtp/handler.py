"""aiosmtpd hooks: AUTH as `apikey` with an API key, the envelope, then DATA into the one ingest path.

Protocol work only: app.smtp.mime_parse reads the message, app.mail.service.accept stores it (the same
call as POST /v3/mail/send) and app.smtp.replies words every refusal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.parser import BytesHeaderParser
from typing import Any, Final

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session, TLSSetupException

from app.api_keys import auth
from app.faults import rules as fault_rules
from app.faults import service as faults
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.kernel.errors import InternalError, SendGridError
from app.kernel.principal import Principal
from app.mail import gate as send_gate
from app.mail import policy as send_policy
from app.mail import service as mail
from app.smtp import auth_throttle, mime_parse, replies

USERNAME: Final = b"apikey"
# Parsing a large message takes tens of milliseconds: past this size it runs off the event loop, and only
# _LARGE_AT_ONCE such messages are parsed and stored at a time.
_SMALL_MESSAGE_BYTES: Final = 256 * 1024
_LARGE_AT_ONCE: Final = 2

# Answers a dropped connection's command; nobody reads it, the connection is gone.
_DROPPED: Final = "421 4.4.2 Connection dropped"

log = logging.getLogger("sgmirror.smtp")


def _principal(db: Database, key: str) -> Principal:
    """The key's principal (the same short cache as HTTP), which must hold mail.send."""
    principal = auth.key_principal(db, f"Bearer {key}")
    principal.require_scope("mail.send")
    return principal


def _client_address(session: Session) -> str:
    peer: object = session.peer
    return str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)


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
        self._faults = faults.configure(db, settings)
        self._auth_failures = auth_throttle.AuthFailures()

    async def handle_AUTH(self, server: SMTP, session: Session, envelope: Envelope, args: list[str]) -> Any:
        """An address with too many failed attempts is refused (421, then closed) before it may try again."""
        if not self._auth_failures.locked(_client_address(session), time.monotonic()):
            return MISSING  # aiosmtpd goes on with the mechanism, then `authenticate`
        if server.transport is not None:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return replies.AUTH_THROTTLED

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """User `apikey` and an active key with mail.send; anything else is 535, and counts against the address."""
        if isinstance(auth_data, LoginPassword) and auth_data.login == USERNAME:
            try:
                key = auth_data.password.decode("utf-8")
                _principal(self._db, key)
                return AuthResult(success=True, auth_data=key)
            except (UnicodeDecodeError, SendGridError):
                pass
        self._auth_failures.failed(_client_address(session), time.monotonic())
        return AuthResult(success=False, handled=False, message=replies.AUTH_INVALID)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        """530 before AUTH; an account that may not send is refused here, before its DATA is read."""
        if not self._faults.idle and (fault := await self._fault(server, "mail", [])):
            return fault
        if not session.authenticated:
            return replies.AUTH_REQUIRED
        try:
            send_gate.require_can_send(_principal(self._db, _key_of(session)))
        except SendGridError as error:
            return replies.reply_for(error)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self._faults.idle and (fault := await self._fault(server, "rcpt", [address])):
            return fault
        if len(envelope.rcpt_tos) >= mime_parse.MAX_RECIPIENTS:
            return replies.TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message exactly as HTTP mail send would, and answer only after its COMMIT."""
        raw = envelope.original_content or b""
        if not self._faults.idle and (fault := await self._fault(server, "data", list(envelope.rcpt_tos), raw)):
            return fault
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

    async def greet(self, server: SMTP) -> bool:
        """Before the 220 greeting: False when a fault rule refused or dropped the connection."""
        return self._faults.idle or not await self._fault(server, "connect", [])

    async def _fault(self, server: SMTP, stage: str, recipients: list[str], raw: bytes | None = None) -> str | None:
        """The reply of a fault rule that fires at this stage (None: carry on); 421 and drops end the session."""
        rules = self._faults.current().smtp.get(stage, ())
        if not rules:
            return None
        headers = _headers(raw) if raw is not None and any(live.rule.header for live in rules) else None
        decision = faults.decide_smtp(rules, recipients=recipients, headers=headers)
        if decision is None:
            return None
        if decision.latency_ms:
            await asyncio.sleep(decision.latency_ms / 1000)
        action, transport = decision.action, server.transport
        if action is None:
            return None
        if action.drop:
            # asyncio's and uvloop's transports both abort; the base class does not declare it.
            abort = getattr(transport, "abort", None)
            if callable(abort):
                abort()
            return _DROPPED
        reply = fault_rules.smtp_reply(action)
        if stage == "connect":
            await server.push(reply)
        if (action.code == 421 or stage == "connect") and transport is not None:
            # 421 closes the channel (RFC 5321 §3.8), once the reply is on its way.
            asyncio.get_running_loop().call_soon(transport.close)
        return reply

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):
            log.info("SMTP TLS handshake failed: %s", error.__cause__)
        else:
            log.exception("SMTP session failed")
        return replies.reply_for(InternalError())


def _headers(raw: bytes) -> dict[str, str]:
    """The message's header fields (lower-case names; the first of each), for header fault rules."""
    parsed = BytesHeaderParser().parsebytes(raw)
    headers: dict[str, str] = {}
    for name, value in parsed.items():
        headers.setdefault(name.lower(), str(value))
    return headers


async def _parse(raw: bytes, envelope: Envelope) -> mime_parse.Received:
    mail_from, rcpt_tos, now = envelope.mail_from or "", list(envelope.rcpt_tos), int(time.time())
    if len(raw) <= _SMALL_MESSAGE_BYTES:
        return mime_parse.parse_received(raw, mail_from=mail_from, rcpt_tos=rcpt_tos, now=now)
    return await asyncio.to_thread(mime_parse.parse_received, raw, mail_from=mail_from, rcpt_tos=rcpt_tos, now=now)
