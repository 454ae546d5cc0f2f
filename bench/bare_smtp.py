"""The SMTP ceiling: a bare aiosmtpd server with its `Sink` handler, which accepts every message and discards it.

    python -m bench.bare_smtp --port 2525 [--workers 1]

What a client sees is what the relay asks of it: STARTTLS with a self-signed certificate (made at start, RSA
2048 as the relay's), AUTH PLAIN and LOGIN required over TLS and accepting any credentials, MAIL / RCPT /
DATA answered `250` with no hooks at all: no key lookup, no envelope rules, no parse, no database. The same
event loop as the mirror's (uvloop when installed); with --workers N, N processes serve one listening socket.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import logging
import os
import signal
import socket
import ssl
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HOSTNAME = "bare-smtp.local"
MAX_MESSAGE_BYTES = 30 * 1024 * 1024

# aiosmtpd warns on every AUTH that it set its own deprecated `login_data`; the relay filters that out too.
logging.getLogger("mail.log").setLevel(logging.ERROR)


def self_signed_context() -> ssl.SSLContext:
    """A server context holding a fresh self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTNAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + certificate.public_bytes(serialization.Encoding.PEM)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cert.pem"
        path.write_bytes(pem)
        context.load_cert_chain(path)
    return context


def accept_anyone(*_: Any) -> AuthResult:
    """Any user name and password."""
    return AuthResult(success=True)


async def serve(sock: socket.socket, context: ssl.SSLContext) -> None:
    """Serve the listening socket until the process is told to stop."""
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            Sink(),
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            hostname=HOSTNAME,
            tls_context=context,
            authenticator=accept_anyone,
            loop=loop,
        )

    server = await loop.create_server(protocol, sock=sock)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()


def run(sock: socket.socket, context: ssl.SSLContext) -> None:
    """One process's event loop: uvloop when installed, as uvicorn picks for the mirror."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(sock, context))
    else:
        uvloop.run(serve(sock, context))


def listen(port: int) -> socket.socket:
    sock = socket.create_server(("127.0.0.1", port), backlog=socket.SOMAXCONN)
    sock.setblocking(False)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_smtp", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="processes serving the one listener (default 1)")
    args = parser.parse_args(argv)
    sock, context = listen(args.port), self_signed_context()
    children: list[int] = []
    for _ in range(args.workers - 1):
        pid = os.fork()
        if pid == 0:  # a worker: serve, then leave without the parent's cleanup
            run(sock, context)
            os._exit(0)
        children.append(pid)
    run(sock, context)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
