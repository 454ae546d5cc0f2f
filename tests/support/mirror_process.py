"""`sgmirror serve` as a real process group on loopback, and which worker holds a given client connection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import free_port
from tests.support.server import wait_until_up


@dataclass
class MirrorProcess:
    """One `sgmirror serve [--workers N]`, leader of its own process group (workers included)."""

    process: subprocess.Popen[bytes]
    url: str
    smtp_port: int
    log: Path
    https_url: str

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole group at once: the parent and every worker, mid-request."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        """SIGINT (as Ctrl+C), SIGKILL to the group if it is still there after 20 s."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def owner_of(self, client_port: int, server_port: int) -> int | None:
        """The pid in the group holding the server end of the loopback connection from `client_port`."""
        inode = _server_socket_inode(server_port, client_port)
        if inode is None:
            return None
        target = f"socket:[{inode}]"
        for pid in self.group_pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        return None

    def group_pids(self) -> list[int]:
        """Live processes of the group (Linux /proc)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[2]) == self.process.pid:
                pids.append(int(entry.name))
        return pids


def listening_sockets(port: int) -> int:
    """How many sockets listen on 127.0.0.1:`port` (one per process each with SO_REUSEPORT; one if shared)."""
    return sum(1 for local, _remote, state, _inode in _tcp_table() if local == port and state == "0A")


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    for local, remote, state, inode in _tcp_table():
        if local == server_port and remote == client_port and state == "01":  # ESTABLISHED
            return inode
    return None


def _tcp_table() -> list[tuple[int, int, str, str]]:
    """(local port, remote port, state, inode) of each IPv4 TCP socket in /proc/net/tcp."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        rows.append((int(local.split(":")[1], 16), int(remote.split(":")[1], 16), state, inode))
    return rows


def start(
    data_dir: Path, *, workers: int = 1, preexec_fn: Callable[[], None] | None = None, **settings: str
) -> MirrorProcess:
    """Start `sgmirror serve --workers N` on free loopback ports with SGMIRROR_<NAME> settings; wait for HTTP.
    `preexec_fn` runs in the child before it starts (say, to lower its resource limits)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port, smtp_port, https_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    env.update(
        SGMIRROR_DATA_DIR=str(data_dir), SGMIRROR_HOST="127.0.0.1", SGMIRROR_HTTP_PORT=str(port),
        SGMIRROR_SMTP_PORT=str(smtp_port), SGMIRROR_SMTPS_PORT=str(free_port()), SGMIRROR_LOG_LEVEL="info",
        SGMIRROR_HTTPS_PORT=str(https_port),
    )  # fmt: skip
    env.update({f"SGMIRROR_{name.upper()}": value for name, value in settings.items()})
    log = data_dir / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--workers", str(workers)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
    mirror = MirrorProcess(process, f"http://127.0.0.1:{port}", smtp_port, log, f"https://127.0.0.1:{https_port}")
    try:
        wait_until_up(mirror.url, seconds=120)
    except RuntimeError:
        mirror.kill()
        raise RuntimeError(f"`sgmirror serve` did not start:\n{mirror.log_text()}") from None
    return mirror
