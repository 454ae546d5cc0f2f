"""Fault injection: the rules in the database, each process's copy of them, and the decision per request.

Rules live in the database so every process applies the same ones. Each process keeps a copy and checks
a version token at most once a second (a watcher task does it when the app or relay runs; otherwise the
next request does). Counters behind `nth`, `every`, `times` and the seeded random draws are per process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import yaml
from sqlalchemy import Connection, Row, delete, func, select, update
from sqlalchemy.orm import Session

from app.faults import parsing
from app.faults import rules as fault_rules
from app.faults.models import FaultRule, FaultRulesVersion
from app.faults.rules import Action, Rule
from app.kernel import local_caches
from app.kernel.config import Settings
from app.kernel.db.base import as_utc, table_of
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, NotFound

log = logging.getLogger("sgmirror.faults")

REFRESH_SECONDS: Final = 1.0
_VERSION_ROW: Final = 1
_RULES_QUERY: Final = select(FaultRule.id, FaultRule.source, FaultRule.spec, FaultRule.created_at).order_by(
    FaultRule.position, FaultRule.id
)


@dataclass
class Counters:
    """This process's counts for one rule: requests it matched, times it fired, and its random stream."""

    matched: int = 0
    hits: int = 0
    draws: random.Random = field(default_factory=random.Random)


@dataclass(frozen=True, slots=True)
class LiveRule:
    rule: Rule
    source: str
    created_at: datetime
    counters: Counters


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The rules as this process last loaded them, and the same sorted by where they apply."""

    rules: tuple[LiveRule, ...] = ()
    http: tuple[LiveRule, ...] = ()
    http_recipient: tuple[LiveRule, ...] = ()
    smtp: Mapping[str, tuple[LiveRule, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: tuple[LiveRule, ...]) -> Snapshot:
        http = [r for r in rules if r.rule.transport == "http"]
        return cls(
            rules=rules,
            http=tuple(r for r in http if r.rule.recipient is None),
            http_recipient=tuple(r for r in http if r.rule.recipient is not None),
            smtp={
                stage: tuple(r for r in rules if r.rule.transport == "smtp" and r.rule.stage == stage)
                for stage in fault_rules.SMTP_STAGES
            },
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """What the rules that fired ask for: their ids, the summed latency, and the action that ends the request."""

    rule_ids: tuple[str, ...]
    latency_ms: int
    action: Action | None


class Registry:
    """This process's copy of the rules of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # True only while a watcher keeps the copy fresh and there is no rule: the hot paths test this alone.
        self.idle = False
        self.snapshot = Snapshot()
        self._token: str | None = None
        self._checked = float("-inf")
        self._stale = True
        self._watchers = 0
        self._counters: dict[tuple[str, str], Counters] = {}
        self._lock = threading.Lock()

    def current(self) -> Snapshot:
        """The rules, refreshed first when they may be out of date."""
        due = not self._watchers and time.monotonic() - self._checked >= REFRESH_SECONDS
        if self._stale or due:
            self.refresh()
        return self.snapshot

    def refresh(self) -> None:
        """Load the rules again if their version token changed (one small SELECT otherwise)."""
        with self._lock, self.db.reader.connect() as conn:
            self._stale = False
            self._checked = time.monotonic()
            token = read_token(conn)
            if token != self._token:
                self._install(token, conn.execute(_RULES_QUERY).all())
        self.idle = self._watchers > 0 and not self.snapshot.rules

    def forget(self) -> None:
        """Something in this process wrote to the database (maybe the rules): check before the next use."""
        self._stale = True
        self._token = None
        self.idle = False

    def _install(self, token: str, rows: Iterable[Row[Any]]) -> None:
        live = []
        for row in rows:
            rule = _stored_rule(row)
            if rule is None:
                continue
            key = _counter_key(rule)
            counters = self._counters.get(key) or Counters(draws=random.Random(rule.seed))
            live.append(LiveRule(rule, row.source, as_utc(row.created_at), counters))
        before = [r.rule for r in self.snapshot.rules]
        self._counters = {_counter_key(r.rule): r.counters for r in live}
        self._token = token
        self.snapshot = Snapshot.of(tuple(live))
        if [r.rule for r in live] != before:
            _announce(self.snapshot)


def _counter_key(rule: Rule) -> tuple[str, str]:
    """A rule keeps its counters across reloads while its id and content stay the same."""
    return rule.id, json.dumps(rule.spec(), sort_keys=True)


def _stored_rule(row: Row[Any]) -> Rule | None:
    try:
        return parsing.parse_rule(row.spec, default_id=row.id)
    except BadRequest:
        log.error("fault rule %s is not valid any more and is skipped: %s", row.id, row.spec)
        return None


def _announce(snapshot: Snapshot) -> None:
    """The warning line that says fault injection is on (or off again), with every rule."""
    if not snapshot.rules:
        log.warning("Fault injection is OFF: no rules.")
        return
    described = "; ".join(fault_rules.describe(r.rule) for r in snapshot.rules)
    log.warning(
        "Fault injection is ON (%d rule%s): %s. Injected HTTP responses carry X-Mirror-Fault; see /_mirror/faults.",
        len(snapshot.rules),
        "" if len(snapshot.rules) == 1 else "s",
        described,
    )


_registries: dict[str, Registry] = {}


def registry_for(db: Database) -> Registry:
    registry = _registries.get(db.url)
    if registry is None or registry.db is not db:
        registry = _registries[db.url] = Registry(db)
    return registry


def _forget_all() -> None:
    for registry in _registries.values():
        registry.forget()


local_caches.register(_forget_all)


def configure(db: Database, settings: Settings) -> Registry:
    """The process's registry for `db`, with the rules of SGMIRROR_FAULTS installed (again) when it is set."""
    registry = registry_for(db)
    if settings.faults:
        rules = parse_rules(load_setting(settings.faults), id_prefix="settings", where="SGMIRROR_FAULTS")
        with db.session() as session:
            replace_source(session, rules, source="settings")
    return registry


def load_setting(value: str) -> Any:
    """SGMIRROR_FAULTS: inline JSON, or the path of a JSON or YAML file."""
    text = value.strip()
    if text.startswith(("[", "{")):
        return _json(text, "SGMIRROR_FAULTS")
    path = Path(text)
    if not path.is_file():
        raise BadRequest(f"SGMIRROR_FAULTS is neither JSON nor a readable file: {text}", field="SGMIRROR_FAULTS")
    body = path.read_text()
    return _json(body, str(path)) if path.suffix.lower() == ".json" else yaml.safe_load(body)


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(f"{where} is not valid JSON: {error}", field="SGMIRROR_FAULTS") from None


def parse_rules(document: Any, *, id_prefix: str, where: str) -> list[Rule]:
    """A list of rules, or {"rules": [...]} (settings and seed files)."""
    entries = document.get("rules") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise BadRequest(f'{where} must be a list of fault rules (or {{"rules": [...]}})', field=where)
    rules = [
        parsing.parse_rule(e, default_id=f"{id_prefix}-{i + 1}", where=f"{where}.{i}.") for i, e in enumerate(entries)
    ]
    ids = [rule.id for rule in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise BadRequest(f"fault rule ids must be unique: {', '.join(duplicates)}", field=where)
    return rules


async def watch(registry: Registry) -> None:
    """Keep the registry fresh (every REFRESH_SECONDS), so that requests need only test `registry.idle`."""
    registry._watchers += 1
    try:
        while True:
            try:
                await asyncio.to_thread(registry.refresh)
            except Exception:
                log.exception("could not refresh the fault rules")
            await asyncio.sleep(REFRESH_SECONDS)
    finally:
        registry._watchers -= 1
        registry.idle = False


def start_watching(registry: Registry) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(watch(registry), name="sgmirror-faults")


# ---- changes (the caller's session commits; the registry sees them at its next refresh) ----


def read_token(conn: Connection) -> str:
    token = conn.scalar(select(FaultRulesVersion.token).where(FaultRulesVersion.id == _VERSION_ROW))
    return token or ""


def _bump(session: Session) -> None:
    """A new version token; the row's lock makes concurrent changes take turns."""
    versions = table_of(FaultRulesVersion)
    token = uuid.uuid4().hex
    changed = session.execute(update(versions).where(versions.c.id == _VERSION_ROW).values(token=token))
    if not getattr(changed, "rowcount", 0):
        session.add(FaultRulesVersion(id=_VERSION_ROW, token=token))
        session.flush()


def _next_position(session: Session) -> int:
    return (session.scalar(select(func.max(FaultRule.position))) or 0) + 1


def add_rule(session: Session, body: Any) -> Rule:
    """A new rule from the API (tried after the existing ones); 400 when it is invalid or its id is taken."""
    rule = parsing.parse_rule(body, default_id=f"fault-{uuid.uuid4().hex[:8]}")
    _bump(session)
    if session.get(FaultRule, rule.id) is not None:
        raise BadRequest(f"a fault rule with id {rule.id!r} already exists", field="id")
    session.add(FaultRule(id=rule.id, position=_next_position(session), source="api", spec=rule.spec()))
    session.flush()
    return rule


def delete_rule(session: Session, rule_id: str) -> None:
    """Remove one rule; 404 when there is none with that id."""
    _bump(session)
    row = session.get(FaultRule, rule_id)
    if row is None:
        raise NotFound(f"no fault rule with id {rule_id!r}")
    session.delete(row)
    session.flush()


def delete_all(session: Session) -> None:
    _bump(session)
    session.execute(delete(table_of(FaultRule)))


def replace_source(session: Session, rules: list[Rule], *, source: str) -> None:
    """Make `rules` the rules of `source` (settings, seed); a rule with the same id from elsewhere is replaced."""
    _bump(session)
    table = table_of(FaultRule)
    ids = [rule.id for rule in rules]
    session.execute(delete(table).where((table.c.source == source) | table.c.id.in_(ids)))
    position = _next_position(session)
    for offset, rule in enumerate(rules):
        session.add(FaultRule(id=rule.id, position=position + offset, source=source, spec=rule.spec()))
    session.flush()


# ---- decisions ----


def decide(rules: Iterable[LiveRule], matches: Callable[[Rule], bool]) -> Decision | None:
    """Try the rules in order: each that matches counts the request; latency adds up; the first error wins."""
    fired: list[str] = []
    latency = 0
    for live in rules:
        rule = live.rule
        if not matches(rule):
            continue
        counters = live.counters
        counters.matched += 1
        draw = counters.draws.random() if rule.probability is not None else 0.0
        if not fault_rules.fires(rule, counters.matched, draw):
            continue
        counters.hits += 1
        fired.append(rule.id)
        latency += rule.action.latency_ms
        if rule.action.terminal:
            return Decision(tuple(fired), latency, rule.action)
    return Decision(tuple(fired), latency, None) if fired else None


def http_decision(snapshot: Snapshot, method: str, path: str, headers: Mapping[str, str]) -> Decision | None:
    return decide(snapshot.http, lambda rule: fault_rules.matches_request(rule, method, path, headers))


def recipient_decision(
    snapshot: Snapshot, method: str, path: str, headers: Mapping[str, str], recipients: list[str]
) -> Decision | None:
    def matches(rule: Rule) -> bool:
        return fault_rules.matches_request(rule, method, path, headers) and fault_rules.any_recipient_matches(
            rule, recipients
        )

    return decide(snapshot.http_recipient, matches)


def decide_smtp(
    rules: Iterable[LiveRule], *, recipients: list[str], headers: Mapping[str, str] | None = None
) -> Decision | None:
    """An SMTP stage's rules against its recipients (rcpt: the one address; data: all) and message headers."""

    def matches(rule: Rule) -> bool:
        if rule.header and (headers is None or not fault_rules.matches_headers(rule, headers)):
            return False
        return fault_rules.any_recipient_matches(rule, recipients)

    return decide(rules, matches)


def banner(registry: Registry) -> list[str]:
    """One line per rule for the console's banner (empty: fault injection is off)."""
    return [fault_rules.describe(live.rule) for live in registry.current().rules]


def apply_seed(session: Session, document: Any) -> int:
    """A seed file's `faults:` (a list of rules, or {"rules": [...]}) replaces the rules of the last seed."""
    rules = parse_rules(document, id_prefix="seed", where="faults")
    replace_source(session, rules, source="seed")
    return len(rules)
