"""pytest-sendgrid-mirror (plugins/pytest-sendgrid-mirror) as a user's suite runs it, through pytester."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.contract

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "pytest-sendgrid-mirror"
SGMIRROR = shutil.which("sgmirror", path=str(Path(sys.executable).parent)) or "sgmirror"

USER_SUITE = """
import json
import urllib.error
import urllib.request

import pytest


def send(mirror, subject):
    body = {
        "personalizations": [{"to": [{"email": "ada@example.com"}]}],
        "from": {"email": "shop@example.com"},
        "subject": subject,
        "content": [{"type": "text/plain", "value": "Hello"}],
    }
    request = urllib.request.Request(
        mirror.base_url + "/v3/mail/send",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": "Bearer " + mirror.api_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202
        return response.headers["X-Message-Id"]


def test_a_sent_message_is_waited_for(sendgrid_mirror):
    message_id = send(sendgrid_mirror, "Welcome")
    found = sendgrid_mirror.wait_for_message(to="ada@example.com", timeout=5)
    assert (found["id"], found["subject"]) == (message_id, "Welcome")
    assert sendgrid_mirror.message(message_id)["id"] == message_id


def test_the_session_shares_one_mirror_and_reset_empties_it(sendgrid_mirror):
    assert [m["subject"] for m in sendgrid_mirror.messages(to="ada@example.com")] == ["Welcome"]
    assert sendgrid_mirror.reset()["removed"]["messages"] == 1
    assert sendgrid_mirror.messages() == []
    send(sendgrid_mirror, "After the reset")


def test_faults_and_the_clock(sendgrid_mirror):
    sendgrid_mirror.add_fault({"id": "down", "path": "/v3/mail/send", "action": {"status": 503}})
    with pytest.raises(urllib.error.HTTPError) as refused:
        send(sendgrid_mirror, "Refused")
    assert refused.value.code == 503
    sendgrid_mirror.clear_faults()
    send(sendgrid_mirror, "Accepted again")
    assert sendgrid_mirror.advance_clock(3600)["offset_seconds"] >= 3600
"""


def test_a_session_gets_one_mirror_with_its_keys_and_helpers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_signup=USER_SUITE)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider",
        "--sgmirror-executable", SGMIRROR,
        "--sgmirror-setting", "REQUIRE_VERIFIED_SENDER=false",
    )  # fmt: skip
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["sendgrid-mirror: started in * s"])


def test_settings_come_from_the_ini_file_too(pytester: pytest.Pytester) -> None:
    settings = "sgmirror_settings =\n    REQUIRE_VERIFIED_SENDER=false\n"
    pytester.makeini(f"[pytest]\nsgmirror_executable = {SGMIRROR}\n{settings}")
    pytester.makepyfile(
        test_accepted="""
        from test_signup import send

        def test_an_unverified_sender_is_accepted_as_configured(sendgrid_mirror):
            assert send(sendgrid_mirror, "Nobody verified me")
        """,
        test_signup=USER_SUITE,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_accepted.py")
    result.assert_outcomes(passed=1)


def test_a_missing_sgmirror_says_how_to_get_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_needs_it(sendgrid_mirror):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sgmirror-executable", "/nonexistent/sgmirror")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*/nonexistent/sgmirror was not found*--sgmirror-executable*"])


def test_the_plugin_does_not_import_the_mirror() -> None:
    imported = {
        (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for path in (PLUGIN / "pytest_sendgrid_mirror").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert "app" not in imported
    assert imported <= set(sys.stdlib_module_names) | {"pytest", "pytest_sendgrid_mirror"}


def test_the_plugin_distribution_holds_the_plugin_alone(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(PLUGIN)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("pytest_sendgrid_mirror-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert all(name.startswith(("pytest_sendgrid_mirror/", "pytest_sendgrid_mirror-0")) for name in names), names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[pytest11]" in entry_points
    assert "sendgrid_mirror = pytest_sendgrid_mirror.plugin" in entry_points
