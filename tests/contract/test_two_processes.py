"""`sgmirror serve --workers 2` on PostgreSQL: one listener per port, exact counters, one scheduler delivery.

Each request goes over a connection whose server end is known (from /proc) to be held by a given worker,
so every check runs on both processes, over HTTP and over the shared SMTP relay.
"""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Select, create_engine, func, select

from app.mail.models import Event, Message, Recipient
from app.quotas.models import DailySendCount
from tests.support import mirror_process, postgres
from tests.support.mail import body
from tests.support.mirror_process import MirrorProcess

pytestmark = pytest.mark.contract

KEY = "SG.twoProcessKey00000000.twoProcessSecret000000000000000000000000000"
PARTNER = "SG.twoProcessPartner0000.twoProcessPartnerSecret00000000000000000000"
FREE = {"name": "org.ei.free.v1", "type": "package", "quantity": 1}
WORKERS = 2
Connection = TypeVar("Connection")


@dataclass
class Cluster:
    mirror: MirrorProcess
    database_url: str

    def count(self, statement: Select[tuple[int]]) -> int | None:
        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            found = conn.scalar(statement)
        engine.dispose()
        return found


@pytest.fixture(scope="module")
def cluster(postgres_server: postgres.PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    database_url = postgres_server.create_database("sgmirror_two_processes")
    mirror = mirror_process.start(
        tmp_path_factory.mktemp("workers"),
        workers=WORKERS,
        database_url=database_url,
        api_key=KEY,
        partner_api_key=PARTNER,
        require_verified_sender="false",
        scheduler_interval="0.05",
        rate_limits='{"scopes": 10}',
    )
    yield Cluster(mirror, database_url)
    mirror.stop()


def _per_worker(
    mirror: MirrorProcess, count: int, open_one: Callable[[], tuple[Connection, int]], server_port: int
) -> list[list[Connection]]:
    """`count` connections to each worker: opened until every worker holds that many (extras are dropped)."""
    by_worker: dict[int, list[Connection]] = defaultdict(list)
    deadline = time.monotonic() + 60
    while len(by_worker) < WORKERS or any(len(held) < count for held in by_worker.values()):
        assert time.monotonic() < deadline, f"connections reached only {len(by_worker)} worker(s)"
        connection, client_port = open_one()
        owner = mirror.owner_of(client_port, server_port)
        if owner is not None and len(by_worker[owner]) < count:
            by_worker[owner].append(connection)
        else:
            _close(connection)
    return list(by_worker.values())


def _close(connection: object) -> None:
    if isinstance(connection, httpx.Client | smtplib.SMTP):
        connection.close()


def _http_connections(mirror: MirrorProcess, count: int, key: str) -> list[list[httpx.Client]]:
    def open_one() -> tuple[httpx.Client, int]:
        client = httpx.Client(
            base_url=mirror.url,
            headers={"Authorization": f"Bearer {key}"},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=30,
        )
        response = client.get("/_mirror/health")
        return client, int(response.extensions["network_stream"].get_extra_info("client_addr")[1])

    return _per_worker(mirror, count, open_one, int(urlsplit(mirror.url).port or 0))


def _smtp_sessions(mirror: MirrorProcess, count: int, key: str) -> list[list[smtplib.SMTP]]:
    def open_one() -> tuple[smtplib.SMTP, int]:
        session = smtplib.SMTP("127.0.0.1", mirror.smtp_port, timeout=30)
        session.starttls()
        session.login("apikey", key)
        return session, int(session.sock.getsockname()[1])

    return _per_worker(mirror, count, open_one, mirror.smtp_port)


def _interleave(groups: list[list[Connection]]) -> list[Connection]:
    return [connection for row in zip(*groups, strict=True) for connection in row]


def _mime(recipients: int = 1, *, smtpapi: dict[str, object] | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "sender@example.com"
    message["To"] = ", ".join(f"s{i}@example.com" for i in range(recipients))
    message["Subject"] = "Over the shared relay"
    if smtpapi is not None:
        message["X-SMTPAPI"] = json.dumps(smtpapi)
    message.set_content("Hello from one of two workers")
    return message


def _smtp_send(session: smtplib.SMTP, message: EmailMessage) -> tuple[int, str]:
    """(reply code, reply text) of DATA, 250 or the refusal."""
    try:
        session.mail("sender@example.com")
        for recipient in message["To"].split(", "):
            session.rcpt(recipient)
        code, reply = session.data(message.as_bytes())
    except smtplib.SMTPResponseException as refused:
        return refused.smtp_code, refused.smtp_error.decode()
    finally:
        session.close()
    return code, reply.decode()


def _http_send(client: httpx.Client, payload: dict[str, object]) -> tuple[int, str]:
    try:
        response = client.post("/v3/mail/send", json=payload)
    finally:
        client.close()
    return response.status_code, response.headers.get("x-message-id", response.text)


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


def _one_recipient() -> dict[str, object]:
    return body(personalizations=[{"to": [{"email": "one@example.com"}]}])


@pytest.mark.postgres
def test_the_workers_share_one_listening_socket_per_port(cluster: Cluster) -> None:
    mirror = cluster.mirror
    assert mirror_process.listening_sockets(mirror.smtp_port) == 1
    assert mirror_process.listening_sockets(int(urlsplit(mirror.url).port or 0)) == 1
    sessions = _smtp_sessions(mirror, 1, KEY)
    codes = [_smtp_send(session, _mime())[0] for session in _interleave(sessions)]
    assert codes == [250] * WORKERS


@pytest.mark.postgres
def test_quota_slots_are_exact_across_workers_and_transports(cluster: Cluster) -> None:
    mirror = cluster.mirror
    key = _free_customer_key(mirror.url)
    many = body(personalizations=[{"to": [{"email": f"r{i}@example.com"} for i in range(95)]}])
    assert (
        httpx.post(f"{mirror.url}/v3/mail/send", headers={"Authorization": f"Bearer {key}"}, json=many).status_code
        == 202
    )
    http = _interleave(_http_connections(mirror, 5, key))
    smtp = _interleave(_smtp_sessions(mirror, 5, key))
    sends: list[Callable[[], tuple[int, str]]] = [lambda c=c: _http_send(c, _one_recipient()) for c in http]
    sends += [lambda s=s: _smtp_send(s, _mime()) for s in smtp]
    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        answers = list(pool.map(lambda send: send(), sends))
    assert {code for code, _ in answers[:10]} <= {202, 401}, answers
    assert {code for code, _ in answers[10:]} <= {250, 451}, answers
    assert sum(code in (202, 250) for code, _ in answers) == 5, answers
    assert all("Maximum credits exceeded" in text for code, text in answers if code in (401, 451)), answers
    account = cluster.count(select(DailySendCount.account_id).where(DailySendCount.count == 100))  # type: ignore[arg-type]
    assert account is not None
    assert cluster.count(select(func.count()).select_from(Message).where(Message.account_id == account)) == 1 + 5


@pytest.mark.postgres
def test_the_rate_limit_is_shared_by_both_workers(cluster: Cluster) -> None:
    key = _free_customer_key(cluster.mirror.url)
    clients = _interleave(_http_connections(cluster.mirror, 8, key))

    def scopes(client: httpx.Client) -> httpx.Response:
        try:
            return client.get("/v3/scopes")
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        answers = list(pool.map(scopes, clients))
    assert sorted(a.status_code for a in answers) == [200] * 10 + [429] * 6
    assert sorted(int(a.headers["x-ratelimit-remaining"]) for a in answers) == [0] * 7 + list(range(1, 10))
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"10"}


@pytest.mark.postgres
def test_a_due_message_is_delivered_by_one_worker_only(cluster: Cluster) -> None:
    mirror = cluster.mirror
    http = _interleave(_http_connections(mirror, 5, KEY))
    smtp = _interleave(_smtp_sessions(mirror, 5, KEY))
    send_at = int(time.time()) + 2
    sends: list[Callable[[], tuple[int, str]]] = [lambda c=c: _http_send(c, body(send_at=send_at)) for c in http]
    sends += [lambda s=s: _smtp_send(s, _mime(smtpapi={"send_at": send_at})) for s in smtp]
    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        answers = list(pool.map(lambda send: send(), sends))
    assert [code for code, _ in answers] == [202] * 10 + [250] * 10, answers
    ids = [text.removeprefix("Ok: queued as ") for _, text in answers]
    engine = create_engine(cluster.database_url)
    delivered = (
        select(Recipient.message_id).join(Event).where(Recipient.message_id.in_(ids), Event.event == "delivered")
    )
    deadline = time.monotonic() + 30
    with engine.connect() as conn:
        while len(set(conn.scalars(delivered))) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # a second delivery by the other worker would have happened by now
        found = list(conn.scalars(delivered))
    engine.dispose()
    assert sorted(found) == sorted(ids)


def test_several_workers_on_sqlite_are_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    env.update(SGMIRROR_DATA_DIR=str(tmp_path), SGMIRROR_HTTP_PORT=str(postgres.free_port()), SGMIRROR_HTTPS_PORT="0")
    done = subprocess.run([sys.executable, "-m", "app", "serve", "--workers", "2"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert "--workers above 1 needs PostgreSQL" in done.stderr
