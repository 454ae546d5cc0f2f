"""Store-size benchmark: every search kind and mail send on a fresh store against a store of N messages.

    python -m bench.scale [--messages 1000000] [--fresh 1000] [--queries 200] [--budget 20] [--rounds 1]
                          [--duration 10] [--kinds "mirror: to= rare,v3: status= delivered"]
                          [--database sqlite|postgresql] [--batch 2000] [--keep]

The fill. Each store is made by a real `sgmirror serve` on an empty data folder (or PostgreSQL database):
migrations, the bootstrap accounts and the benchmark key; it then creates three subusers through
POST /v3/subusers and stops. The messages are then written from this process, straight into the database,
by the real ingest path minus its HTTP and its checks: each generated v3 mail-send body is parsed by
`mail.validation.parse_mail_send` (what HTTP sends go through), `mail.service.prepare_rows` builds the message,
envelope, recipient and event rows exactly as for a send (`new_message_id` is given the back-dated time, so
ids stay time-ordered as they would have been), `scheduling.scheduler.with_deliveries` adds the delivery row
of a scheduled send, and `kernel.db.bulk.prepare`/`execute` (the group commit's own INSERTs) writes them,
parents before children, `--batch` messages per transaction; after each batch the search index pass's own
`inspection.indexer.prepare`/`write` write its labels, words and trigram rows as the server would; on SQLite
with `synchronous=OFF` (fewer fsyncs, the same rows) and no ANALYZE afterwards (the mirror runs none). Left
out, as for a send whose checks all pass: the plan quota's daily counter and the delivery simulator (every
generated address is a plain delivery, which writes nothing beyond the rows above). Suppression lists get
one bounce per 100 messages and one unsubscribe per 200 (the default account), with the same bulk INSERT
into `suppressions`.

The variety, seeded so that every run writes the same store: four accounts (the default one 55 %, three
subusers 45 %); one `to` per personalization, 10 % with a `cc`, 10 % with a second personalization; 30 % of
recipients from 20 common addresses, the others drawn from two billion (nearly all seen once); every
1,000th message (always the default account) carries a rare address, a rare subject word, a rare body word,
a rare category and a rare `order_id` that no other message has; subjects and bodies of ordinary words;
one or two of eight categories; `custom_args`; 1 % sandbox sends and, in the last 12 hours, 1 % scheduled
sends still to come; creation times spread evenly over the 30 days before the fill.

Then, for each store (the big one is filled once; every round makes and fills a fresh one of `--fresh`
messages): start `sgmirror serve` (1 worker, API rate limits off), wait until its search index pass has
reached every message (a store at rest; a reused store may hold sends it had not indexed), run every
search kind `--queries` times (or until `--budget` seconds are spent on it, at least 3 times; 1 past three
budgets) after up to 3
unmeasured warm-ups, one request at a time over one keep-alive connection; record the server's RSS (its
whole process group) after the searches; then measure mail send with wrk as bench.run does. Rounds
alternate the order of the two stores; the tables give medians over rounds and big / fresh ratios from the
same run. On SQLite a thread samples the size of the database's -wal file every 100 ms through the whole
run (fills included) and the largest is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import servers, wrk
from bench.mkbody import mail_body_bytes
from bench.servers import BENCH_KEY, MAIL_PATH, NotReady, Server
from bench.wrk import WRK_INSTALL_HINT, WrkResult

DB_NAME = "sgmirror.db"
SUBUSERS = ("scale-sub-1", "scale-sub-2", "scale-sub-3")
ACCOUNT_WEIGHTS = (55, 25, 15, 5)  # default, then the subusers
COMMON_ADDRESSES = [f"common-{i}@example.com" for i in range(20)]
CATEGORIES = ("transactional", "receipt", "newsletter", "password-reset", "shipping", "promo", "digest", "alert")
CAMPAIGNS = ("spring-sale", "order-confirmation", "weekly-digest", "win-back", "onboarding")
RARE_EVERY = 1000
SEARCH_TARGET_MS = 50.0
FILL_DAYS = 30
_WORDS = (
    "order",
    "invoice",
    "parcel",
    "shipped",
    "account",
    "update",
    "weekly",
    "digest",
    "offer",
    "reminder",
    "password",
    "reset",
    "welcome",
    "receipt",
    "payment",
    "confirmed",
    "delivery",
    "schedule",
    "subscription",
    "renewal",
    "report",
    "summary",
    "ticket",
    "support",
    "meeting",
    "agenda",
    "project",
    "status",
    "review",
    "feedback",
    "survey",
    "event",
    "invitation",
    "newsletter",
)
_NAMES = ("Alex", "Sam", "Kim", "Noor", "Jo", "Lee", "Max", "Ana", "Ravi", "Mia")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- the fill


@dataclass(frozen=True)
class Accounts:
    """The store's accounts (default first, then the subusers) and the benchmark key's id."""

    ids: list[str]
    usernames: list[str]
    key_id: str


def rare_address(k: int) -> str:
    return f"rare-{k}@rare.example.org"


def rare_word(k: int, kind: str) -> str:
    """A token found in one message only: `kind` is s (subject), b (body), c (category) or o (order id)."""
    return f"zq{kind}{k}x"


def rare_count(n: int) -> int:
    """How many rare messages a store of n messages holds (message i is rare when i % RARE_EVERY == 0)."""
    return (n + RARE_EVERY - 1) // RARE_EVERY


def _body(i: int, rng: random.Random, created: datetime, end: datetime) -> dict[str, Any]:
    rare = i % RARE_EVERY == 0
    k = i // RARE_EVERY

    def address() -> str:
        if rng.random() < 0.3:
            return rng.choice(COMMON_ADDRESSES)
        return f"user{rng.randrange(2 * 1_000_000_000)}@mail{rng.randrange(50)}.example.net"

    words = rng.sample(_WORDS, 4)
    subject = f"{words[0].capitalize()} {words[1]} #{100000 + i} for {rng.choice(_NAMES)}"
    text = " ".join(rng.choices(_WORDS, k=60))
    categories = rng.sample(CATEGORIES, rng.choice((1, 2)))
    order_id = str(100000 + i)
    first_to = address()
    if rare:
        subject += " " + rare_word(k, "s")
        text += " " + rare_word(k, "b")
        categories = [*categories[:1], rare_word(k, "c")]
        order_id = rare_word(k, "o")
        first_to = rare_address(k)
    personalization: dict[str, Any] = {
        "to": [{"email": first_to, "name": rng.choice(_NAMES)}],
        "custom_args": {"order_id": order_id, "campaign": rng.choice(CAMPAIGNS)},
    }
    if rng.random() < 0.1:
        cc = address()
        if cc != first_to:  # validation refuses an address twice in one personalization
            personalization["cc"] = [{"email": cc}]
    personalizations = [personalization]
    if rng.random() < 0.1:
        personalizations.append({"to": [{"email": address()}], "custom_args": {"order_id": f"{order_id}-2"}})
    body: dict[str, Any] = {
        "personalizations": personalizations,
        "from": {"email": f"{rng.choice(('orders', 'news', 'noreply', 'billing'))}@shop{rng.randrange(5)}.example"},
        "subject": subject,
        "categories": categories,
        "content": [
            {"type": "text/plain", "value": text},
            {"type": "text/html", "value": f"<html><body><p>{text}</p></body></html>"},
        ],
    }
    if i % 100 == 3 and not rare:
        body["mail_settings"] = {"sandbox_mode": {"enable": True}}
    elif i % 100 == 7 and not rare and end - created < timedelta(hours=12):
        body["send_at"] = int((end + timedelta(days=1)).timestamp())
    return body


@dataclass
class FillStats:
    messages: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class Store:
    """One store: its data folder (the SQLite file, the TLS files) and, on PostgreSQL, its database URL."""

    name: str
    data_dir: Path
    database_url: str | None
    accounts: Accounts

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / DB_NAME}"

    @property
    def sqlite_file(self) -> Path | None:
        return None if self.database_url else self.data_dir / DB_NAME


def read_accounts(url: str) -> Accounts:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, username FROM accounts")).all()
            by_name = {username: account_id for account_id, username in rows}
            default = by_name["default"]
            key_id = conn.execute(
                text("SELECT id FROM api_keys WHERE account_id = :account LIMIT 1"), {"account": default}
            ).scalar_one()
    finally:
        engine.dispose()
    return Accounts([default, *(by_name[u] for u in SUBUSERS)], ["default", *SUBUSERS], str(key_id))


def fill(store: Store, n: int, *, batch: int, seed: int = 1) -> FillStats:
    """Write n messages (and their suppressions) into the store through the ingest's row code."""
    from sqlalchemy import create_engine, event

    import app.models  # noqa: F401 (every table, so that foreign keys resolve and parents sort first)
    from app.kernel.db import bulk
    from app.kernel.db.base import table_of
    from app.kernel.principal import Principal
    from app.mail import service as mail_service
    from app.mail import validation as mail_validation
    from app.scheduling import scheduler
    from app.suppressions.models import Suppression

    accounts = store.accounts
    engine = create_engine(store.url)
    dialect = engine.dialect.name
    if dialect == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous=OFF")
            dbapi_connection.execute("PRAGMA busy_timeout=30000")

    principals = [
        Principal(
            key_id=accounts.key_id,
            key_account_id=accounts.ids[0],
            account_id=account_id,
            account_kind="customer" if index == 0 else "subuser",
            account_state="activated",
            scopes=frozenset(),
        )
        for index, account_id in enumerate(accounts.ids)
    ]
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=FILL_DAYS)
    step = (end - start) / max(n, 1)
    stats = FillStats(n)
    suppressions = table_of(Suppression)
    order = {table: rank for rank, table in enumerate(suppressions.metadata.sorted_tables)}
    began = time.perf_counter()
    next_log = max(batch, n // 10)
    with engine.connect() as conn:
        for first in range(0, n, batch):
            tables: dict[Any, list[dict[str, Any]]] = {}
            for i in range(first, min(n, first + batch)):
                created = start + step * i
                body = _body(i, rng, created, end)
                raw = json.dumps(body, separators=(",", ":")).encode()
                unix = int(created.timestamp())
                message = mail_validation.parse_mail_send(json.loads(raw), now=unix)
                principal = principals[0] if i % RARE_EVERY == 0 else rng.choices(principals, ACCOUNT_WEIGHTS)[0]
                message_id = mail_service.new_message_id(at_ms=int(created.timestamp() * 1000))
                rows = mail_service.prepare_rows(
                    principal, message, message_id=message_id, transport="http", raw_request=raw, now=created
                )
                by_table = scheduler.with_deliveries(rows.by_table(), rows.message, rows.envelopes, created)
                if i % 100 == 11:
                    by_table[suppressions] = [_suppression(accounts.ids[0], "bounce", i, created)]
                elif i % 200 == 13:
                    by_table[suppressions] = [_suppression(accounts.ids[0], "unsubscribe", i, created)]
                for table, table_rows in by_table.items():
                    tables.setdefault(table, []).extend(table_rows)
            with conn.begin():
                for table in sorted(tables, key=order.__getitem__):
                    if not tables[table]:
                        continue
                    prepared = bulk.prepare(table, tables[table], dialect)
                    bulk.execute(conn, prepared, prepared.values)
                    stats.rows[table.name] = stats.rows.get(table.name, 0) + len(tables[table])
            _index(engine, conn)
            done = min(n, first + batch)
            if done >= next_log or done == n:
                next_log += max(batch, n // 10)
                elapsed = time.perf_counter() - began
                log(f"  filled {done:,}/{n:,} messages in {elapsed:.0f} s ({done / elapsed:,.0f} messages/s)")
        if dialect == "sqlite":  # no ANALYZE: the mirror never runs one, so its planner has no statistics
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:  # what autovacuum would do soon after such a fill
            conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()
    stats.seconds = time.perf_counter() - began
    return stats


def _index(engine: Any, conn: Any) -> None:
    """What the server's search index pass would write for everything filled so far (its own two functions)."""
    from sqlalchemy.orm import Session

    from app.inspection import indexer

    while True:
        with Session(engine) as session:
            batch = indexer.prepare(session, limit=2000)  # the fill's ids are back-dated, long settled
        if not batch.words:
            return
        with conn.begin():
            indexer.write(conn, batch)


def bounce_address(i: int) -> str:
    return f"bounce-{i}@mail{i % 50}.example.net"


def _suppression(account_id: str, kind: str, i: int, created: datetime) -> dict[str, Any]:
    return {
        "account_id": account_id, "kind": kind, "group_id": 0, "email": f"{kind}-{i}@mail{i % 50}.example.net",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist" if kind == "bounce" else None,
        "status": "5.1.1" if kind == "bounce" else None, "ip": None, "classification": None, "created_at": created,
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------- stores


def make_store(name: str, opts: Options) -> Store:
    """An empty store made by the mirror itself, with the subusers made through the API."""
    data_dir = opts.workdir / name
    database_url = opts.postgres.create_database(f"scale_{name.replace('-', '_')}") if opts.postgres else None
    port = servers.free_port()
    env = servers.mirror_env(port, data_dir, database_url)
    server = servers.start_server(f"{name}-setup", servers.mirror_command(1), env, port, opts.workdir)
    try:
        wait_up(server)
        headers = {"Authorization": f"Bearer {BENCH_KEY}"}
        for username in SUBUSERS:
            response = httpx.post(
                server.base_url + "/v3/subusers", headers=headers, timeout=30,
                json={"username": username, "email": f"{username}@example.com", "password": "Scale-bench-1", "ips": []},
            )  # fmt: skip
            if response.status_code >= 300:
                raise NotReady(f"POST /v3/subusers answered {response.status_code}: {response.text[:300]}")
    finally:
        server.stop()
    url = database_url or f"sqlite:///{data_dir / DB_NAME}"
    return Store(name, data_dir, database_url, read_accounts(url))


def reused_store(data_dir: Path) -> Store:
    """A big SQLite store an earlier run kept (`--keep`): searched as it is, with every message it holds."""
    return Store("big", data_dir, None, read_accounts(f"sqlite:///{data_dir / DB_NAME}"))


def stored_count(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM messages")).scalar_one())
    finally:
        engine.dispose()


def wait_indexed(url: str, timeout: float = 900) -> None:
    """Until the server's search index pass has reached every message (a reused store may hold sends it had
    not indexed when its server stopped): searches are measured on a store at rest."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from app.mail import search as mail_search

    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with Session(engine) as session:
                if mail_search.unindexed(session).empty:
                    return
            time.sleep(1)
        log("  the search index pass had not caught up; measuring anyway")
    finally:
        engine.dispose()


def wait_up(server: Server, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise NotReady(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(server.base_url + "/_mirror/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise NotReady(f"{server.name} was not up after {timeout:g} s\n{server.log_tail()}")


class WalWatch:
    """Samples the size of every watched -wal file every 100 ms; keeps the largest seen per label."""

    def __init__(self) -> None:
        self.largest: dict[str, int] = {}
        self._paths: dict[str, Path] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-watch", daemon=True)

    @contextmanager
    def watching(self, label: str, db_path: Path | None) -> Iterator[None]:
        if db_path is not None:
            self._paths[label] = Path(str(db_path) + "-wal")
        try:
            yield
        finally:
            self._sample()
            self._paths.pop(label, None)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        for label, path in list(self._paths.items()):
            try:
                size = path.stat().st_size
            except OSError:
                continue
            self.largest[label] = max(self.largest.get(label, 0), size)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()


def rss_bytes(server: Server) -> int:
    """Resident memory of every process in the server's process group (Linux /proc)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat[stat.rindex(")") + 2 :].split()[2]) != server.process.pid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


# ---------------------------------------------------------------------------------------------- searches


@dataclass(frozen=True)
class Kind:
    """One search kind: the request for the i-th query (path, params, needs the API key)."""

    name: str
    request: Callable[[int], tuple[str, dict[str, str]]]
    api_key: bool = False
    # A deep page by offset skips its rows one by one (kept correct, not fast): the verdict leaves it out,
    # the cursor kinds are the deep pages.
    by_offset: bool = False


def search_kinds(n: int, accounts: Accounts, cursors: list[str]) -> list[Kind]:
    """Every kind, with values that exist in a store of n messages (rare ones cycle over every rare message);
    `cursors` continue after messages among the oldest hundred (the deepest pages)."""
    rares = rare_count(n)
    end = datetime.now(UTC)

    def rare(i: int) -> int:
        return (i * 7919) % rares

    def common(i: int) -> str:
        return COMMON_ADDRESSES[i % len(COMMON_ADDRESSES)]

    def since(i: int) -> str:
        return (end - timedelta(hours=1 + (i * 37) % (24 * FILL_DAYS))).strftime("%Y-%m-%dT%H:%M:%SZ")

    deep = max(0, n - 100)
    bounces = max(1, n // 100)
    m = "/_mirror/messages"
    kinds = [
        Kind("mirror: newest page", lambda i: (m, {})),
        Kind("mirror: to= rare", lambda i: (m, {"to": rare_address(rare(i))})),
        Kind("mirror: to= common", lambda i: (m, {"to": common(i)})),
        Kind("mirror: from=", lambda i: (m, {"from": f"orders@shop{i % 5}.example"})),
        Kind("mirror: subject= rare word", lambda i: (m, {"subject": rare_word(rare(i), "s")})),
        Kind("mirror: subject= common word", lambda i: (m, {"subject": _WORDS[i % len(_WORDS)]})),
        Kind("mirror: text= rare word", lambda i: (m, {"text": rare_word(rare(i), "b")})),
        Kind("mirror: category= rare", lambda i: (m, {"category": rare_word(rare(i), "c")})),
        Kind("mirror: category= common", lambda i: (m, {"category": CATEGORIES[i % len(CATEGORIES)]})),
        Kind("mirror: custom_arg= rare", lambda i: (m, {"custom_arg": f"order_id={rare_word(rare(i), 'o')}"})),
        Kind("mirror: account=", lambda i: (m, {"account": accounts.usernames[1 + i % len(SUBUSERS)]})),
        Kind("mirror: since=", lambda i: (m, {"since": since(i)})),
        Kind("mirror: deep offset", lambda i: (m, {"offset": str(deep - (i % 50))}), by_offset=True),
        Kind("mirror: deep page by cursor", lambda i: (m, {"cursor": cursors[i % len(cursors)]})),
        Kind("mirror: text= common word", lambda i: (m, {"text": _WORDS[i % len(_WORDS)]})),
        Kind("v3: to_email= rare", lambda i: ("/v3/messages", {"query": f'to_email="{rare_address(rare(i))}"'}), True),
        Kind("v3: to_email= common", lambda i: ("/v3/messages", {"query": f'to_email="{common(i)}"'}), True),
        Kind(
            "v3: subject LIKE rare",
            lambda i: ("/v3/messages", {"query": f'subject LIKE "%{rare_word(rare(i), "s")}%"'}),
            True,
        ),
        Kind(
            "v3: from_email=",
            lambda i: ("/v3/messages", {"query": f'from_email="orders@shop{i % 5}.example"'}),
            True,
        ),
        Kind(
            "v3: last_event_time >",
            lambda i: ("/v3/messages", {"query": f'last_event_time > TIMESTAMP "{since(i)}"', "limit": "100"}),
            True,
        ),
        Kind("v3: status= processed (rare)", lambda i: ("/v3/messages", {"query": 'status="processed"'}), True),
        Kind(
            "v3: status= delivered", lambda i: ("/v3/messages", {"query": 'status="delivered"', "limit": "100"}), True
        ),
        Kind("console: all mail", lambda i: ("/console/all-mail", {})),
        Kind("console: subject= rare", lambda i: ("/console/all-mail", {"subject": rare_word(rare(i), "s")})),
        Kind("console: to= rare", lambda i: ("/console/all-mail", {"to": rare_address(rare(i))})),
        Kind("console: deep page", lambda i: ("/console/all-mail", {"offset": str(deep - (i % 50))}), by_offset=True),
        Kind(
            "console: deep page by cursor",
            lambda i: ("/console/all-mail", {"offset": str(deep - (i % 50)), "cursor": cursors[i % len(cursors)]}),
        ),
        Kind("suppression: bounces page", lambda i: ("/v3/suppression/bounces", {"limit": "100"}), True),
        Kind(
            "suppression: bounces deep",
            lambda i: ("/v3/suppression/bounces", {"limit": "100", "offset": str(max(0, bounces - 100 - i % 50))}),
            True,
        ),
        Kind(
            "suppression: one bounce",
            lambda i: (f"/v3/suppression/bounces/{bounce_address((i * 100 + 11) % n)}", {}),
            True,
        ),
        Kind("suppression: unsubscribes", lambda i: ("/v3/suppression/unsubscribes", {"limit": "100"}), True),
    ]
    return kinds


@dataclass
class Timings:
    samples_ms: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    capped: bool = False  # stopped by the time budget


def run_kind(client: httpx.Client, kind: Kind, *, queries: int, budget: float, warmups: int = 3) -> Timings:
    """Up to `warmups` unmeasured requests (one when a request takes over a quarter of the budget), then up to
    `queries` measured ones; stops once `budget` seconds are spent and at least 3 were measured, or once
    three times the budget is spent and at least 1 was."""
    headers = {"Authorization": f"Bearer {BENCH_KEY}"} if kind.api_key else {}
    timings = Timings()
    warm_until = time.monotonic() + budget / 4
    for i in range(warmups):
        path, params = kind.request(queries + i)  # values the measured queries do not use first
        _count_error(timings, client.get(path, params=params, headers=headers))
        if time.monotonic() > warm_until:
            break
    started = time.monotonic()
    for i in range(queries):
        path, params = kind.request(i)
        before = time.perf_counter()
        response = client.get(path, params=params, headers=headers)
        timings.samples_ms.append((time.perf_counter() - before) * 1000)
        _count_error(timings, response)
        spent = time.monotonic() - started
        if (spent > budget and len(timings.samples_ms) >= 3) or spent > budget * 3:
            timings.capped = len(timings.samples_ms) < queries
            break
    return timings


def _count_error(timings: Timings, response: httpx.Response) -> None:
    if response.status_code != 200:
        timings.errors[response.status_code] = timings.errors.get(response.status_code, 0) + 1


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


# ---------------------------------------------------------------------------------------------- rounds


@dataclass
class StoreRun:
    store: str
    round: int
    searches: dict[str, Timings]
    rss: int
    send: WrkResult | None
    stored: int | None


@dataclass
class Options:
    messages: int
    fresh: int
    queries: int
    budget: float
    rounds: int
    duration: float
    warmup: float
    connections: int
    threads: int
    kinds: list[str] | None
    wrk: str | None
    workdir: Path
    database: str = "sqlite"
    batch: int = 2000
    postgres: Any = None
    reuse: Path | None = None


def measure_store(label: str, round_no: int, store: Store, n: int, opts: Options, wal: WalWatch) -> StoreRun:
    port = servers.free_port()
    env = servers.mirror_env(port, store.data_dir, store.database_url)
    env["SGMIRROR_RATE_LIMIT"] = "0"
    server = servers.start_server(f"{label}-r{round_no}", servers.mirror_command(1), env, port, opts.workdir)
    results: dict[str, Timings] = {}
    send = None
    try:
        with wal.watching(label, store.sqlite_file):
            wait_up(server)
            wait_indexed(store.url)
            cursors = deep_cursors(store)
            kinds = [k for k in search_kinds(n, store.accounts, cursors) if opts.kinds is None or k.name in opts.kinds]
            with httpx.Client(base_url=server.base_url, timeout=3600) as client:
                for kind in kinds:
                    timings = results[kind.name] = run_kind(client, kind, queries=opts.queries, budget=opts.budget)
                    log(
                        f"  {label} {kind.name}: {len(timings.samples_ms)} queries, "
                        f"p50 {percentile(timings.samples_ms, 50):.1f} ms, "
                        f"p99 {percentile(timings.samples_ms, 99):.1f} ms"
                        + (f", errors {timings.errors}" if timings.errors else "")
                        + (" (time budget)" if timings.capped else "")
                    )
            rss = rss_bytes(server)
            log(f"  {label} server RSS after the searches: {rss / 2**20:,.0f} MiB")
            if opts.wrk is not None and opts.duration > 0:
                send = measure_send(server, opts)
            stored = servers.stored_messages(server)
    finally:
        server.stop()
    return StoreRun(label, round_no, results, rss, send, stored)


def deep_cursors(store: Store) -> list[str]:
    """Cursors after each of the 50th to 99th oldest messages, as a page of the listing would give them."""
    from sqlalchemy import create_engine, select

    from app.inspection.service import encode_cursor
    from app.mail.models import Message

    engine = create_engine(store.url)
    try:
        with engine.connect() as conn:
            oldest = conn.execute(
                select(Message.created_at, Message.id).order_by(Message.created_at, Message.id).limit(100)
            ).all()
    finally:
        engine.dispose()
    return [encode_cursor(at, message_id) for at, message_id in oldest[50:]] or [encode_cursor(datetime.now(UTC), "")]


def measure_send(server: Server, opts: Options) -> WrkResult:
    assert opts.wrk is not None
    body_path = opts.workdir / "plain.json"
    body_path.write_bytes(mail_body_bytes("plain"))
    lua = wrk.write_lua(opts.workdir / "plain.lua", body_path, BENCH_KEY)
    servers.wait_ready(server, body_path.read_bytes())
    common = {"threads": opts.threads, "connections": opts.connections}
    url = server.base_url + MAIL_PATH
    wrk.run_wrk(opts.wrk, url, lua, duration=opts.warmup, latency=False, **common)
    result = wrk.run_wrk(opts.wrk, url, lua, duration=opts.duration, latency=True, **common)
    log(
        f"  mail send: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
        f"non-2xx {result.non2xx}, socket errors {result.socket_error_total}"
    )
    return result


def run(opts: Options, wal: WalWatch) -> tuple[list[StoreRun], dict[str, FillStats]]:
    """Fill the big store once; every round makes and fills a fresh store anew (mail send grows it)."""
    fills = {}
    if opts.reuse is not None:
        big = reused_store(opts.reuse)
        fills["big"] = FillStats(stored_count(big.url))
        log(f"big store: reused from {opts.reuse}, {fills['big'].messages:,} messages")
    else:
        log(f"big store: {opts.messages:,} messages")
        big = make_store("big", opts)
        with wal.watching("fill", big.sqlite_file):
            fills["big"] = fill(big, opts.messages, batch=opts.batch)
    if big.sqlite_file is not None:
        log(f"  big store file: {big.sqlite_file.stat().st_size / 2**20:,.0f} MiB")
    runs = []
    for round_no in range(1, opts.rounds + 1):
        order = ("fresh", "big") if round_no % 2 else ("big", "fresh")
        for label in order:
            log(f"round {round_no}/{opts.rounds}: {label} store ...")
            if label == "fresh":
                fresh = make_store(f"fresh-r{round_no}", opts)
                with wal.watching("fill", fresh.sqlite_file):
                    fills["fresh"] = fill(fresh, opts.fresh, batch=opts.batch)
                runs.append(measure_store(label, round_no, fresh, opts.fresh, opts, wal))
                if fresh.sqlite_file is not None:
                    shutil.rmtree(fresh.data_dir, ignore_errors=True)
            else:
                runs.append(measure_store(label, round_no, big, opts.messages, opts, wal))
    return runs, fills


# ---------------------------------------------------------------------------------------------- report


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ms(value: float) -> str:
    if value != value:  # nan
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _fill_line(big: FillStats, opts: Options) -> str:
    if opts.reuse is not None:
        return f"Fill: none, the big store of an earlier run (filled with {opts.messages:,}) holding {big.messages:,}."
    return (
        f"Fill: {big.messages:,} messages, {big.total_rows:,} rows "
        f"({', '.join(f'{name} {count:,}' for name, count in big.rows.items())}) in {big.seconds:,.0f} s: "
        f"{big.messages / big.seconds:,.0f} messages/s, {big.total_rows / big.seconds:,.0f} rows/s."
    )


def report(opts: Options, runs: list[StoreRun], fills: dict[str, FillStats], wal: WalWatch) -> str:
    big = fills["big"]
    offset_kinds = {kind.name for kind in search_kinds(1, Accounts([""] * 4, [""] * 4, ""), [""]) if kind.by_offset}
    lines = [
        f"Store-size benchmark: fresh store {opts.fresh:,} messages vs big store {opts.messages:,} messages "
        f"({opts.database}, 1 worker); {opts.rounds} round(s), medians over rounds; {os.cpu_count()} CPUs.",
        "",
        _fill_line(big, opts),
        "",
        f"Searches: one request at a time, up to {opts.queries} per kind after up to 3 warm-ups (fewer when a kind "
        f"spent its {opts.budget:g} s budget: the count is shown); latency is the client's, in ms.",
        "",
        "| kind | fresh p50 | fresh p99 | big p50 | big p99 | big / fresh p99 | queries (fresh / big) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    names = list(dict.fromkeys(name for run in runs for name in run.searches))
    over: list[str] = []
    for name in names:
        figures: dict[str, tuple[float, float]] = {}
        counts: dict[str, str] = {}
        errors: dict[int, int] = {}
        for store in ("fresh", "big"):
            timings = [run.searches[name] for run in runs if run.store == store and name in run.searches]
            p50 = _median([percentile(t.samples_ms, 50) for t in timings])
            p99 = _median([percentile(t.samples_ms, 99) for t in timings])
            figures[store] = (p50, p99)
            counts[store] = "+".join(str(len(t.samples_ms)) + ("*" if t.capped else "") for t in timings)
            for t in timings:
                for status, count in t.errors.items():
                    errors[status] = errors.get(status, 0) + count
        ratio = figures["big"][1] / figures["fresh"][1] if figures["fresh"][1] else float("nan")
        if figures["big"][1] >= SEARCH_TARGET_MS and name not in offset_kinds:
            over.append(f"{name} ({_ms(figures['big'][1])} ms)")
        lines.append(
            f"| {name} | {_ms(figures['fresh'][0])} | {_ms(figures['fresh'][1])} | {_ms(figures['big'][0])} "
            f"| {_ms(figures['big'][1])} | {ratio:,.1f}x | {counts['fresh']} / {counts['big']} "
            f"| {', '.join(f'{s}: {c}' for s, c in sorted(errors.items())) or '0'} |"
        )
    verdict = (
        f"over {SEARCH_TARGET_MS:g} ms at p99 on the big store: {', '.join(over)}"
        if over
        else (f"every kind under {SEARCH_TARGET_MS:g} ms at p99 on the big store")
    )
    lines += ["", "(* = stopped by the time budget)", "", f"Searches: **{verdict}**.", ""]
    sends = {
        store: [run.send for run in runs if run.store == store and run.send is not None] for store in ("fresh", "big")
    }
    if sends["fresh"] and sends["big"]:
        rps = {store: _median([s.rps for s in sends[store]]) for store in sends}
        tail = {store: _median([s.p99_ms for s in sends[store]]) for store in sends}
        failures = sum(s.non2xx + s.socket_error_total for store in sends for s in sends[store])
        lines.append(
            f"Mail send (wrk -t{opts.threads} -c{opts.connections} -d{opts.duration:g}s, plain body): fresh "
            f"{rps['fresh']:,.0f} req/s (p99 {tail['fresh']:.1f} ms), big {rps['big']:,.0f} req/s "
            f"(p99 {tail['big']:.1f} ms): big / fresh **{rps['big'] / rps['fresh']:.2f}**; "
            f"{failures} non-2xx or socket errors."
        )
    rss = {store: _median([float(run.rss) for run in runs if run.store == store]) for store in ("fresh", "big")}
    lines.append(
        f"Server RSS after the searches: fresh {rss['fresh'] / 2**20:,.0f} MiB, big {rss['big'] / 2**20:,.0f} MiB: "
        f"big / fresh **{rss['big'] / rss['fresh']:.2f}** (target ≤ 1.5)."
    )
    wal_text = ", ".join(f"{label} {size / 2**20:,.1f} MiB" for label, size in wal.largest.items())
    if opts.database != "sqlite":
        lines.append("(PostgreSQL's own memory is not in the RSS; its WAL is not watched.)")
        return "\n".join(lines)
    lines.append(f"Largest -wal file seen: **{max(wal.largest.values(), default=0) / 2**20:,.1f} MiB** ({wal_text}).")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    parser.add_argument("--messages", "-n", type=int, default=1_000_000, help="big store size (default 1,000,000)")
    parser.add_argument("--fresh", type=int, default=1000, help="fresh store size (default 1,000)")
    parser.add_argument("--queries", type=int, default=200, help="measured queries per kind (default 200)")
    parser.add_argument("--budget", type=float, default=20, help="seconds per kind and store before stopping early")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (default 1)")
    parser.add_argument("--duration", type=float, default=10, help="mail send: measured seconds (0: no mail send)")
    parser.add_argument("--warmup", type=float, default=2, help="mail send: warm-up seconds (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="mail send: connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="mail send: wrk threads (default 2)")
    parser.add_argument("--kinds", default="", help="only these search kinds (comma-separated names, as printed)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--batch", type=int, default=2000, help="fill: messages per transaction (default 2000)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (stores, server logs)")
    parser.add_argument(
        "--reuse", type=Path, default=None,
        help="SQLite: search the big store a --keep run left (its 'big' data folder) instead of filling one",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path = shutil.which("wrk")
    if wrk_path is None and args.duration > 0:
        log(WRK_INSTALL_HINT)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sgmirror-scale-"))
    opts = Options(
        messages=args.messages, fresh=args.fresh, queries=args.queries, budget=args.budget, rounds=args.rounds,
        duration=args.duration, warmup=args.warmup, connections=args.connections, threads=args.threads,
        kinds=[k.strip() for k in args.kinds.split(",")] if args.kinds else None, wrk=wrk_path, workdir=workdir,
        database=args.database, batch=args.batch, reuse=args.reuse,
    )  # fmt: skip

    wal = WalWatch()
    wal.start()
    try:
        with servers.postgres_server(args.database) as pg:
            opts.postgres = pg
            runs, fills = run(opts, wal)
    except NotReady as exc:
        log(f"benchmark aborted: {exc}")
        return 1
    finally:
        wal.stop()
        if args.keep:
            log(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(opts, runs, fills, wal))
    return 0


if __name__ == "__main__":
    sys.exit(main())
