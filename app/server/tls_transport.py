"""TLS for one accepted HTTPS connection, kept in memory buffers (`ssl.SSLObject`) by the HTTP protocol itself.

The protocol decrypts what arrives and hands the HTTP layer a transport that encrypts what it writes, so an
HTTPS listener is the same protocol on another port and needs nothing of the event loop: uvloop's
`start_tls` hands the bytes of a failed handshake to the old protocol and leaves the connection broken.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

_READ_CHUNK = 64 * 1024


class TlsSession:
    """The TLS state of one connection: what arrived goes in, plaintext comes out, TLS records go to `raw`."""

    def __init__(self, raw: asyncio.Transport, context: ssl.SSLContext) -> None:
        self._raw = raw
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.ssl = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.established = False

    def receive(self, data: bytes) -> bytes | None:
        """The plaintext `data` completes (b"" while the handshake goes on); None once the connection must end."""
        self._incoming.write(data)
        chunks: list[bytes] = []
        try:
            if not self.established:
                self.ssl.do_handshake()
                self.established = True
            while chunk := self.ssl.read(_READ_CHUNK):
                chunks.append(chunk)
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLError, ValueError):
            # A failed handshake, a bad record or the client's close_notify: nothing more to read.
            self._flush()
            return None
        self._flush()
        return b"".join(chunks)

    def send(self, data: bytes) -> None:
        self.ssl.write(data)
        self._flush()

    def close(self) -> None:
        """Say close_notify (best effort) before the connection closes."""
        with contextlib.suppress(ssl.SSLError, ValueError):
            self.ssl.unwrap()
        self._flush()

    def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending and not self._raw.is_closing():
            self._raw.write(pending)


class TlsTransport(asyncio.Transport):
    """The transport the HTTP layer sees on an HTTPS connection: plaintext in, TLS records out on `raw`."""

    def __init__(self, raw: asyncio.Transport, session: TlsSession) -> None:
        super().__init__()
        self._raw = raw
        self._session = session

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._raw.is_closing():
            self._session.send(bytes(data))

    def close(self) -> None:
        if not self._raw.is_closing():
            self._session.close()
            self._raw.close()

    def abort(self) -> None:
        self._raw.abort()

    def is_closing(self) -> bool:
        return self._raw.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sslcontext":
            return self._session.ssl.context
        if name == "ssl_object":
            return self._session.ssl
        if name == "cipher":
            return self._session.ssl.cipher()
        return self._raw.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._raw.pause_reading()

    def resume_reading(self) -> None:
        self._raw.resume_reading()

    def is_reading(self) -> bool:
        return self._raw.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._raw.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._raw.get_write_buffer_size()

    def can_write_eof(self) -> bool:
        return False

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._raw.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._raw.get_protocol()
