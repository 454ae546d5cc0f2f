"""The mirror's /v3 answers validate against SendGrid's official OpenAPI files.

A scenario drives every served official operation (valid requests and the main errors) through a
recording client; the check then covers those answers and every answer the API tests before it recorded
(tests/conftest.py's `client` records). Known errors in the official files are in overrides.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml

from app.accounts import bootstrap
from app.api_keys import auth
from app.kernel.config import Settings
from app.kernel.db import maintenance
from app.kernel.db.session import Database
from app.main import create_app
from tests.conformance import official, overrides, recorder, scenario_accounts, scenario_mail
from tests.conformance.recorder import Exchange
from tests.conftest import DEFAULT_KEY, PARTNER_KEY, Keys

pytestmark = pytest.mark.anyio

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "openapi.yaml"


@pytest.fixture(scope="module")
async def recorded(database: Database, scratch_dir: Path) -> AsyncIterator[list[Exchange]]:
    """Run the scenario on this backend; yields every /v3 exchange recorded so far in the session."""
    with database.session() as session:
        maintenance.clear_all(session)
        bootstrap.bootstrap(session, api_key=DEFAULT_KEY, partner_api_key=PARTNER_KEY)
    auth.invalidate_cache()
    settings = Settings(data_dir=scratch_dir / "data", require_verified_sender=False, trusted_hosts="mirror.test")
    transport = httpx.ASGITransport(app=create_app(settings, database=database), raise_app_exceptions=False)
    hooks = recorder.event_hooks()
    async with httpx.AsyncClient(transport=transport, base_url="http://mirror.test", event_hooks=hooks) as client:
        driver = scenario_accounts.Driver(client, Keys(default=DEFAULT_KEY, partner=PARTNER_KEY))
        await scenario_accounts.api_keys_and_scopes(driver)
        customer = await scenario_accounts.partner_accounts(driver)
        await scenario_accounts.subusers_and_ips(driver, customer)
        await scenario_mail.mail(driver)
        await scenario_mail.activity(driver)
        await scenario_mail.verified_senders(driver)
        await scenario_mail.domains(driver)
        await scenario_mail.suppression_groups(driver)
        await scenario_mail.suppression_lists(driver, database)
    yield list(recorder.EXCHANGES)
    with database.session() as session:
        maintenance.clear_all(session)
    auth.invalidate_cache()


def served_official_operations() -> set[str]:
    """Labels (as the official files spell them) of the /v3 operations openapi.yaml serves."""
    served = yaml.safe_load(OPENAPI_FILE.read_text())["paths"]
    labels = set()
    for path, item in served.items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in item:
            operation = official.find(method, concrete) if path.startswith("/v3/") else None
            if operation is not None:
                labels.add(operation.label)
    return labels


async def test_every_served_official_operation_answered_successfully(recorded: list[Exchange]) -> None:
    """A new endpoint fails here until the scenario (or an API test) drives it to a 2xx/3xx answer."""
    answered = set()
    for exchange in recorded:
        operation = official.find(exchange.method, exchange.path)
        if operation is not None and 200 <= exchange.status < 400:
            answered.add(operation.label)
    missing = sorted(served_official_operations() - answered)
    assert not missing, "served official operations nothing drove to a 2xx/3xx answer:\n" + "\n".join(missing)


async def test_recorded_answers_match_the_official_schemas(recorded: list[Exchange]) -> None:
    found = [problem for exchange in recorded for problem in official.problems(exchange)]
    unexplained, _ = overrides.unexplained(found)
    lines = sorted({str(problem) for problem in unexplained})
    assert not lines, "answers that break the official schemas:\n" + "\n".join(lines)


async def test_every_override_still_applies(recorded: list[Exchange]) -> None:
    """An override that explains nothing any more is stale: remove it (and its docs/deviations.md line)."""
    found = [problem for exchange in recorded for problem in official.problems(exchange)]
    _, used = overrides.unexplained(found)
    assert [override for override in overrides.OVERRIDES if override not in used] == []
