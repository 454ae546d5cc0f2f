"""The servers a benchmark drives: the mirror (`sgmirror serve`), the bare FastAPI and aiosmtpd ceilings, PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

REPO = Path(__file__).resolve().parents[1]
MAIL_PATH = "/v3/mail/send"
BENCH_KEY = "SG." + "benchKey".ljust(22, "0") + "." + "benchSecret".ljust(43, "0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    log_file: IO[bytes]

    def log_tail(self, lines: int = 30) -> str:
        self.log_file.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float | None:
        """utime + stime of every live process in the server's process group (Linux /proc), else None."""
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        total = 0
        try:
            entries = list(Path("/proc").iterdir())
        except OSError:
            return None
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            # fields[2] is pgrp, fields[11] utime, fields[12] stime (man 5 proc, counted after the comm field)
            if int(fields[2]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def stop(self) -> None:
        """SIGINT to the whole process group, SIGKILL if it is still there after 15 s."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
            except ProcessLookupError:
                pass
        self.log_file.close()


def start_server(name: str, args: list[str], env: dict[str, str], port: int, workdir: Path) -> Server:
    log_path = workdir / f"{name}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Server(name, process, f"http://127.0.0.1:{port}", log_path, log_file)


def bare_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
        "bench.bare_app:app",
    ]


def bare_smtp_command(port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "bench.bare_smtp", "--port", str(port), "--workers", str(workers)]


def mirror_command(workers: int) -> list[str]:
    return [sys.executable, "-m", "app", "serve", "--workers", str(workers)]


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}


def mirror_env(port: int, data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = base_env()
    env.update(
        SGMIRROR_DATA_DIR=str(data_dir),
        SGMIRROR_API_KEY=BENCH_KEY,
        SGMIRROR_HOST="127.0.0.1",
        SGMIRROR_HTTP_PORT=str(port),
        SGMIRROR_LOG_LEVEL="warning",
        # No sender identity is set up on a fresh database; measure ingest, not the 403 path.
        SGMIRROR_REQUIRE_VERIFIED_SENDER="false",
        # The relay runs in the same process; bench.smtp turns it on, on free ports.
        SGMIRROR_SMTP_ENABLED="false",
        # The HTTPS listener costs nothing while unused; a free port keeps it out of the way.
        SGMIRROR_HTTPS_PORT="0",
    )
    if database_url:
        env["SGMIRROR_DATABASE_URL"] = database_url
    return env


class NotReady(RuntimeError):
    pass


def wait_ready(server: Server, body: bytes, timeout: float = 60) -> int:
    """POST the benchmark body until it returns 202; returns the number of 202s it got (1)."""
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {BENCH_KEY}", "Content-Type": "application/json"}
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise NotReady(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            response = httpx.post(server.base_url + MAIL_PATH, content=body, headers=headers, timeout=5)
        except httpx.TransportError as exc:
            last = repr(exc)
            time.sleep(0.1)
            continue
        if response.status_code == 202:
            return 1
        last = f"HTTP {response.status_code}: {response.text[:500]}"
        if 400 <= response.status_code < 500:
            raise NotReady(f"{server.name} answered the benchmark body with {last}")
        time.sleep(0.1)
    raise NotReady(f"{server.name} was not ready after {timeout:g} s ({last})\n{server.log_tail()}")


def wait_smtp_ready(server: Server, port: int, timeout: float = 30) -> None:
    """Wait for the SMTP server's 220 greeting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise NotReady(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                if sock.recv(512).startswith(b"220"):
                    sock.sendall(b"QUIT\r\n")
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise NotReady(f"{server.name} did not greet within {timeout:g} s\n{server.log_tail()}")


def stored_messages(server: Server) -> int | None:
    """Messages the mirror holds, from GET /_mirror/messages?limit=1; None when that API does not exist."""
    try:
        response = httpx.get(server.base_url + "/_mirror/messages", params={"limit": 1}, timeout=30)
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        return None
    total = response.json().get("total")
    return total if isinstance(total, int) else None


@contextmanager
def postgres_server(database: str) -> Iterator[Any]:
    if database != "postgresql":
        yield None
        return
    sys.path.insert(0, str(REPO))
    from tests.support import postgres

    server = postgres.start_server()
    if server is None:
        raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    try:
        yield server
    finally:
        server.stop()
