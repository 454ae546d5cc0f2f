"""The delivery simulator's rules: which recipient address meets which fate.

A rules document (setting, seed file or `/_mirror/delivery-rules`) is
`{"rules": [{"match": {...}, "fate": name} | {"match": {...}, "events": [...]}, ...], "defaults": true}`.
`match` may name `email` (the whole address), `local` (the local part without its +tag), `tag` (what follows
the first `+`) and `domain`; every key given must match, none matches every address. The first matching rule
wins; the built-in rules below come after the document's unless `defaults` is false. Compiled once into dict
lookups, so checking a recipient costs a few string operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from app.delivery import fates as delivery_fates
from app.delivery.fates import Context, Plan, step
from app.kernel.errors import BadRequest
from app.suppressions.rules import CLASSIFICATIONS

MATCH_KEYS: Final = ("email", "local", "tag", "domain")
MAX_RULES: Final = 1000
MAX_STEPS: Final = 50
MAX_AFTER: Final = 30 * 86_400

# Event fields other than strings, and how they are checked (status and classification have their own rules).
_DETAIL_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    "attempt": (int, str),
    "asm_group_id": int,
    "sg_machine_open": bool,
    "url_offset": dict,
}
_TYPE_NAMES: Final[dict[type | tuple[type, ...], str]] = {
    str: "a string",
    (int, str): "a number or a string",
    int: "a whole number",
    bool: "true or false",
    dict: "an object",
}
# An enhanced status code (RFC 3463), as suppression lists keep it.
_STATUS: Final = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")

# The built-in rules (README "Delivery simulator").
DEFAULT_RULES: Final[tuple[dict[str, Any], ...]] = (
    {"match": {"local": "bounce"}, "fate": "bounce"},
    {"match": {"tag": "bounce"}, "fate": "bounce"},
    {"match": {"tag": "block"}, "fate": "blocked"},
    {"match": {"tag": "blocked"}, "fate": "blocked"},
    {"match": {"tag": "deferred"}, "fate": "deferred"},
    {"match": {"tag": "dropped"}, "fate": "dropped"},
    {"match": {"tag": "invalid"}, "fate": "invalid"},
    {"match": {"tag": "spamreport"}, "fate": "spamreport"},
    {"match": {"tag": "open"}, "fate": "open"},
    {"match": {"tag": "click"}, "fate": "click"},
    {"match": {"tag": "unsubscribe"}, "fate": "unsubscribe"},
    {"match": {"tag": "group_unsubscribe"}, "fate": "unsubscribe"},
    {"match": {"domain": "defer.example.com"}, "fate": "expire"},
)


@dataclass(frozen=True, slots=True)
class Rule:
    order: int
    match: Mapping[str, str]
    fate: str | None = None
    steps: Plan = ()

    def matches(self, email: str, local: str, tag: str | None, domain: str) -> bool:
        parts = {"email": email, "local": local, "tag": tag, "domain": domain}
        return all(parts[key] == value for key, value in self.match.items())

    def plan(self, context: Context) -> Plan:
        if self.fate is not None:
            return delivery_fates.FATES[self.fate](context)
        return delivery_fates.fill(self.steps, context)

    @property
    def is_plain_delivery(self) -> bool:
        return self.fate == "delivered"


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules: each indexed under its most selective key."""

    document: Mapping[str, Any]
    rules: tuple[Rule, ...]
    _index: dict[str, dict[str, list[Rule]]] = field(default_factory=dict, repr=False)
    _everyone: list[Rule] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for rule in self.rules:
            key = next((k for k in MATCH_KEYS if k in rule.match), None)
            if key is None:
                self._everyone.append(rule)
            else:
                self._index.setdefault(key, {}).setdefault(rule.match[key], []).append(rule)

    def rule_for(self, email: str) -> Rule | None:
        """The first rule matching a lower-cased address, or None."""
        local, _, domain = email.rpartition("@")
        base, plus, tag = local.partition("+")
        found: Rule | None = None
        for candidate in self._candidates(email, base, tag if plus else None, domain):
            if (found is None or candidate.order < found.order) and candidate.matches(
                email, base, tag if plus else None, domain
            ):
                found = candidate
        return found

    def plan_for(self, email: str, context: Context) -> Plan | None:
        """The events after `processed` for this address; None for plain delivery (the common case)."""
        rule = self.rule_for(email)
        if rule is None or rule.is_plain_delivery:
            return None
        return rule.plan(context)

    def _candidates(self, email: str, local: str, tag: str | None, domain: str) -> Iterable[Rule]:
        index = self._index
        for key, value in (("email", email), ("tag", tag), ("local", local), ("domain", domain)):
            if value is not None and key in index:
                yield from index[key].get(value, ())
        yield from self._everyone


def compile_rules(document: Any, *, field_name: str = "rules") -> RuleSet:
    """Validate a rules document (or a bare list of rules) and compile it with the built-in rules."""
    normal = normalise(document, field_name=field_name)
    listed = list(normal["rules"]) + (list(DEFAULT_RULES) if normal["defaults"] else [])
    rules = tuple(_rule(order, entry, f"{field_name}.{order}") for order, entry in enumerate(listed))
    return RuleSet(document=normal, rules=rules)


def normalise(document: Any, *, field_name: str = "rules") -> dict[str, Any]:
    """The document as stored and shown: {"rules": [...], "defaults": bool}; refuses anything else."""
    if isinstance(document, list):
        document = {"rules": document}
    if not isinstance(document, dict) or set(document) - {"rules", "defaults"}:
        message = "delivery rules are an object with a 'rules' list and an optional 'defaults' flag"
        raise BadRequest(message, field=field_name)
    rules, defaults = document.get("rules", []), document.get("defaults", True)
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise BadRequest(f"rules must be a list of at most {MAX_RULES} rules", field=field_name)
    if not isinstance(defaults, bool):
        raise BadRequest("defaults must be true or false", field="defaults")
    for order, entry in enumerate(rules):
        _rule(order, entry, f"{field_name}.{order}")
    return {"rules": rules, "defaults": defaults}


def _rule(order: int, entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict) or set(entry) - {"match", "fate", "events", "description"}:
        raise BadRequest("a rule is an object with 'match' and either 'fate' or 'events'", field=where)
    match = _match(entry.get("match", {}), f"{where}.match")
    fate, events = entry.get("fate"), entry.get("events")
    if (fate is None) == (events is None):
        raise BadRequest("a rule names either a 'fate' or its 'events', not both", field=where)
    if fate is not None:
        if fate not in delivery_fates.FATES:
            names = ", ".join(delivery_fates.FATES)
            raise BadRequest(f"unknown fate {fate!r}; fates are {names}", field=f"{where}.fate")
        return Rule(order, match, fate=fate)
    return Rule(order, match, steps=_steps(events, f"{where}.events"))


def _match(match: Any, where: str) -> dict[str, str]:
    if not isinstance(match, dict) or set(match) - set(MATCH_KEYS):
        raise BadRequest(f"match is an object with any of {', '.join(MATCH_KEYS)}", field=where)
    for key, value in match.items():
        if not isinstance(value, str) or not value or (key != "email" and "@" in value):
            raise BadRequest(f"match.{key} must be a non-empty string", field=f"{where}.{key}")
    return {key: value.strip().lower() for key, value in match.items()}


def _steps(events: Any, where: str) -> Plan:
    if not isinstance(events, list) or not 0 < len(events) <= MAX_STEPS:
        raise BadRequest(f"events must be a list of 1 to {MAX_STEPS} events", field=where)
    steps = [_step(entry, f"{where}.{n}") for n, entry in enumerate(events)]
    return tuple(sorted(steps, key=lambda s: s.after))


def _step(entry: Any, where: str) -> delivery_fates.Step:
    allowed = {"event", "after", "reason"} | delivery_fates.DETAIL_KEYS
    if not isinstance(entry, dict) or set(entry) - allowed:
        raise BadRequest("an event has 'event', 'after', 'reason' and SendGrid's event fields only", field=where)
    event, after, reason = entry.get("event"), entry.get("after", 0), entry.get("reason")
    if event not in delivery_fates.EVENTS:
        raise BadRequest(f"event must be one of {', '.join(delivery_fates.EVENTS)}", field=f"{where}.event")
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_AFTER:
        raise BadRequest(f"after is a whole number of seconds from 0 to {MAX_AFTER}", field=f"{where}.after")
    if reason is not None and not isinstance(reason, str):
        raise BadRequest("reason must be a string", field=f"{where}.reason")
    detail = {key: value for key, value in entry.items() if key in delivery_fates.DETAIL_KEYS}
    for key, value in detail.items():
        problem = _detail_problem(key, value)
        if problem is not None:
            raise BadRequest(f"{key} {problem}", field=f"{where}.{key}")
    return step(event, after, reason, detail)


def _detail_problem(key: str, value: Any) -> str | None:
    """What is wrong with an event field (the value lands in a suppression list or SendGrid's event JSON)."""
    if key == "status":
        return None if isinstance(value, str) and _STATUS.fullmatch(value) else "must be a status such as 5.1.1"
    if key == "bounce_classification":
        return None if value in CLASSIFICATIONS else f"must be one of {', '.join(CLASSIFICATIONS)}"
    expected = _DETAIL_TYPES.get(key, str)
    if isinstance(value, bool) and expected is not bool:
        return f"must be {_TYPE_NAMES[expected]}"
    return None if isinstance(value, expected) else f"must be {_TYPE_NAMES[expected]}"


def default_rule_set() -> RuleSet:
    return compile_rules({"rules": [], "defaults": True})
