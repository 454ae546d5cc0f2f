"""Node.js and the npm SDK packages of tests/node: install them once per session, run a script with JSON in and out.

Scripts read one JSON object on stdin and print one JSON line on stdout (see tests/node/harness.js). When
`node` or `npm` is missing the Node tests are skipped, except in CI (`CI=true`), where they must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
LOCKFILE = NODE_DIR / "package-lock.json"
# npm writes this "hidden lockfile" at the end of every install; it tells when node_modules was last synced.
INSTALLED_MARKER = NODE_DIR / "node_modules" / ".package-lock.json"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 60


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(message: str) -> NoReturn:
    """Skip locally; fail in CI, which must run every Node test."""
    if in_ci():
        pytest.fail(message + " (CI=true: the Node SDK tests must run)", pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class NodeRunner:
    node: str

    def run(
        self, script: str, payload: dict[str, Any], timeout: float = RUN_TIMEOUT, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Run tests/node/<script> with `payload` as JSON on stdin (and `env` added to the environment).

        Returns the JSON object the script prints last.
        """
        try:
            done = subprocess.run(
                [self.node, str(NODE_DIR / script)],
                env={**os.environ, **env} if env else None,
                input=json.dumps(payload),
                capture_output=True,
                text=True,
                cwd=NODE_DIR,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"node {script} did not finish within {timeout} s; stderr: {exc.stderr!r}") from exc
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        if not lines:
            raise AssertionError(f"node {script} printed nothing (exit {done.returncode}); stderr:\n{done.stderr}")
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError as exc:
            raise AssertionError(f"node {script} did not end with a JSON line:\n{done.stdout}\n{done.stderr}") from exc
        if done.returncode != 0 or not isinstance(result, dict) or "crash" in result:
            raise AssertionError(f"node {script} failed (exit {done.returncode}): {result}\nstderr:\n{done.stderr}")
        return result


def modules_are_current() -> bool:
    return INSTALLED_MARKER.exists() and INSTALLED_MARKER.stat().st_mtime >= LOCKFILE.stat().st_mtime


def install_modules(npm: str) -> None:
    """`npm ci` from the lockfile (exact versions, no lockfile rewrite)."""
    try:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        skip_or_fail(f"npm ci in {NODE_DIR.name} did not finish within {INSTALL_TIMEOUT} s")
    if done.returncode != 0:
        skip_or_fail(f"npm ci failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


@cache
def _prepare() -> NodeRunner:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
        skip_or_fail(f"{missing} not installed (Debian: apt-get install nodejs npm, or `make system-deps` as root)")
    if not modules_are_current():
        install_modules(npm)
    return NodeRunner(node=node)


def node_runner() -> NodeRunner:
    """The runner for this session, installing the SDK packages first when needed; skips (or fails in CI)."""
    return _prepare()
