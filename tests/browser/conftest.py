"""Headless Chromium (Debian's `chromium`, driven by Playwright) against a real uvicorn serving the console.

Without /usr/bin/chromium (or the playwright package) these tests skip, except in CI (CI=true), where they fail.
Screenshots of the main pages go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.kernel.config import Settings
from app.kernel.db.session import Database
from app.main import create_app
from tests.conftest import IN_CI
from tests.support.server import serve

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}: CI must run the browser tests (apt-get install chromium; pip install playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per module (never downloaded: Debian's package).

    Not per session: Playwright's sync API keeps an event loop running in the main thread while it is
    open, and the async API tests that follow need that thread's loop free.
    """
    yield from launch_chromium()


def launch_chromium(*extra_args: str) -> Iterator[Any]:
    """Debian's Chromium, headless, with LAUNCH_ARGS and `extra_args`; closed when the generator ends."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*LAUNCH_ARGS, *extra_args])
        yield browser
        browser.close()


@pytest.fixture
def app(db: Database, scratch_dir: Path) -> FastAPI:
    """Sender verification off, so the SDK can send from any address."""
    return create_app(Settings(data_dir=scratch_dir / "data", require_verified_sender=False), database=db)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.fixture
def page(chromium: Any, base_url: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=base_url, viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def shoot() -> Any:
    """Save a full-page screenshot under tests/artifacts/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, *, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
