"""Schemathesis drives every operation of openapi.yaml against a real uvicorn on loopback.

Each operation gets the examples, coverage and (bounded, seeded) fuzzing phases, positive and negative
data, sent with the mirror's own credentials. Every response must be no 5xx, arrive within the timeout,
and match what openapi.yaml declares: status code, content type, headers and body schema.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.accounts import bootstrap
from app.accounts.state import AccountState
from app.api_keys import auth
from app.inspection import service as inspection
from app.kernel.config import Settings
from app.kernel.db import maintenance, migrate
from app.kernel.db.session import Database
from app.kernel.errors import SendGridError
from app.main import create_app
from tests.conftest import DEFAULT_KEY, PARTNER_KEY, new_database_url
from tests.support.postgres import free_port
from tests.support.server import serve

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "openapi.yaml"
REQUEST_TIMEOUT = 10.0
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LONG_POLL = "/_mirror/messages/wait"
LONG_POLL_SECONDS = 0.1
# Mirror-wide switches an admin case may flip; each is put back after such a case so later cases see
# the plain mirror (a fault rule would turn every later answer into an injected error).
ADMIN_RESETS = ("/_mirror/faults", "/_mirror/delivery-rules", "/_mirror/clock")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

schema = schemathesis.openapi.from_path(OPENAPI_FILE)
schema.config.generation.update(max_examples=15, deterministic=True, database="none")
schema.config.seed = 20261122


@dataclass
class Mirror:
    base_url: str
    db: Database
    admin_token: str
    http: requests.Session
    # Outbound URLs in generated bodies (webhooks, OAuth) are pointed here: a loopback port nobody listens on.
    sink: str


@pytest.fixture(scope="module")
def mirror(request: pytest.FixtureRequest, scratch_dir: Path) -> Iterator[Mirror]:
    """A fresh database and a real server for this module alone: what the cases change stays here."""
    url = new_database_url(request, "sqlite", "sgmirror_schemathesis")
    migrate.upgrade(url)
    db = Database(url)
    admin_token = secrets.token_urlsafe(24)
    settings = Settings(
        data_dir=scratch_dir / "data", require_verified_sender=False, rate_limit=0, admin_token=admin_token
    )
    _restore(db)
    app = create_app(settings, database=db)
    with serve(app) as base_url, requests.Session() as http:
        yield Mirror(base_url, db, admin_token, http, f"127.0.0.1:{free_port()}")
    db.dispose()


@schema.parametrize()
def test_operation_conforms(case: schemathesis.Case, mirror: Mirror) -> None:
    if case.path == LONG_POLL:
        _shorten_long_poll(case)
    case.body = _loopback_urls(case.body, mirror.sink)
    headers = {"Authorization": f"Bearer {_credential(mirror, case.path)}"}
    response = case.call(base_url=mirror.base_url, session=mirror.http, headers=headers, timeout=REQUEST_TIMEOUT)
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    finally:
        if case.method.upper() not in READ_METHODS:
            _put_back(mirror, case.path, response.status_code)


def _credential(mirror: Mirror, path: str) -> str:
    """Admin token for /_mirror, the partner key for /v3/partners, else the default account's full-access key."""
    if path.startswith("/_mirror"):
        return mirror.admin_token
    if path.startswith("/v3/partners"):
        return PARTNER_KEY
    return DEFAULT_KEY


def _shorten_long_poll(case: schemathesis.Case) -> None:
    """A valid wait lasts LONG_POLL_SECONDS instead of up to two minutes; invalid timeouts go as generated."""
    query = dict(case.query or {})
    try:
        seconds = float(query.get("timeout", inspection.MAX_WAIT_SECONDS))
    except (TypeError, ValueError):
        return
    if LONG_POLL_SECONDS < seconds <= inspection.MAX_WAIT_SECONDS:
        case.query = {**query, "timeout": LONG_POLL_SECONDS}


def _loopback_urls(value: Any, sink: str) -> Any:
    """Every absolute http(s) URL under a `*url` key now names `sink`: the mirror POSTs to such URLs."""
    if isinstance(value, list):
        return [_loopback_urls(item, sink) for item in value]
    if not isinstance(value, dict):
        return value
    rewritten = {}
    for key, item in value.items():
        if isinstance(key, str) and key.lower().endswith("url") and isinstance(item, str):
            item = _to_sink(item, sink)
        rewritten[key] = _loopback_urls(item, sink)
    return rewritten


def _to_sink(url: str, sink: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not host:
        return url
    return urlunsplit((parts.scheme, sink, parts.path, parts.query, parts.fragment))


def _put_back(mirror: Mirror, path: str, status: int) -> None:
    """Undo what a successful admin case switched on, and rebuild the bootstrap accounts if a case broke them."""
    if path.startswith("/_mirror") and status < 300:
        auth_header = {"Authorization": f"Bearer {mirror.admin_token}"}
        for reset in ADMIN_RESETS:
            mirror.http.delete(f"{mirror.base_url}{reset}", headers=auth_header, timeout=REQUEST_TIMEOUT)
    if not _bootstrap_intact(mirror.db):
        _restore(mirror.db)


def _bootstrap_intact(db: Database) -> bool:
    auth.invalidate_cache()
    for key in (DEFAULT_KEY, PARTNER_KEY):
        try:
            principal = auth.key_principal(db, f"Bearer {key}")
        except SendGridError:
            return False
        if principal.account_state != AccountState.ACTIVATED.value:
            return False
    return True


def _restore(db: Database) -> None:
    """Empty the database and bootstrap the partner and `default` accounts with the known keys again."""
    with db.session() as session:
        maintenance.clear_all(session)
        bootstrap.bootstrap(session, api_key=DEFAULT_KEY, partner_api_key=PARTNER_KEY)
    auth.invalidate_cache()


def test_put_back_rebuilds_what_a_case_broke(mirror: Mirror) -> None:
    """The run survives a case that deletes the calling key or installs a fault rule."""
    admin = {"Authorization": f"Bearer {mirror.admin_token}"}
    key_id = DEFAULT_KEY.split(".")[1]
    deleted = mirror.http.delete(f"{mirror.base_url}/v3/api_keys/{key_id}", headers=_bearer(DEFAULT_KEY))
    assert deleted.status_code == 204
    rule = {"path": "/v3/scopes", "action": {"status": 503}}
    assert mirror.http.post(f"{mirror.base_url}/_mirror/faults", headers=admin, json=rule).status_code == 201
    _put_back(mirror, "/_mirror/faults", 201)
    scopes = mirror.http.get(f"{mirror.base_url}/v3/scopes", headers=_bearer(DEFAULT_KEY))
    assert scopes.status_code == 200
    assert mirror.http.get(f"{mirror.base_url}/_mirror/faults", headers=admin).json()["rules"] == []


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
