"""The published image recipe (Dockerfile) built and run for real: podman, a base made locally, a volume."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import podman as containers
from tests.support.postgres import free_port
from tests.support.server import wait_until_up

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/sendgrid-mirror:test"
KEY = "SG.containerKey000000000.containerSecret000000000000000000000000000"
TOKEN = "container-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[containers.Podman]:
    containers.require_tools()
    with containers.session(tmp_path_factory.mktemp("podman")) as session:
        base = containers.make_python_base(session)
        session.run(
            "build", "--format", "docker", "--network", "host",
            "--volume", f"{containers.pip_config(session)}:/etc/pip.conf:ro",
            "--build-arg", f"BASE={base}", "--tag", IMAGE, "--file", ROOT / "Dockerfile", ROOT,
            timeout=1200,
        )  # fmt: skip
        yield session


@pytest.fixture
def running(podman: containers.Podman, tmp_path: Path) -> Iterator[tuple[containers.Podman, str]]:
    """The image running on host networking with a volume folder for /data; yields (podman, HTTP base URL)."""
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 10001, 10001)
    http = free_port()
    settings = {
        "SGMIRROR_HTTP_PORT": http, "SGMIRROR_HTTPS_PORT": free_port(), "SGMIRROR_SMTP_PORT": free_port(),
        "SGMIRROR_SMTPS_PORT": free_port(), "SGMIRROR_API_KEY": KEY, "SGMIRROR_ADMIN_TOKEN": TOKEN,
        "SGMIRROR_REQUIRE_VERIFIED_SENDER": "false",
    }  # fmt: skip
    environment = [arg for name, value in settings.items() for arg in ("--env", f"{name}={value}")]
    podman.run(
        "run", "--detach", "--name", "mirror", "--network", "host", "--volume", f"{data}:/data", *environment, IMAGE
    )
    base_url = f"http://127.0.0.1:{http}"
    try:
        _wait_until_healthy(base_url, podman)
        yield podman, base_url
    finally:
        podman.run("rm", "--force", "--volumes", "mirror", check=False)


def _wait_until_healthy(base_url: str, podman: containers.Podman, seconds: float = 90) -> None:
    try:
        wait_until_up(base_url, seconds=seconds)
    except RuntimeError:
        logs = podman.run("logs", "mirror", check=False)
        raise AssertionError(
            f"the container did not answer within {seconds} s:\n{logs.stdout}\n{logs.stderr}"
        ) from None


def _send(base_url: str, subject: str) -> str:
    body = {
        "personalizations": [{"to": [{"email": "crate@example.com"}]}],
        "from": {"email": "shop@example.com"},
        "subject": subject,
        "content": [{"type": "text/plain", "value": "From the container"}],
    }
    sent = httpx.post(f"{base_url}/v3/mail/send", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert sent.status_code == 202, sent.text
    return sent.headers["X-Message-Id"]


def test_the_image_declares_its_user_volume_ports_and_healthcheck(podman: containers.Podman) -> None:
    [image] = json.loads(podman.run("image", "inspect", IMAGE).stdout)
    config = image["Config"]
    assert config["User"] == "10001:10001"
    assert set(config["Volumes"]) == {"/data"}
    assert set(config["ExposedPorts"]) == {"8090/tcp", "8091/tcp", "2525/tcp", "2465/tcp"}
    assert "SGMIRROR_HOST=0.0.0.0" in config["Env"]
    assert "/_mirror/health" in " ".join(_healthcheck(image)["Test"])


def _healthcheck(found: Any) -> Any:
    """The image's health check, wherever this podman version puts it in `image inspect`."""
    if isinstance(found, dict):
        for key, value in found.items():
            inner = value if key.lower() == "healthcheck" else _healthcheck(value)
            if inner:
                return inner
    return None


def test_the_container_serves_mail_and_keeps_it_across_a_restart(running: tuple[containers.Podman, str]) -> None:
    podman, base_url = running
    message_id = _send(base_url, "Before the restart")
    assert podman.run("exec", "mirror", "id", "-u").stdout.strip() == "10001"
    assert podman.run("healthcheck", "run", "mirror", check=False).returncode == 0
    assert httpx.get(f"{base_url}/_mirror/messages").status_code == 401  # reachable from elsewhere: token only
    podman.run("restart", "mirror", timeout=120)
    _wait_until_healthy(base_url, podman)
    listed = httpx.get(f"{base_url}/_mirror/messages", headers=ADMIN).json()["messages"]
    assert [(m["id"], m["subject"]) for m in listed] == [(message_id, "Before the restart")]
    _send(base_url, "After the restart")


def test_the_pytest_plugin_runs_the_image(
    podman: containers.Podman, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"):
        monkeypatch.setenv(name, podman.env[name])
    pytester.makepyfile(
        test_in_a_container="""
        import json, urllib.request

        def test_a_send_is_seen(sendgrid_mirror):
            body = {"personalizations": [{"to": [{"email": "boxed@example.com"}]}],
                    "from": {"email": "shop@example.com"}, "subject": "Boxed",
                    "content": [{"type": "text/plain", "value": "hi"}]}
            request = urllib.request.Request(sendgrid_mirror.base_url + "/v3/mail/send", method="POST",
                data=json.dumps(body).encode(),
                headers={"Authorization": "Bearer " + sendgrid_mirror.api_key, "Content-Type": "application/json"})
            with urllib.request.urlopen(request) as response:
                assert response.status == 202
            assert sendgrid_mirror.wait_for_message(to="boxed@example.com")["subject"] == "Boxed"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--sgmirror-image", IMAGE, "--sgmirror-engine", "podman",
        "--sgmirror-setting", "REQUIRE_VERIFIED_SENDER=false", "--sgmirror-start-timeout", "120",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["sendgrid-mirror: started in * s"])
