"""Shared fixtures: both database backends, the app over ASGI transport, and bootstrap keys."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

# The environment is fixed before any app module reads it.
_SCRATCH = Path(tempfile.mkdtemp(prefix="sgmirror-tests-"))
os.environ["SGMIRROR_DATA_DIR"] = str(_SCRATCH / "data")
for name in ("SGMIRROR_DATABASE_URL", "SGMIRROR_API_KEY", "SGMIRROR_PARTNER_API_KEY", "SGMIRROR_ADMIN_TOKEN"):
    os.environ.pop(name, None)
# Apps served with their lifespan run no SMTP relay on fixed ports; tests/smtp start one on free ports.
os.environ["SGMIRROR_SMTP_ENABLED"] = "false"

import httpx  # noqa: E402
import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from app.accounts import bootstrap  # noqa: E402
from app.kernel.config import Settings  # noqa: E402
from app.kernel.db import maintenance, migrate  # noqa: E402
from app.kernel.db.session import Database  # noqa: E402
from app.main import create_app  # noqa: E402
from tests.conformance import recorder  # noqa: E402
from tests.support import postgres  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def scratch_dir() -> Path:
    return _SCRATCH


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    server = postgres.start_server()
    if server is None:
        message = "PostgreSQL binaries (initdb, pg_ctl) are not installed"
        if IN_CI:
            pytest.fail(message + " — CI must install them")
        pytest.skip(message)
    yield server
    server.stop()


def new_database_url(request: pytest.FixtureRequest, backend: str, name: str) -> str:
    """A fresh, empty database of the given backend."""
    if backend == "postgresql":
        server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
        return server.create_database(name)
    path = _SCRATCH / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `backend("postgresql")` runs on that backend only: on the other it is deselected, not skipped."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("backend")
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("database") if callspec is not None else None
        (dropped if marker is not None and param is not None and param != marker.args[0] else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated database per backend, shared by the session; rows are cleared after each test."""
    url = new_database_url(request, request.param, "sgmirror_api")
    migrate.upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    yield database
    with database.session() as session:
        maintenance.clear_all(session)


@dataclass(frozen=True)
class Keys:
    default: str
    partner: str


DEFAULT_KEY = "SG.testDefaultKey0000000.defaultSecret00000000000000000000000000000"
PARTNER_KEY = "SG.testPartnerKey0000000.partnerSecret00000000000000000000000000000"


@pytest.fixture
def keys(db: Database) -> Keys:
    with db.session() as session:
        bootstrap.bootstrap(session, api_key=DEFAULT_KEY, partner_api_key=PARTNER_KEY)
    return Keys(default=DEFAULT_KEY, partner=PARTNER_KEY)


@pytest.fixture
def settings(scratch_dir: Path) -> Settings:
    # Most tests send from addresses nobody verified; tests/identity/test_sender_enforcement.py turns the check on.
    # The ASGI client's host, mirror.test, is trusted as a team's own name for the mirror would be.
    return Settings(data_dir=scratch_dir / "data", require_verified_sender=False, trusted_hosts="mirror.test")


@pytest.fixture
def app(db: Database, settings: Settings) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    # Every /v3 answer is kept for tests/conformance, which checks them against the official OpenAPI files.
    hooks = recorder.event_hooks()
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test", event_hooks=hooks) as http:
        yield http


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
