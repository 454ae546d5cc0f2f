"""The SMTP relay on the running event loop: plain + STARTTLS on one port, implicit TLS on the other.

Started by the FastAPI lifespan (`sgmirror serve`) or alone (`sgmirror smtp`); either way it shares the
loop's Database and group-commit writer with whatever else runs there. With `serve --workers N` the parent
process binds the two listening sockets once (`bind`) and every worker serves them (`adopt`): one listener
per port, the kernel handing each new connection to whichever worker accepts it first.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import ssl
import weakref
from dataclasses import dataclass
from typing import Any, Final

from aiosmtpd.smtp import SMTP

from app.kernel import tls
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.server.listeners import listening_socket
from app.smtp.handler import RelayHandler

HOSTNAME: Final = "smtp.sendgrid-mirror.local"
IDENT: Final = "ESMTP sendgrid-mirror"
# SendGrid's 30 MB message limit, the same as HTTP mail send's body limit; advertised as SIZE.
MAX_MESSAGE_BYTES: Final = 30 * 1024 * 1024
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE_PATH: Final = re.compile(rf"\s*<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(\s.*)?", re.DOTALL)


class _WithoutLoginDataNotice(logging.Filter):
    """aiosmtpd itself sets the deprecated `Session.login_data` on every AUTH and logs a warning each time."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_WithoutLoginDataNotice())


class RelaySMTP(SMTP):
    """aiosmtpd's protocol with SendGrid's AUTH LOGIN prompts and plaintext AUTH for loopback when allowed."""

    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(
        self,
        handler: RelayHandler,
        *,
        relay: Relay,
        tls_context: ssl.SSLContext | None,
        implicit_tls: bool,
        plaintext_auth_on_loopback: bool,
    ) -> None:
        super().__init__(
            handler,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            hostname=HOSTNAME,
            ident=IDENT,
            tls_context=None if implicit_tls else tls_context,
            # aiosmtpd only knows STARTTLS; on the implicit-TLS port the connection is encrypted from the start.
            auth_require_tls=not implicit_tls,
            authenticator=handler.authenticate,
            loop=asyncio.get_running_loop(),
        )
        self._relay = relay
        self._plaintext_auth_on_loopback = plaintext_auth_on_loopback

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd parses every MAIL/RCPT path with the email package's RFC 5322 grammar (~100 µs each);
        # plain `<local@domain>` paths, nearly all of them, take a regular expression instead.
        simple = _SIMPLE_PATH.fullmatch(arg) if arg else None
        if simple is not None:
            return simple.group(1), simple.group(2) or ""
        return super()._getaddr(arg)

    async def _handle_client(self) -> None:
        # Fault injection may refuse or drop the connection before aiosmtpd sends its 220 greeting.
        if await self.event_handler.greet(self):
            await super()._handle_client()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._relay.sessions.add(self)
        if self._plaintext_auth_on_loopback and self.session is not None and _is_loopback(self.session.peer):
            self._auth_require_tls = False


def _is_loopback(peer: Any) -> bool:
    try:
        return isinstance(peer, tuple) and ipaddress.ip_address(peer[0]).is_loopback
    except ValueError:
        return False


class Relay:
    """The two listening servers and the sessions they serve."""

    def __init__(self) -> None:
        self.servers: dict[str, asyncio.Server] = {}
        self.sessions: weakref.WeakSet[RelaySMTP] = weakref.WeakSet()

    def port(self, name: str) -> int:
        """The bound port of `smtp` (plain + STARTTLS) or `smtps` (implicit TLS); useful with port 0."""
        return int(self.servers[name].sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop open sessions (a message not yet answered is not stored half)."""
        for server in self.servers.values():
            server.close()
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.close()
        for server in self.servers.values():
            await server.wait_closed()


@dataclass(frozen=True)
class Listeners:
    """The relay's two listening sockets, bound by `sgmirror serve` before it starts its workers."""

    smtp: socket.socket
    smtps: socket.socket

    def ports(self) -> tuple[int, int]:
        return int(self.smtp.getsockname()[1]), int(self.smtps.getsockname()[1])


_adopted: list[Listeners] = []


def bind(settings: Settings) -> Listeners:
    """Bind and listen on SGMIRROR_HOST at both relay ports (0 picks free ports), as uvicorn binds HTTP."""
    smtp = listening_socket(settings.host, settings.smtp_port)
    try:
        return Listeners(smtp=smtp, smtps=listening_socket(settings.host, settings.smtps_port))
    except BaseException:
        smtp.close()
        raise


def adopt(listeners: Listeners) -> None:
    """Serve the relay of this process on sockets another process bound (a worker of `serve --workers N`)."""
    _adopted[:] = [listeners]


async def start(settings: Settings, db: Database) -> Relay:
    """Serve adopted listeners, else listen on SGMIRROR_HOST at SGMIRROR_SMTP_PORT and _SMTPS_PORT (0: free)."""
    context = tls.server_context(settings)
    handler = RelayHandler(db, settings)
    relay = Relay()
    loop = asyncio.get_running_loop()

    def protocol(*, implicit_tls: bool) -> RelaySMTP:
        plaintext = settings.smtp_allow_plaintext_auth and not implicit_tls
        return RelaySMTP(
            handler, relay=relay, tls_context=context, implicit_tls=implicit_tls, plaintext_auth_on_loopback=plaintext
        )

    def plain() -> RelaySMTP:
        return protocol(implicit_tls=False)

    def implicit() -> RelaySMTP:
        return protocol(implicit_tls=True)

    try:
        if _adopted:
            shared = _adopted[0]
            relay.servers["smtp"] = await loop.create_server(plain, sock=shared.smtp)
            relay.servers["smtps"] = await loop.create_server(implicit, sock=shared.smtps, ssl=context)
        else:
            relay.servers["smtp"] = await loop.create_server(plain, settings.host, settings.smtp_port)
            relay.servers["smtps"] = await loop.create_server(implicit, settings.host, settings.smtps_port, ssl=context)
    except BaseException:
        await relay.close()
        raise
    return relay
