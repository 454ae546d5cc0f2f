"""A fault-injection rule from its JSON form (`/_mirror/faults`, seed files), with every problem reported."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from app.faults.rules import (
    ACTION_KEYS,
    API_PREFIX,
    MAIL_SEND_PATH,
    MATCH_KEYS,
    MAX_LATENCY_MS,
    SMTP_STAGES,
    TRANSPORTS,
    TRIGGER_KEYS,
    Action,
    Rule,
    matches_path,
)
from app.kernel.errors import (
    BadRequest,
    ErrorDetail,
)

_ID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_RULE_KEYS: Final = frozenset(("id", "transport", "action", "seed", *MATCH_KEYS, *TRIGGER_KEYS))


class _Problems:
    """Collects every problem of a rule, so one answer names them all."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.details: list[ErrorDetail] = []

    def add(self, field: str, message: str) -> None:
        self.details.append(ErrorDetail(message, f"{self.where}{field}"))


def _int(body: Mapping[str, Any], key: str, problems: _Problems, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(key, f"{key} must be an integer from {low} to {high}")
        return None
    return value


def _text(body: Mapping[str, Any], key: str, problems: _Problems, *, limit: int = 500) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\r" in value or "\n" in value:
        problems.add(key, f"{key} must be a non-empty single-line string of at most {limit} characters")
        return None
    return value.strip()


def parse_rule(data: Any, *, default_id: str, where: str = "") -> Rule:
    """A rule from its JSON form; 400 naming every problem (field paths start with `where`)."""
    problems = _Problems(where)
    if not isinstance(data, dict):
        raise BadRequest("a fault rule must be a JSON object", field=where.rstrip(".") or None)
    for key in sorted(set(data) - _RULE_KEYS):
        problems.add(key, f"unknown field {key!r}")
    rule_id = data.get("id", default_id)
    if not isinstance(rule_id, str) or not _ID.fullmatch(rule_id):
        problems.add("id", "id must be 1 to 64 letters, digits or . _ : -")
    transport = data.get("transport", "http")
    if transport not in TRANSPORTS:
        problems.add("transport", "transport must be http or smtp")
    rule = Rule(
        id=str(rule_id),
        transport=str(transport),
        action=_parse_action(data.get("action"), transport, problems),
        method=_method(data, problems),
        path=_path(data, "path", problems),
        path_prefix=_path(data, "path_prefix", problems),
        stage=_text(data, "stage", problems, limit=16),
        header=_header(data.get("header"), problems),
        recipient=_recipient(data.get("recipient"), problems),
        nth=_int(data, "nth", problems, 1, 1_000_000_000),
        every=_int(data, "every", problems, 1, 1_000_000_000),
        times=_int(data, "times", problems, 1, 1_000_000_000),
        probability=_probability(data.get("probability"), problems),
        seed=_int(data, "seed", problems, 0, 2**63 - 1),
    )
    rule = _with_default_stage(rule)
    _check_combination(rule, data, problems)
    if problems.details:
        raise BadRequest(details=problems.details)
    return rule


def _method(data: Mapping[str, Any], problems: _Problems) -> str | None:
    method = _text(data, "method", problems, limit=16)
    if method is not None and not _TOKEN.fullmatch(method):
        problems.add("method", "method must be an HTTP method such as POST")
    return method.upper() if method else None


def _path(data: Mapping[str, Any], key: str, problems: _Problems) -> str | None:
    path = _text(data, key, problems, limit=2000)
    if path is None:
        return None
    # Only SendGrid's API fails on purpose: /_mirror and the console stay usable to inspect and undo.
    within_api = path.startswith(API_PREFIX) or (key == "path_prefix" and API_PREFIX.startswith(path))
    if not within_api:
        problems.add(key, f"{key} must lie under {API_PREFIX} (only SendGrid's API paths fail on purpose)")
    return path


def _header(value: Any, problems: _Problems) -> tuple[tuple[str, str | None], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        problems.add("header", "header must be an object of header names to a value (or null: present)")
        return ()
    pairs: list[tuple[str, str | None]] = []
    for name, expected in value.items():
        if not _TOKEN.fullmatch(name) or not (expected is None or isinstance(expected, str)):
            problems.add(f"header.{name}", "header names must be tokens and values strings or null")
            continue
        pairs.append((name.lower(), None if expected is None else expected.strip()))
    return tuple(pairs)


def _recipient(value: Any, problems: _Problems) -> str | None:
    if value is None:
        return None
    pattern = value.strip().lower() if isinstance(value, str) else ""
    local, at, domain = pattern.rpartition("@")
    if not at or not (local or domain) or " " in pattern or len(pattern) > 320:
        problems.add("recipient", "recipient must look like local@, +tag@, @domain or local@domain")
        return None
    return pattern


def _probability(value: Any, problems: _Problems) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        problems.add("probability", "probability must be a number above 0 and at most 1")
        return None
    return float(value)


def _parse_action(value: Any, transport: Any, problems: _Problems) -> Action:
    if not isinstance(value, dict):
        problems.add("action", "action must be an object (status or code, latency_ms, drop)")
        return Action()
    for key in sorted(set(value) - ACTION_KEYS):
        problems.add(f"action.{key}", f"unknown field {key!r}")
    sub = _Problems(f"{problems.where}action.")
    drop = value.get("drop", False)
    if not isinstance(drop, bool):
        sub.add("drop", "drop must be true or false")
    action = Action(
        status=_int(value, "status", sub, 400, 599),
        message=_text(value, "message", sub),
        code=_int(value, "code", sub, 400, 599),
        text=_text(value, "text", sub),
        latency_ms=_int(value, "latency_ms", sub, 0, MAX_LATENCY_MS) or 0,
        drop=drop is True,
    )
    if not sub.details:
        _check_action(action, transport, sub)
    problems.details.extend(sub.details)
    return action


def _check_action(action: Action, transport: Any, problems: _Problems) -> None:
    if transport == "http" and (action.code is not None or action.text is not None):
        problems.add("code", "code and text are SMTP replies; an http rule answers with status")
    if transport == "smtp" and (action.status is not None or action.message is not None):
        problems.add("status", "status and message are HTTP answers; an smtp rule replies with code")
    if action.message is not None and action.status is None:
        problems.add("message", "message needs status")
    if action.text is not None and action.code is None:
        problems.add("text", "text needs code")
    if action.drop and (action.status is not None or action.code is not None):
        problems.add("drop", "a dropped connection sends no status or code")
    if not action.terminal and not action.latency_ms:
        problems.add("latency_ms", "an action needs status (http), code (smtp), drop or latency_ms")


def _with_default_stage(rule: Rule) -> Rule:
    if rule.transport != "smtp" or rule.stage is not None:
        return rule
    return replace(rule, stage="rcpt" if rule.recipient else "data")


def _check_combination(rule: Rule, data: Mapping[str, Any], problems: _Problems) -> None:
    triggers = [key for key in TRIGGER_KEYS if data.get(key) is not None]
    if len(triggers) > 1:
        problems.add(triggers[1], f"use one of nth, every, times and probability (given: {', '.join(triggers)})")
    if rule.seed is not None and "probability" not in triggers:
        problems.add("seed", "seed goes with probability")
    if rule.path and rule.path_prefix:
        problems.add("path_prefix", "use path (exact) or path_prefix, not both")
    if rule.transport == "http":
        _check_http(rule, problems)
    elif rule.transport == "smtp":
        _check_smtp(rule, problems)


def _check_http(rule: Rule, problems: _Problems) -> None:
    if rule.stage is not None:
        problems.add("stage", "stage is for smtp rules")
    if rule.recipient is None:
        return
    # Recipients are known only once mail send has parsed its body.
    if rule.method not in (None, "POST") or not matches_path(rule, MAIL_SEND_PATH):
        problems.add("recipient", f"an http recipient rule applies to POST {MAIL_SEND_PATH} only")


def _check_smtp(rule: Rule, problems: _Problems) -> None:
    for key in ("method", "path", "path_prefix"):
        if getattr(rule, key) is not None:
            problems.add(key, f"{key} is for http rules; smtp rules name a stage")
    if rule.stage not in SMTP_STAGES:
        problems.add("stage", f"stage must be one of {', '.join(SMTP_STAGES)}")
    elif rule.recipient and rule.stage not in ("rcpt", "data"):
        problems.add("stage", "a recipient rule applies at the rcpt or data stage")
    elif rule.header and rule.stage != "data":
        problems.add("stage", "a header rule reads the message headers: stage data")
