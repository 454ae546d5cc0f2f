"""The pytest plugin: options, the session's mirror process, and the `sendgrid_mirror` fixture.

It talks to the mirror over HTTP only and never imports it, so it installs beside any application.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_sendgrid_mirror.client import Mirror

_KEY_ALPHABET = string.ascii_letters + string.digits
_STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sendgrid-mirror")
    group.addoption("--sgmirror-executable", help="the sgmirror command to run (default: on PATH)")
    group.addoption("--sgmirror-image", help="run this container image instead of sgmirror (docker or podman)")
    group.addoption(
        "--sgmirror-engine", help="the container engine for --sgmirror-image (default: docker, else podman)"
    )
    group.addoption(
        "--sgmirror-setting", action="append", default=[], metavar="NAME=VALUE", help="a mirror setting (repeatable)"
    )
    group.addoption("--sgmirror-start-timeout", type=float, help="seconds to wait for the mirror (default 60)")
    parser.addini("sgmirror_executable", "the sgmirror command to run")
    parser.addini("sgmirror_image", "the container image to run instead of sgmirror")
    parser.addini("sgmirror_engine", "the container engine for sgmirror_image")
    parser.addini("sgmirror_settings", "mirror settings, NAME=VALUE per line", type="linelist")
    parser.addini("sgmirror_start_timeout", "seconds to wait for the mirror to answer", default="60")


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"--sgmirror-{name.replace('_', '-')}")
    return str(value) if value is not None else (str(config.getini(f"sgmirror_{name}")) or None)


def _executable(config: pytest.Config) -> str:
    named = _option(config, "executable") or os.environ.get("SGMIRROR_EXECUTABLE")
    found = shutil.which(named or "sgmirror")
    if found is None:
        raise pytest.UsageError(
            f"sendgrid-mirror: {named or 'sgmirror'} was not found; install the mirror (pipx install "
            "sendgrid_mirror-*.whl) or give --sgmirror-executable"
        )
    return found


def _settings(config: pytest.Config) -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in [*config.getini("sgmirror_settings"), *config.getoption("--sgmirror-setting")]:
        name, separator, value = str(line).partition("=")
        if not separator:
            raise pytest.UsageError(f"sendgrid-mirror: a setting is NAME=VALUE, not {line!r}")
        settings[f"SGMIRROR_{name.strip().upper().removeprefix('SGMIRROR_')}"] = value.strip()
    return settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _new_key() -> str:
    def part(length: int) -> str:
        return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(length))

    return f"SG.{part(22)}.{part(43)}"


@pytest.fixture(scope="session")
def sendgrid_mirror(request: pytest.FixtureRequest) -> Iterator[Mirror]:
    """A sendgrid-mirror of this session: started on first use, stopped when the session ends."""
    config = request.config
    data_dir = Path(tempfile.mkdtemp(prefix="sgmirror-"))
    ports = {name: _free_port() for name in ("HTTP", "HTTPS", "SMTP", "SMTPS")}
    mirror = Mirror(
        base_url=f"http://127.0.0.1:{ports['HTTP']}",
        https_url=f"https://127.0.0.1:{ports['HTTPS']}",
        api_key=_new_key(),
        partner_api_key=_new_key(),
        admin_token=secrets.token_urlsafe(24),
        smtp_host="127.0.0.1",
        smtp_port=ports["SMTP"],
        data_dir=data_dir,
    )
    settings = {f"SGMIRROR_{name}_PORT": str(port) for name, port in ports.items()}
    settings.update(
        SGMIRROR_API_KEY=mirror.api_key,
        SGMIRROR_PARTNER_API_KEY=mirror.partner_api_key,
        SGMIRROR_ADMIN_TOKEN=mirror.admin_token,
        **_settings(config),
    )
    command, env = _launch(config, settings, data_dir)
    log = (data_dir / "sgmirror.log").open("wb")
    began = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        mirror.wait_until_up(float(_option(config, "start_timeout") or 60), process)
        config.stash[_STARTED] = time.monotonic() - began
        yield mirror
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _launch(config: pytest.Config, settings: dict[str, str], data_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The command that serves the mirror, and its environment: `sgmirror serve`, or the image in a container."""
    outside = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    image = _option(config, "image") or os.environ.get("SGMIRROR_IMAGE")
    if image is None:
        local = {**settings, "SGMIRROR_HOST": "127.0.0.1", "SGMIRROR_DATA_DIR": str(data_dir)}
        return [_executable(config), "serve"], {**outside, **local}
    engine = _option(config, "engine") or ("docker" if shutil.which("docker") else "podman")
    published = [f"--publish=127.0.0.1:{port}:{port}" for name, port in settings.items() if name.endswith("_PORT")]
    variables = [f"--env={name}={value}" for name, value in settings.items()]
    return [engine, "run", "--rm", *published, *variables, image], outside


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    started = config.stash.get(_STARTED, None)
    if started is not None:
        terminalreporter.write_line(f"sendgrid-mirror: started in {started:.2f} s")
