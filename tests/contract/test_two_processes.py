"""Two `sgmirror serve` processes on one PostgreSQL database share exact counters and one scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from app.db.models import Event, Recipient
from app.db.models.limits import DailySendCount
from tests.api.mail_support import body
from tests.support import postgres

pytestmark = [pytest.mark.contract, pytest.mark.postgres]

KEY = "SG.twoProcessKey00000000.twoProcessSecret000000000000000000000000000"
PARTNER = "SG.twoProcessPartner0000.twoProcessPartnerSecret00000000000000000000"
FREE = {"name": "org.ei.free.v1", "type": "package", "quantity": 1}


@dataclass
class Cluster:
    urls: list[str]
    database_url: str


def _start(data_dir: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = postgres.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    env.update(
        SGMIRROR_DATA_DIR=str(data_dir), SGMIRROR_HTTP_PORT=str(port), SGMIRROR_DATABASE_URL=database_url,
        SGMIRROR_API_KEY=KEY, SGMIRROR_PARTNER_API_KEY=PARTNER, SGMIRROR_REQUIRE_VERIFIED_SENDER="false",
        SGMIRROR_SMTP_ENABLED="false", SGMIRROR_SCHEDULER_INTERVAL="0.05", SGMIRROR_RATE_LIMITS='{"scopes": 10}',
        SGMIRROR_LOG_LEVEL="warning",
    )  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_mirror/health", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the mirror did not start")


@pytest.fixture(scope="module")
def cluster(postgres_server: postgres.PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    database_url = postgres_server.create_database("sgmirror_two_processes")
    processes, urls = [], []
    try:
        for name in ("a", "b"):
            process, url = _start(tmp_path_factory.mktemp(name), database_url)
            processes.append(process)
            urls.append(url)
        yield Cluster(urls, database_url)
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _free_customer_key(url: str) -> str:
    partner = {"Authorization": f"Bearer {PARTNER}"}
    created = httpx.post(
        f"{url}/v3/partners/accounts",
        headers=partner,
        json={"profile": {"email": "q@race.example"}, "offerings": [FREE]},
    )
    assert created.status_code == 201, created.text
    on_behalf = {**partner, "On-Behalf-Of": f"account-id {created.json()['account_id']}"}
    key = httpx.post(f"{url}/v3/api_keys", headers=on_behalf, json={"name": "race"})
    assert key.status_code == 201, key.text
    raw: str = key.json()["api_key"]
    return raw


def _send(url: str, key: str, recipients: int, **changes: object) -> int:
    payload = body(personalizations=[{"to": [{"email": f"r{i}@example.com"} for i in range(recipients)]}], **changes)
    return httpx.post(f"{url}/v3/mail/send", headers={"Authorization": f"Bearer {key}"}, json=payload).status_code


def test_twenty_requests_on_two_processes_get_exactly_the_last_five_slots(cluster: Cluster) -> None:
    key = _free_customer_key(cluster.urls[0])
    assert _send(cluster.urls[0], key, 95) == 202
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda i: _send(cluster.urls[i % 2], key, 1), range(20)))
    assert sorted(codes) == [202] * 5 + [401] * 15
    engine = create_engine(cluster.database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.max(DailySendCount.count))) == 100
    engine.dispose()


def test_the_rate_limit_is_shared_by_both_processes(cluster: Cluster) -> None:
    key = _free_customer_key(cluster.urls[0])
    headers = {"Authorization": f"Bearer {key}"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda i: httpx.get(f"{cluster.urls[i % 2]}/v3/scopes", headers=headers), range(16)))
    assert sorted(a.status_code for a in answers) == [200] * 10 + [429] * 6
    assert sorted(int(a.headers["x-ratelimit-remaining"]) for a in answers) == [0] * 7 + list(range(1, 10))


def test_a_due_message_is_delivered_by_one_process_only(cluster: Cluster) -> None:
    send_at = int(time.time()) + 2
    ids = []
    for i in range(20):
        response = httpx.post(
            f"{cluster.urls[i % 2]}/v3/mail/send",
            headers={"Authorization": f"Bearer {KEY}"},
            json=body(send_at=send_at),
        )
        assert response.status_code == 202
        ids.append(response.headers["x-message-id"])
    engine = create_engine(cluster.database_url)
    deadline = time.monotonic() + 30
    delivered: list[str] = []
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            delivered = list(
                conn.scalars(
                    select(Recipient.message_id)
                    .join(Event)
                    .where(Recipient.message_id.in_(ids), Event.event == "delivered")
                )
            )
        if len(set(delivered)) == len(ids):
            break
        time.sleep(0.2)
    time.sleep(0.5)
    with engine.connect() as conn:
        delivered = list(
            conn.scalars(
                select(Recipient.message_id)
                .join(Event)
                .where(Recipient.message_id.in_(ids), Event.event == "delivered")
            )
        )
    engine.dispose()
    assert sorted(delivered) == sorted(ids)
