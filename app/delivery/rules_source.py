"""Where the delivery simulator's rules come from: the API or a seed file, else SGMIRROR_DELIVERY_RULES, else
the built-in rules.

Rules stored in the database (PUT /_mirror/delivery-rules, seed `delivery_rules:`) win; every process reads
them at most once a second, and the process that changes them forgets its copy at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.delivery import rules as delivery_rules
from app.delivery.models import DeliveryRuleSet
from app.delivery.rules import RuleSet
from app.kernel import local_caches
from app.kernel.config import Settings, get_settings
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest

_TTL_SECONDS = 1.0
_ROW_ID = 1


@dataclass(frozen=True)
class Rules:
    """The rules in force and where they come from: "api" (or a seed file), "setting" or "default"."""

    rule_set: RuleSet
    source: str


# Database URL -> the setting's rules (set by create_app; processes without an app read the environment).
_configured: dict[str, Rules] = {}
# Database URL -> (monotonic time loaded, rules).
_loaded: dict[str, tuple[float, Rules]] = {}


def configure(db: Database, settings: Settings) -> None:
    """Compile SGMIRROR_DELIVERY_RULES for this database (refuses an invalid document at start-up)."""
    _configured[db.url] = from_setting(settings.delivery_rules)
    _loaded.pop(db.url, None)


def from_setting(value: str | None) -> Rules:
    """The rules of the setting: inline JSON, or the path of a JSON or YAML file."""
    if value is None or not value.strip():
        return Rules(delivery_rules.default_rule_set(), "default")
    text = value.strip()
    if not text.startswith(("{", "[")):
        path = Path(text)
        try:
            text = path.read_text()
        except OSError as error:
            raise BadRequest(f"SGMIRROR_DELIVERY_RULES: cannot read {path}: {error.strerror}") from None
        if path.suffix.lower() in {".yaml", ".yml"}:
            return Rules(delivery_rules.compile_rules(yaml.safe_load(text), field_name="delivery_rules"), "setting")
    try:
        document = json.loads(text)
    except ValueError:
        message = "SGMIRROR_DELIVERY_RULES is neither JSON nor a readable file"
        raise BadRequest(message, field="delivery_rules") from None
    return Rules(delivery_rules.compile_rules(document, field_name="delivery_rules"), "setting")


def current(db: Database, *, fresh: bool = False) -> Rules:
    """The rules in force, at most a second old unless `fresh`."""
    cached = _loaded.get(db.url)
    if not fresh and cached is not None and time.monotonic() - cached[0] < _TTL_SECONDS:
        return cached[1]
    with db.reader.connect() as conn:
        document = conn.scalar(select(DeliveryRuleSet.document).where(DeliveryRuleSet.id == _ROW_ID))
    previous = cached[1] if cached is not None else None
    if document is None:
        rules = setting_rules(db)
    elif previous is not None and previous.source == "api" and previous.rule_set.document == document:
        rules = previous
    else:
        rules = Rules(delivery_rules.compile_rules(document), "api")
    _loaded[db.url] = (time.monotonic(), rules)
    return rules


def store(session: Session, document: Any, *, now: datetime, field_name: str = "rules") -> dict[str, Any]:
    """Validate and keep rules set through the API or a seed file; returns the stored document."""
    normal = delivery_rules.normalise(document, field_name=field_name)
    row = session.get(DeliveryRuleSet, _ROW_ID)
    if row is None:
        session.add(DeliveryRuleSet(id=_ROW_ID, document=normal, updated_at=now))
    else:
        row.document, row.updated_at = normal, now
    session.flush()
    return normal


def replace(session: Session, document: Any, *, now: datetime) -> Rules:
    """PUT /_mirror/delivery-rules: store the rules and return them compiled."""
    normal = store(session, document, now=now)
    return Rules(delivery_rules.compile_rules(normal), "api")


def clear(session: Session) -> None:
    """Forget the API's rules: the setting's (or the built-in ones) apply again."""
    session.execute(delete(DeliveryRuleSet))
    session.flush()


def describe(rules: Rules) -> dict[str, Any]:
    """The body of GET /_mirror/delivery-rules."""
    return {
        "source": rules.source,
        "rules": list(rules.rule_set.document["rules"]),
        "defaults": rules.rule_set.document["defaults"],
        "builtin": [dict(rule) for rule in delivery_rules.DEFAULT_RULES],
    }


def setting_rules(db: Database) -> Rules:
    """The rules of SGMIRROR_DELIVERY_RULES (or the built-in ones) for this database."""
    if db.url not in _configured:
        _configured[db.url] = from_setting(get_settings().delivery_rules)
    return _configured[db.url]


def forget() -> None:
    _loaded.clear()


local_caches.register(forget)
