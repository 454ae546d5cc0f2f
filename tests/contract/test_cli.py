"""`sgmirror` as a user runs it: serve on first start, a known key from the environment, seed, keys, reset."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import free_port
from tests.support.server import wait_until_up

pytestmark = pytest.mark.contract

KEY_PATTERN = re.compile(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")
KNOWN_KEY = "SG.ciKnownKey00000000000.ciKnownSecret0000000000000000000000000000000"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    # `serve` also starts the SMTP relay: on free ports, so concurrent runs never collide.
    env.update(SGMIRROR_SMTP_PORT="0", SGMIRROR_SMTPS_PORT="0", SGMIRROR_HTTPS_PORT="0")
    env.update(SGMIRROR_DATA_DIR=str(data_dir), SGMIRROR_HTTP_PORT=str(free_port()), **extra)
    return env


def _sgmirror(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = _env(tmp_path / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    yield process, env
    process.send_signal(signal.SIGINT)
    process.wait(timeout=15)


def _first_lines_until_ready(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + 30
    while "HTTP API on" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    return seen


def test_first_start_prints_one_full_access_key_that_works(
    running: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    process, env = running
    output = _first_lines_until_ready(process)
    default_key = re.search(r"for 'default' \(shown once\): (\S+)", output)
    assert default_key is not None
    assert KEY_PATTERN.fullmatch(default_key.group(1))
    wait_until_up(f"http://127.0.0.1:{env['SGMIRROR_HTTP_PORT']}")
    response = httpx.get(
        f"http://127.0.0.1:{env['SGMIRROR_HTTP_PORT']}/v3/scopes",
        headers={"Authorization": f"Bearer {default_key.group(1)}"},
    )
    assert response.status_code == 200
    assert "mail.send" in response.json()["scopes"]


def test_known_key_from_the_environment_seed_create_key_and_reset(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", SGMIRROR_API_KEY=KNOWN_KEY)
    assert _sgmirror(env, "migrate").returncode == 0
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "accounts:\n"
        "  - username: acme\n    state: suspended\n"
        "    keys:\n      - {name: ci, key: SG.acmeKey.acmeSecret, scopes: [mail.send]}\n"
        "    subusers:\n      - {username: acme-eu}\n"
    )
    seeded = _sgmirror(env, "seed", str(seed))
    assert seeded.returncode == 0, seeded.stderr
    assert "acme-eu" in seeded.stdout
    created = _sgmirror(env, "create-key", "--account", "acme", "--scopes", "mail.send")
    assert KEY_PATTERN.fullmatch(created.stdout.strip())
    missing = _sgmirror(env, "create-key", "--account", "nobody")
    assert missing.returncode == 2
    reset = _sgmirror(env, "reset")
    assert reset.returncode == 0
    assert "Registered the given API key" in reset.stdout
    again = _sgmirror(env, "create-key", "--account", "acme")
    assert again.returncode == 2


def test_help_documents_every_setting() -> None:
    help_text = _sgmirror(dict(os.environ), "--help").stdout
    for name in (
        "DATA_DIR",
        "DATABASE_URL",
        "HOST",
        "HTTP_PORT",
        "SMTP_PORT",
        "SMTPS_PORT",
        "API_KEY",
        "PARTNER_API_KEY",
        "REQUIRE_VERIFIED_SENDER",
        "ADMIN_TOKEN",
    ):
        assert f"SGMIRROR_{name} " in help_text


def test_a_mirror_other_machines_can_reach_guards_its_admin_api_with_a_token_it_prints_once(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", SGMIRROR_HOST="0.0.0.0", SGMIRROR_API_KEY=KNOWN_KEY)
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output = _first_lines_until_ready(process)
        token = re.search(
            r"/_mirror needs a token; .*\(shown once; set SGMIRROR_ADMIN_TOKEN to choose it\): (\S+)", output
        )
        assert token is not None, output
        base_url = f"http://127.0.0.1:{env['SGMIRROR_HTTP_PORT']}"
        wait_until_up(base_url)
        assert httpx.get(f"{base_url}/_mirror/messages").status_code == 401
        allowed = httpx.get(f"{base_url}/_mirror/messages", headers={"Authorization": f"Bearer {token.group(1)}"})
        assert allowed.status_code == 200
        assert httpx.get(f"{base_url}/v3/scopes", headers={"Authorization": f"Bearer {KNOWN_KEY}"}).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)


def test_a_chosen_admin_token_is_kept_and_never_printed(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", SGMIRROR_HOST="0.0.0.0", SGMIRROR_ADMIN_TOKEN="chosen-token")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output = _first_lines_until_ready(process)
        assert "needs a token" not in output
        assert "chosen-token" not in output
        base_url = f"http://127.0.0.1:{env['SGMIRROR_HTTP_PORT']}"
        wait_until_up(base_url)
        allowed = httpx.get(f"{base_url}/_mirror/messages", headers={"Authorization": "Bearer chosen-token"})
        assert allowed.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
