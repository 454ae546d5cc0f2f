"""The mirror as a package: the sdist builds a complete wheel, which serves mail from a fresh virtualenv."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import free_port
from tests.support.server import wait_until_up

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
KNOWN_KEY = "SG.wheelKey0000000000000.wheelSecret00000000000000000000000000000000"


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _copy_checkout(target: Path) -> None:
    """What a clone of this checkout would hold: tracked files and new ones git does not ignore."""
    listed = _run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, virtualenv): the wheel built from the sdist, installed into a new virtualenv."""
    work = tmp_path_factory.mktemp("package")
    _copy_checkout(work / "source")
    dist = work / "dist"
    _run(sys.executable, "-m", "build", "--sdist", "--outdir", dist, work / "source")
    sdist = next(dist.glob("*.tar.gz"))
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist, sdist)
    wheel = next(dist.glob("*.whl"))
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "pip", "install", "--quiet", wheel)
    return wheel, venv


def test_every_package_of_app_is_listed_for_the_build() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "app").rglob("__init__.py")}
    assert listed == found | {"app.migrations", "app.migrations.versions"}


def test_the_wheel_carries_migrations_and_data_files(built: tuple[Path, Path]) -> None:
    wheel, _ = built
    names = set(zipfile.ZipFile(wheel).namelist())
    versions = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert {n.rsplit("/", 1)[-1] for n in names if n.startswith("app/migrations/versions/")} == versions
    assert {"app/migrations/env.py", "app/migrations/script.py.mako", "app/api_keys/scopes.txt"} <= names
    assert "app/console/templates/base.html" in names
    assert "app/console/static/console.css" in names
    assert not any(n.startswith(("migrations/", "tests/")) for n in names)


@pytest.fixture
def served(built: tuple[Path, Path], tmp_path: Path) -> Iterator[str]:
    """`sgmirror serve` from the virtualenv, started in a folder that has nothing of the source tree."""
    _, venv = built
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SGMIRROR_", "PYTHON"))}
    env.update(
        SGMIRROR_DATA_DIR=str(tmp_path / "data"),
        SGMIRROR_HTTP_PORT=str(port),
        SGMIRROR_SMTP_PORT="0",
        SGMIRROR_SMTPS_PORT="0",
        SGMIRROR_HTTPS_PORT="0",
        SGMIRROR_API_KEY=KNOWN_KEY,
        SGMIRROR_REQUIRE_VERIFIED_SENDER="false",
    )
    process = subprocess.Popen(
        [venv / "bin" / "sgmirror", "serve"], cwd=elsewhere, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url)
        yield base_url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)


def test_the_installed_command_reports_its_version(built: tuple[Path, Path]) -> None:
    _, venv = built
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert _run(venv / "bin" / "sgmirror", "--version").strip() == f"sgmirror {version}"


def test_the_installed_wheel_migrates_bootstraps_and_accepts_mail(served: str) -> None:
    headers = {"Authorization": f"Bearer {KNOWN_KEY}"}
    body = {
        "personalizations": [{"to": [{"email": "reader@example.com"}]}],
        "from": {"email": "shop@example.com"},
        "subject": "From the wheel",
        "content": [{"type": "text/plain", "value": "Installed, migrated, served."}],
    }
    sent = httpx.post(f"{served}/v3/mail/send", json=body, headers=headers)
    assert sent.status_code == 202, sent.text
    stored = httpx.get(f"{served}/_mirror/messages", params={"to": "reader@example.com"}).json()
    assert [m["subject"] for m in stored["messages"]] == ["From the wheel"]
    assert stored["messages"][0]["id"] == sent.headers["X-Message-Id"]
