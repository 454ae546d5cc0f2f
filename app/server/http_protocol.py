"""uvicorn's httptools protocol with the limits nginx puts in front of SendGrid and uvicorn lacks.

uvicorn bounds neither the size of request headers nor the time a client may take to send them or the
body, so one slow or oversized client could hold a connection (and its memory) forever. Here:
- request line + headers larger than `MAX_HEADER_BYTES` → 431 and the connection closes;
- headers not complete `HEADER_TIMEOUT` seconds after the connection opened (or after the previous
  response) → the connection closes, as nginx's `client_header_timeout` does;
- a body that stalls for `BODY_IDLE_TIMEOUT` seconds → the connection closes (nginx's `client_body_timeout`);
- a request (headers and body) not complete `REQUEST_TIMEOUT` seconds (SGMIRROR_HTTP_REQUEST_TIMEOUT) after the
  connection began to wait for it → the connection closes, however steadily its bytes trickle in;
- more connections on one port than its cap → the one waiting longest on its client closes (see `connections`).
Once a request is fully received nothing is timed: long polls and slow handlers are untouched.

HTTPS is the same protocol with TLS in between: connections accepted on a port given to `serve_tls_on`
complete a handshake first (within `HEADER_TIMEOUT`), then speak HTTP as above (see `tls_transport`), so
one server and one app serve both ports.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import sys
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.server.connections import PortConnections
from app.server.tls_transport import TlsSession, TlsTransport

MAX_HEADER_BYTES: Final = 64 * 1024
HEADER_TIMEOUT: Final = 10.0
BODY_IDLE_TIMEOUT: Final = 30.0
# Set per serving process by `configure` (from the settings); these are the settings' defaults.
REQUEST_TIMEOUT = 60.0
_max_connections = 0
_TOO_LARGE: Final = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"content-length: 71\r\nconnection: close\r\n\r\n"
    b'{"errors":[{"field":null,"message":"request header fields too large"}]}'
)


# Listening ports of this process whose connections are TLS, with the context each uses.
_tls_ports: dict[int, ssl.SSLContext] = {}
# The connections of each listening port of this process.
_ports: dict[int, PortConnections[GuardedHttpToolsProtocol]] = {}


def serve_tls_on(port: int, context: ssl.SSLContext) -> None:
    """Connections this process accepts on `port` begin with a TLS handshake (HTTPS)."""
    _tls_ports[port] = context


def configure(*, max_connections: int, request_timeout: float) -> None:
    """This process's limits: open connections per listening port (0: no cap) and the whole-request deadline."""
    global REQUEST_TIMEOUT, _max_connections
    REQUEST_TIMEOUT, _max_connections = request_timeout, max_connections


def _local_port(transport: asyncio.BaseTransport) -> int:
    local = transport.get_extra_info("sockname")
    return int(local[1]) if isinstance(local, tuple) and len(local) >= 2 else 0


def _connections_on(port: int) -> PortConnections[GuardedHttpToolsProtocol]:
    connections = _ports.get(port)
    if connections is None:
        connections = _ports[port] = PortConnections(_max_connections or sys.maxsize)
    return connections


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus a header size limit, header, body and whole-request deadlines, and a port cap."""

    _connections: PortConnections[GuardedHttpToolsProtocol]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._reading_headers = True
        self._reading_body = False
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._on_deadline: Any = None
        self._request_deadline = math.inf
        self._tls: TlsSession | None = None
        self._raw: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        port = _local_port(transport)
        self._connections = _connections_on(port)
        make_room = self._connections.opened(self)
        context = _tls_ports.get(port) if _tls_ports else None
        if context is None:
            self._serve(transport)
        else:
            self._tls, self._raw = TlsSession(transport, context), transport
            # The handshake shares the headers' deadline.
            self._arm_at(self.loop.time() + HEADER_TIMEOUT, transport.close)
        if make_room is not None:
            make_room.close_waiting()

    def close_waiting(self) -> None:
        """Close this connection, which waits on its client, to make room for a newer one."""
        (self._raw if self._raw is not None else self.transport).close()

    def _serve(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self._connections.closed(self)
        if self._tls is not None and not self._tls.established:
            return  # the TLS handshake never finished: HTTP never began on this connection
        super().connection_lost(exc)

    def _decrypted(self, data: bytes) -> bytes | None:
        """HTTPS: the plaintext of `data`, serving HTTP once the handshake completes; None when closing."""
        assert self._tls is not None
        assert self._raw is not None
        was_established = self._tls.established
        plain = self._tls.receive(data)
        if plain is None:
            self._raw.close()
            return None
        if self._tls.established and not was_established:
            self._serve(TlsTransport(self._raw, self._tls))
        return plain

    def data_received(self, data: bytes) -> None:
        if self._tls is not None:
            plain = self._decrypted(data)
            if not plain:
                return
            data = plain
        super().data_received(data)
        if self._reading_headers and not self.transport.is_closing():
            # Counted after parsing: bytes of a chunk that completed the headers belong to the body.
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._cancel_timer()
                self.transport.write(_TOO_LARGE)
                self.transport.close()
        elif self._reading_body:
            self._arm_at(self.loop.time() + BODY_IDLE_TIMEOUT, self._body_stalled)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._reading_body = True
        self._arm_at(self.loop.time() + BODY_IDLE_TIMEOUT, self._body_stalled)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_body = False
        self._disarm()
        self._connections.busy(self)
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already parsed is not waited for again.
        if not self.pipeline and not self.transport.is_closing():
            self._await_headers()

    def _await_headers(self) -> None:
        self._header_bytes = 0
        self._reading_headers = True
        self._reading_body = False
        now = self.loop.time()
        self._request_deadline = now + REQUEST_TIMEOUT
        self._arm_at(now + HEADER_TIMEOUT, self._headers_too_slow)
        self._connections.waiting(self)

    def _headers_too_slow(self) -> None:
        # An idle keep-alive connection ends here too, a little after uvicorn's own keep-alive timeout.
        self.transport.close()

    def _body_stalled(self) -> None:
        # Both the body's idle timeout and the whole request's deadline end here.
        if self.flow is not None and self.flow.read_paused:
            # The application is behind, not the client: wait for it, and give the client that time back.
            deadline = self.loop.time() + BODY_IDLE_TIMEOUT
            self._request_deadline = max(self._request_deadline, deadline)
            self._arm_at(deadline, self._body_stalled)
            return
        self.transport.close()

    def _arm_at(self, deadline: float, callback: Any) -> None:
        # Moving a deadline is an attribute write: every request moves it twice, and a timer per move
        # (call_later, then cancel) cost more than the rest of this class. The one timer a connection
        # has only moves itself when it fires early. No deadline passes the whole request's.
        self._deadline = deadline if deadline < self._request_deadline else self._request_deadline
        self._on_deadline = callback
        if self._timer is None:
            self._timer = self.loop.call_at(self._deadline, self._deadline_reached)

    def _disarm(self) -> None:
        self._deadline = None

    def _deadline_reached(self) -> None:
        self._timer = None
        if self._deadline is None:
            return
        if self.loop.time() < self._deadline:
            self._timer = self.loop.call_at(self._deadline, self._deadline_reached)
            return
        self._deadline = None
        self._on_deadline()

    def _cancel_timer(self) -> None:
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
