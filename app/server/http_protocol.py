"""uvicorn's httptools protocol with the limits nginx puts in front of SendGrid and uvicorn lacks.

uvicorn bounds neither the size of request headers nor the time a client may take to send them or the
body, so one slow or oversized client could hold a connection (and its memory) forever. Here:
- request line + headers larger than `MAX_HEADER_BYTES` → 431 and the connection closes;
- headers not complete `HEADER_TIMEOUT` seconds after the connection opened (or after the previous
  response) → the connection closes, as nginx's `client_header_timeout` does;
- a body that stalls for `BODY_IDLE_TIMEOUT` seconds → the connection closes (nginx's `client_body_timeout`).
Once a request is fully received nothing is timed: long polls and slow handlers are untouched.

HTTPS is the same protocol with TLS in between: connections accepted on a port given to `serve_tls_on`
complete a handshake first (within `HEADER_TIMEOUT`), then speak HTTP as above (see `tls_transport`), so
one server and one app serve both ports.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.server.tls_transport import TlsSession, TlsTransport

MAX_HEADER_BYTES: Final = 64 * 1024
HEADER_TIMEOUT: Final = 10.0
BODY_IDLE_TIMEOUT: Final = 30.0
_TOO_LARGE: Final = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"content-length: 71\r\nconnection: close\r\n\r\n"
    b'{"errors":[{"field":null,"message":"request header fields too large"}]}'
)


# Listening ports of this process whose connections are TLS, with the context each uses.
_tls_ports: dict[int, ssl.SSLContext] = {}


def serve_tls_on(port: int, context: ssl.SSLContext) -> None:
    """Connections this process accepts on `port` begin with a TLS handshake (HTTPS)."""
    _tls_ports[port] = context


def _tls_context(transport: asyncio.BaseTransport) -> ssl.SSLContext | None:
    local = transport.get_extra_info("sockname")
    return _tls_ports.get(local[1]) if isinstance(local, tuple) and len(local) >= 2 else None


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus a header size limit, a header deadline and a body idle timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._reading_headers = True
        self._reading_body = False
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._on_deadline: Any = None
        self._tls: TlsSession | None = None
        self._raw: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        context = _tls_context(transport) if _tls_ports else None
        if context is None:
            self._serve(transport)
            return
        self._tls, self._raw = TlsSession(transport, context), transport
        self._arm(HEADER_TIMEOUT, transport.close)  # the handshake shares the headers' deadline

    def _serve(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
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
            self._arm(BODY_IDLE_TIMEOUT, self._body_stalled)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._reading_body = True
        self._arm(BODY_IDLE_TIMEOUT, self._body_stalled)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_body = False
        self._disarm()
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
        self._arm(HEADER_TIMEOUT, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        # An idle keep-alive connection ends here too, a little after uvicorn's own keep-alive timeout.
        self.transport.close()

    def _body_stalled(self) -> None:
        if self.flow is not None and self.flow.read_paused:
            # The application is behind, not the client: wait for it.
            self._arm(BODY_IDLE_TIMEOUT, self._body_stalled)
            return
        self.transport.close()

    def _arm(self, seconds: float, callback: Any) -> None:
        # Moving a deadline is an attribute write: every request moves it twice, and a timer per move
        # (call_later, then cancel) cost more than the rest of this class. The one timer a connection
        # has only moves itself when it fires early.
        self._deadline = self.loop.time() + seconds
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
