"""Many connections held open against a real `sgmirror serve` limited to 1,024 open files: the health check and
sends keep working; a request trickled in is cut off at its deadline; an idle SMTP session gets 421."""

from __future__ import annotations

import contextlib
import os
import resource
import select
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.smtp.server import IDLE_TIMEOUT_REPLY, MAKE_ROOM_REPLY
from tests.support import mirror_process
from tests.support.mirror_process import MirrorProcess
from tests.support.postgres import free_port

KEY = "SG.connectionLimits00000.connectionLimitsSecret0000000000000000000000"
ATTACKERS = 1000
# The client side needs its own descriptors for the attack, besides pytest's.
CLIENT_FILES = ATTACKERS + 512
MAIL = {
    "personalizations": [{"to": [{"email": "ann@example.com"}]}],
    "from": {"email": "shop@example.com"},
    "subject": "still served",
    "content": [{"type": "text/plain", "value": "ok"}],
}


def _open_files(soft: int, hard: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return limit


@pytest.fixture(scope="module")
def client_files() -> Iterator[None]:
    """Raise this process's soft open-file limit for the attack (skip where the hard limit is too low)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < CLIENT_FILES:
        pytest.skip(f"the hard open-file limit ({hard}) leaves no room for {ATTACKERS} client connections")
    if soft != resource.RLIM_INFINITY and soft < CLIENT_FILES:
        resource.setrlimit(resource.RLIMIT_NOFILE, (CLIENT_FILES, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _start(directory: Path, limit: Callable[[], None], **settings: str) -> tuple[MirrorProcess, int]:
    smtps_port = free_port()
    mirror = mirror_process.start(
        directory, preexec_fn=limit, api_key=KEY, require_verified_sender="false", rate_limit="0",
        smtps_port=str(smtps_port), **settings,
    )  # fmt: skip
    return mirror, smtps_port


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, client_files: None) -> Iterator[tuple[MirrorProcess, int]]:
    """`sgmirror serve` (HTTP, HTTPS, both relay ports) under `ulimit -n 1024`, soft and hard, default settings."""
    mirror, smtps_port = _start(tmp_path_factory.mktemp("small"), _open_files(1024, 1024))
    yield mirror, smtps_port
    mirror.stop()


@pytest.fixture(scope="module")
def hasty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorProcess]:
    """`sgmirror serve` with short request and SMTP idle deadlines, started with a soft limit below its hard one."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = _open_files(256, hard if hard != resource.RLIM_INFINITY else 4096)
    mirror, _ = _start(tmp_path_factory.mktemp("hasty"), limit, http_request_timeout="3", smtp_idle_timeout="2")
    yield mirror
    mirror.stop()


def _address(mirror: MirrorProcess) -> tuple[str, int]:
    host, port = mirror.url.removeprefix("http://").split(":")
    return host, int(port)


def _healthy(mirror: MirrorProcess) -> None:
    response = httpx.get(f"{mirror.url}/_mirror/health", timeout=15)
    assert response.status_code == 200, response.text


def _sends(mirror: MirrorProcess) -> None:
    """A mail send over HTTP, and one over the relay, are both taken."""
    headers = {"Authorization": f"Bearer {KEY}"}
    response = httpx.post(f"{mirror.url}/v3/mail/send", headers=headers, json=MAIL, timeout=30)
    assert response.status_code == 202, response.text
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", mirror.smtp_port, timeout=30) as server:
        server.starttls(context=context)
        server.login("apikey", KEY)
        assert server.sendmail("shop@example.com", ["ann@example.com"], b"Subject: relay\r\n\r\nstill here\r\n") == {}


def _connect_many(address: tuple[str, int], count: int, first: bytes = b"") -> list[socket.socket]:
    held = []
    for _ in range(count):
        sock = socket.create_connection(address, timeout=10)
        if first:
            sock.sendall(first)
        held.append(sock)
    return held


def _closed_by_server(sockets: list[socket.socket]) -> list[bytes]:
    """What each socket the server has closed received before the close (those still open are left out)."""
    closed = []
    for sock in sockets:
        sock.setblocking(False)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except BlockingIOError:
            continue  # still open
        except ConnectionResetError:
            pass  # closed with bytes of ours unread
        closed.append(received)
    return closed


def _close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def test_a_thousand_idle_smtp_connections_leave_health_and_sends_working(small: tuple[MirrorProcess, int]) -> None:
    mirror, smtps_port = small
    # Half on the STARTTLS port (greeted, then silent), half on the implicit-TLS port (no handshake at all).
    plain = _connect_many(("127.0.0.1", mirror.smtp_port), ATTACKERS // 2)
    implicit = _connect_many(("127.0.0.1", smtps_port), ATTACKERS // 2)
    try:
        for _ in range(3):
            _healthy(mirror)
        _sends(mirror)
        _healthy(mirror)
        time.sleep(2)
        # The port's cap (a share of 1,024 files) closed the sessions idle longest, saying why on the plain port.
        closed_plain, closed_implicit = _closed_by_server(plain), _closed_by_server(implicit)
        assert len(closed_plain) >= ATTACKERS // 4, len(closed_plain)
        assert len(closed_implicit) >= ATTACKERS // 4, len(closed_implicit)
        assert all(MAKE_ROOM_REPLY.encode() in received for received in closed_plain)
        assert all(received == b"" for received in closed_implicit)
    finally:
        _close_all(plain + implicit)
    _healthy(mirror)


def test_a_thousand_trickling_http_bodies_leave_health_and_sends_working(small: tuple[MirrorProcess, int]) -> None:
    mirror, _ = small
    head = (
        b"POST /v3/mail/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: 100000\r\n\r\n{"
    )
    trickling = _connect_many(_address(mirror), ATTACKERS, first=head)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(1.0):
            for sock in trickling:
                with contextlib.suppress(OSError):
                    sock.send(b" ")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        for _ in range(3):
            _healthy(mirror)
            time.sleep(1)
        _sends(mirror)
        _healthy(mirror)
        assert len(_closed_by_server(trickling)) >= ATTACKERS // 2  # made room for the checks
    finally:
        stop.set()
        thread.join(timeout=10)
        _close_all(trickling)
    _healthy(mirror)


def test_a_request_trickled_in_is_cut_off_at_the_request_deadline(hasty: MirrorProcess) -> None:
    head = (
        b"POST /v3/mail/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: 1000\r\n\r\n{"
    )
    with socket.create_connection(_address(hasty), timeout=30) as sock:
        started = time.monotonic()
        sock.sendall(head)
        # A byte every half second: far inside the 30 s body idle timeout, which used to restart each time.
        while time.monotonic() - started < 20:
            if select.select([sock], [], [], 0.5)[0]:
                break
            try:
                sock.sendall(b" ")
            except (BrokenPipeError, ConnectionResetError):
                break
        elapsed = time.monotonic() - started
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(65536) == b""  # closed, unanswered
    assert 2 <= elapsed < 15, elapsed
    # A request that arrives in pieces, but in time, is served.
    with socket.create_connection(_address(hasty), timeout=30) as sock:
        sock.sendall(b"GET /_mirror/health HTTP/1.1\r\n")
        time.sleep(1)
        sock.sendall(b"Host: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_an_idle_smtp_session_gets_421_and_is_closed(hasty: MirrorProcess) -> None:
    with socket.create_connection(("127.0.0.1", hasty.smtp_port), timeout=30) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220 ")
        sock.sendall(b"EHLO client.example\r\n")
        while (line := reader.readline())[3:4] == b"-":
            pass
        assert line.startswith(b"250 ")
        started = time.monotonic()
        assert reader.readline() == IDLE_TIMEOUT_REPLY.encode() + b"\r\n"
        elapsed = time.monotonic() - started
        assert reader.readline() == b""  # and closed
    assert 1 <= elapsed < 20, elapsed


def test_serve_raises_its_soft_open_file_limit_to_the_hard_one(hasty: MirrorProcess) -> None:
    soft, hard = resource.prlimit(hasty.process.pid, resource.RLIMIT_NOFILE)
    assert soft == hard, (soft, hard)
    _healthy(hasty)


def test_the_relay_alone_raises_its_soft_open_file_limit_too(tmp_path: Path) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    env.update(SGMIRROR_DATA_DIR=str(tmp_path / "data"), SGMIRROR_SMTP_PORT="0", SGMIRROR_SMTPS_PORT="0")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "smtp"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_open_files(256, hard if hard != resource.RLIM_INFINITY else 4096),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        seen = ""
        while "SMTP relay on" not in seen and process.poll() is None:
            seen += process.stdout.readline()
        assert "SMTP relay on" in seen, seen
        soft, hard = resource.prlimit(process.pid, resource.RLIMIT_NOFILE)
        assert soft == hard, (soft, hard)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
