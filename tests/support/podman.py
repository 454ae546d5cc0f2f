"""podman for the image test: its own configuration and storage in a temporary folder, and a local base image.

These machines have no container registry and no Docker daemon; Debian's podman (rootful, runc, cgroupfs)
builds and runs images, and debootstrap makes the Python base the published recipe would pull.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.node import skip_or_fail

TOOLS = ("podman", "runc", "debootstrap")
BASE_IMAGE = "localhost/local/python-base"
_IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
_CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


@dataclass(frozen=True)
class Podman:
    env: dict[str, str]
    workdir: Path

    def run(self, *args: str | Path, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["podman", *map(str, args)], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(map(str, args))} failed ({done.returncode}):\n{done.stderr}")
        return done


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        skip_or_fail(f"the image test needs root and {', '.join(TOOLS)} (missing: {', '.join(missing) or 'root'})")


@contextmanager
def session(workdir: Path) -> Iterator[Podman]:
    """podman with storage under `workdir`; everything it made is removed afterwards, IP forwarding restored."""
    (workdir / "containers.conf").write_text(_CONTAINERS_CONF)
    (workdir / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{workdir / "graph"}"\nrunroot = "{workdir / "run"}"\n'
    )
    env = {
        **os.environ,
        "CONTAINERS_CONF": str(workdir / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(workdir / "storage.conf"),
    }
    forwarding = _IP_FORWARD.read_text() if _IP_FORWARD.exists() else None
    firewall = {tool: _saved(tool) for tool in ("iptables", "ip6tables")}
    links = _links()
    podman = Podman(env, workdir)
    try:
        yield podman
    finally:
        podman.run("rm", "--all", "--force", "--volumes", check=False, timeout=120)
        podman.run("system", "reset", "--force", check=False, timeout=300)
        # Port publishing made a bridge, NAT chains and maybe IP forwarding: the machine gets its own back.
        for name in _links() - links:
            subprocess.run(["ip", "link", "delete", name], capture_output=True, check=False)
        for tool, rules in firewall.items():
            if rules is not None:
                subprocess.run([f"{tool}-restore"], input=rules, text=True, capture_output=True, check=False)
        if forwarding is not None and _IP_FORWARD.read_text() != forwarding:
            _IP_FORWARD.write_text(forwarding)


def _saved(tool: str) -> str | None:
    if shutil.which(f"{tool}-save") is None or shutil.which(f"{tool}-restore") is None:
        return None
    done = subprocess.run([f"{tool}-save"], capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def _links() -> set[str]:
    if shutil.which("ip") is None:
        return set()
    done = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=False)
    return {line.split(": ")[1].split("@")[0] for line in done.stdout.splitlines() if ": " in line}


def make_python_base(podman: Podman) -> str:
    """A Debian minbase with python3, venv and this machine's certificate authorities, imported as BASE_IMAGE."""
    rootfs = podman.workdir / "rootfs"
    suite = _os_release("VERSION_CODENAME") or "bookworm"
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates", suite, str(rootfs),
         _debian_mirror(suite)],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    # Package downloads inside the build go through the same certificate authorities as this machine's.
    for certificate in Path("/usr/local/share/ca-certificates").glob("*.crt"):
        shutil.copy(certificate, rootfs / "usr/local/share/ca-certificates" / certificate.name)
    subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], check=True, capture_output=True, timeout=120)
    archive = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        ["podman", "import", "-", BASE_IMAGE], stdin=archive.stdout, env=podman.env, capture_output=True, timeout=300
    )
    archive.wait()
    assert imported.returncode == 0, imported.stderr
    shutil.rmtree(rootfs, ignore_errors=True)
    return BASE_IMAGE


def pip_config(podman: Podman) -> Path:
    """A pip configuration for builds: trust the system's certificate authorities (pip's own bundle lacks ours)."""
    path = podman.workdir / "pip.conf"
    path.write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    return path


def _os_release(name: str) -> str | None:
    for line in Path("/etc/os-release").read_text().splitlines():
        key, _, value = line.partition("=")
        if key == name:
            return value.strip('"')
    return None


def _debian_mirror(suite: str) -> str:
    """The Debian mirror apt uses here (deb822 or one-line sources), for `suite`."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for stanza in sources.read_text().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
            if suite in fields.get("Suites", "").split() and fields.get("URIs"):
                return fields["URIs"].split()[0]
    listed = Path("/etc/apt/sources.list")
    if listed.exists():
        for line in listed.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == suite:
                return parts[1]
    return "http://deb.debian.org/debian"
