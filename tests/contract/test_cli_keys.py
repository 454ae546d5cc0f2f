"""`sgmirror` says how to get an API key: on a later start, and after `migrate` on a fresh data dir."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.test_cli import KEY_PATTERN, _env, _first_lines_until_ready, _sgmirror

pytestmark = pytest.mark.contract

HINT = "`sgmirror create-key` prints a new full-access key for 'default'"


def _start_and_stop(env: dict[str, str]) -> str:
    """What `sgmirror serve` prints up to the moment it serves; then it is stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        return _first_lines_until_ready(process)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)


def test_a_later_start_says_how_to_get_a_key(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    first = _start_and_stop(env)
    assert "for 'default' (shown once)" in first
    assert HINT not in first
    second = _start_and_stop(env)
    assert "HTTP API on" in second
    assert "(shown once)" not in second
    assert HINT in second


def test_migrate_bootstraps_so_create_key_works_on_a_fresh_data_dir(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    migrated = _sgmirror(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Created the partner account and the customer account 'default'" in migrated.stdout
    assert "Full-access API key for 'default' (shown once): SG." in migrated.stdout
    created = _sgmirror(env, "create-key")
    assert created.returncode == 0, created.stderr
    assert KEY_PATTERN.fullmatch(created.stdout.strip())
    again = _sgmirror(env, "migrate")
    assert (again.returncode, again.stdout.strip()) == (0, "Database is at the latest migration.")


def test_create_key_before_any_bootstrap_says_what_to_run(tmp_path: Path) -> None:
    refused = _sgmirror(_env(tmp_path / "data"), "create-key")
    assert refused.returncode == 2
    assert "No account with username or id 'default'." in refused.stderr
    assert "`sgmirror migrate` (or `sgmirror serve`) creates the partner and 'default' accounts first" in refused.stderr
