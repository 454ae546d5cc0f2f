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
from typing import Any, Final, cast

from aiosmtpd.smtp import SMTP

from app.kernel import tls
from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.server import connections
from app.server.connections import PortConnections
from app.server.listeners import listening_socket
from app.server.tls_transport import TlsSession, TlsTransport
from app.smtp import data_section
from app.smtp.handler import RelayHandler

HOSTNAME: Final = "smtp.sendgrid-mirror.local"
IDENT: Final = "ESMTP sendgrid-mirror"
# SendGrid's 30 MB message limit, the same as HTTP mail send's body limit; advertised as SIZE.
MAX_MESSAGE_BYTES: Final = 30 * 1024 * 1024
# Postfix's words when a client stays silent too long, and when a session is closed to make room.
IDLE_TIMEOUT_REPLY: Final = f"421 4.4.2 {HOSTNAME} Error: timeout exceeded"
MAKE_ROOM_REPLY: Final = f"421 4.7.0 {HOSTNAME} Error: too many connections; closing this idle one"
PORTS: Final = ("smtp", "smtps")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE_PATH: Final = re.compile(rf"\s*<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(\s.*)?", re.DOTALL)


class _WithoutLoginDataNotice(logging.Filter):
    """aiosmtpd itself sets the deprecated `Session.login_data` on every AUTH and logs a warning each time."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_WithoutLoginDataNotice())


class RelaySMTP(SMTP):
    """aiosmtpd's protocol with SendGrid's AUTH LOGIN prompts, plaintext AUTH for loopback when allowed, and limits.

    The limits: a session idle for SGMIRROR_SMTP_IDLE_TIMEOUT seconds gets `421 4.4.2` and is closed (aiosmtpd
    would close it silently after 300 s), and each port holds at most its cap of connections (app.server.
    connections), the one idle longest giving way. On the implicit-TLS port the handshake happens inside this
    protocol (app.server.tls_transport, as HTTPS does) rather than in the event loop, so that a connection
    counts from the moment it is accepted, not only once its handshake is done. DATA is read in pieces up to
    each `.<CRLF>` (app.smtp.data_section) rather than one await per line, with aiosmtpd's answers.
    """

    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(
        self,
        handler: RelayHandler,
        *,
        relay: Relay,
        port: PortConnections[RelaySMTP],
        idle_timeout: float,
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
            timeout=idle_timeout,
            # aiosmtpd only knows STARTTLS; on the implicit-TLS port the connection is encrypted from the start.
            auth_require_tls=not implicit_tls,
            authenticator=handler.authenticate,
            loop=asyncio.get_running_loop(),
        )
        self._relay = relay
        self._port = port
        self._counted = False
        self._receiving_message = False
        self._plaintext_auth_on_loopback = plaintext_auth_on_loopback
        self._implicit_tls = tls_context if implicit_tls else None
        self._tls: TlsSession | None = None
        self._raw: asyncio.Transport | None = None

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd parses every MAIL/RCPT path with the email package's RFC 5322 grammar (~100 µs each);
        # plain `<local@domain>` paths, nearly all of them, take a regular expression instead.
        simple = _SIMPLE_PATH.fullmatch(arg) if arg else None
        if simple is not None:
            return simple.group(1), simple.group(2) or ""
        return super()._getaddr(arg)

    async def _handle_client(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return  # closed to make room before it was greeted
        # Fault injection may refuse or drop the connection before aiosmtpd sends its 220 greeting.
        if await self.event_handler.greet(self):
            await super()._handle_client()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._implicit_tls is not None and self._tls is None:
            # Accepted on the implicit-TLS port: the session begins once the handshake is done (data_received).
            raw = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport subclasses
            self._tls, self._raw = TlsSession(raw, self._implicit_tls), raw
            self._relay.sessions.add(self)
            SMTP._reset_timeout(self)  # the handshake has the idle timeout to finish
            self._count()
            return
        # Called again with the TLS transport after STARTTLS (and on the implicit-TLS port after the handshake).
        super().connection_made(transport)
        self._relay.sessions.add(self)
        if self._plaintext_auth_on_loopback and self.session is not None and _is_loopback(self.session.peer):
            self._auth_require_tls = False
        self._count()

    def _count(self) -> None:
        if self._counted:
            return
        self._counted = True
        make_room = self._port.opened(self)
        if make_room is not None:
            make_room.close_waiting()

    def data_received(self, data: bytes) -> None:
        if self._tls is not None:
            assert self._raw is not None
            was_established = self._tls.established
            plain = self._tls.receive(data)
            if plain is None:
                self._raw.close()
                return
            if self._tls.established and not was_established:
                self.connection_made(TlsTransport(self._raw, self._tls))
            if not plain:
                return
            data = plain
        if self._receiving_message:
            SMTP._reset_timeout(self)  # the message is arriving: not idle, though still where it was in line
        super().data_received(data)

    def eof_received(self) -> bool | None:
        if self._tls is not None and not self._tls.established:
            return False  # no session began: the transport closes
        return super().eof_received()

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self._port.closed(self)
        if self._tls is not None and not self._tls.established:
            if self._timeout_handle is not None:
                self._timeout_handle.cancel()
            return  # the handshake never finished: aiosmtpd never began this session
        super().connection_lost(error)

    def _reset_timeout(self, duration: float | None = None) -> None:
        # aiosmtpd calls this when the session begins and at each valid command.
        super()._reset_timeout(duration)
        self._port.waiting(self)

    def _timeout_cb(self) -> None:
        if self._tls is not None and not self._tls.established:
            self.drop()
            return
        self._close_with(IDLE_TIMEOUT_REPLY)

    def close_waiting(self) -> None:
        """Close this idle session to make room for a newer connection on its port."""
        if self._tls is not None and not self._tls.established:
            self.drop()
            return
        self._close_with(MAKE_ROOM_REPLY)

    def drop(self) -> None:
        """Close the connection without a word."""
        transport = self.transport if self.transport is not None else self._raw
        if transport is not None:
            transport.close()

    def _close_with(self, reply: str) -> None:
        transport = cast(asyncio.Transport | None, self.transport)
        if transport is None or transport.is_closing():
            return
        transport.write(reply.encode("ascii") + b"\r\n")
        transport.close()

    async def smtp_DATA(self, arg: str) -> None:
        # aiosmtpd's own DATA, but the message is read by app.smtp.data_section rather than line by line.
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        self._receiving_message = True
        try:
            received = await data_section.read(self._reader, size_limit=self.data_size_limit)
        except asyncio.CancelledError:
            self._writer.close()  # the connection was lost during DATA
            raise
        finally:
            self._receiving_message = False
        if isinstance(received, str):
            self.envelope = self._create_envelope()
            await self.push(received)
            return
        self.envelope.content = self.envelope.original_content = received
        status = await self._call_handler_hook("DATA")
        self.envelope = self._create_envelope()
        await self.push(status)

    async def _call_handler_hook(self, command: str, *args: Any) -> Any:
        if command != "DATA":
            return await super()._call_handler_hook(command, *args)
        # The whole message is here: while the relay stores it, the session is neither idle nor closed for room.
        self._receiving_message = False
        self._port.busy(self)
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
        try:
            return await super()._call_handler_hook(command, *args)
        finally:
            if self.transport is not None:
                self._reset_timeout()


def _is_loopback(peer: Any) -> bool:
    try:
        return isinstance(peer, tuple) and ipaddress.ip_address(peer[0]).is_loopback
    except ValueError:
        return False


class Relay:
    """The two listening servers and the sessions they serve."""

    def __init__(self, cap: int) -> None:
        self.servers: dict[str, asyncio.Server] = {}
        self.sessions: weakref.WeakSet[RelaySMTP] = weakref.WeakSet()
        # The open connections of each port, at most `cap` each.
        self.connections: dict[str, PortConnections[RelaySMTP]] = {name: PortConnections(cap) for name in PORTS}

    def port(self, name: str) -> int:
        """The bound port of `smtp` (plain + STARTTLS) or `smtps` (implicit TLS); useful with port 0."""
        return int(self.servers[name].sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop open sessions (a message not yet answered is not stored half)."""
        for server in self.servers.values():
            server.close()
        for session in list(self.sessions):
            session.drop()
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
    # Alone (`sgmirror smtp`) the relay shares the open-file limit between its two ports; in `serve`, with HTTP.
    relay = Relay(connections.per_port_cap(settings.max_connections, ports=len(PORTS)))
    loop = asyncio.get_running_loop()

    def protocol(*, implicit_tls: bool) -> RelaySMTP:
        plaintext = settings.smtp_allow_plaintext_auth and not implicit_tls
        return RelaySMTP(
            handler,
            relay=relay,
            port=relay.connections["smtps" if implicit_tls else "smtp"],
            idle_timeout=settings.smtp_idle_timeout,
            tls_context=context,
            implicit_tls=implicit_tls,
            plaintext_auth_on_loopback=plaintext,
        )

    def plain() -> RelaySMTP:
        return protocol(implicit_tls=False)

    def implicit() -> RelaySMTP:
        return protocol(implicit_tls=True)

    try:
        # No `ssl=` on the implicit-TLS port: RelaySMTP does the handshake itself.
        if _adopted:
            shared = _adopted[0]
            relay.servers["smtp"] = await loop.create_server(plain, sock=shared.smtp)
            relay.servers["smtps"] = await loop.create_server(implicit, sock=shared.smtps)
        else:
            # The backlog `listening_socket` gives, not the event loop's 100: a burst of clients is not made to wait.
            backlog = socket.SOMAXCONN
            relay.servers["smtp"] = await loop.create_server(plain, settings.host, settings.smtp_port, backlog=backlog)
            relay.servers["smtps"] = await loop.create_server(
                implicit, settings.host, settings.smtps_port, backlog=backlog
            )
    except BaseException:
        await relay.close()
        raise
    return relay
