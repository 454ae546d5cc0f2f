"""Fault-injection rules: what a rule matches, when it fires and what it does (pure: no I/O, no clock).

A rule is a match (transport; HTTP method and path, or the SMTP stage; optionally a request header and a
recipient pattern), an optional trigger on the count of matching requests (`nth`, `every`, `times`) or a
probability (`probability`, `seed`), and an action (an HTTP status or SMTP reply, latency, or a drop).
`parsing` reads a rule from its JSON form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from app.kernel.errors import (
    BadRequest,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    SendGridError,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)

TRANSPORTS: Final = ("http", "smtp")
SMTP_STAGES: Final = ("connect", "mail", "rcpt", "data")
MAIL_SEND_PATH: Final = "/v3/mail/send"
API_PREFIX: Final = "/v3/"
MAX_LATENCY_MS: Final = 120_000
MATCH_KEYS: Final = ("method", "path", "path_prefix", "stage", "header", "recipient")
TRIGGER_KEYS: Final = ("nth", "every", "times", "probability")
ACTION_KEYS: Final = frozenset(("status", "message", "code", "text", "latency_ms", "drop"))


# Bodies as SendGrid words these statuses (CONTRACT §1.4); others take the HTTP reason phrase.
_HTTP_ERRORS: Final[dict[int, type[SendGridError]]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: TooManyRequests,
    500: InternalError,
}


# Other statuses answer with their reason phrase; one HTTP names none for (420, 599...) says "error".
_PHRASES: Final = {status.value: status.phrase.lower() for status in HTTPStatus}


# Enhanced status codes (RFC 3463) and wording for the replies a client most often has to handle.
SMTP_TEXTS: Final[dict[int, str]] = {
    421: "4.7.0 Try again later, closing connection",
    450: "4.2.1 Mailbox temporarily unavailable, try again later",
    451: "4.3.0 Local error in processing, try again later",
    452: "4.3.1 Insufficient system storage, try again later",
    550: "5.1.1 Mailbox unavailable",
    552: "5.3.4 Message size exceeds fixed maximum message size",
    554: "5.7.1 Transaction failed",
}


@dataclass(frozen=True, slots=True)
class Action:
    """What a firing rule does: an error (HTTP `status` or SMTP `code`), latency first, or a dropped connection."""

    status: int | None = None
    message: str | None = None
    code: int | None = None
    text: str | None = None
    latency_ms: int = 0
    drop: bool = False

    @property
    def terminal(self) -> bool:
        """Whether the request ends here (otherwise the rule only adds latency)."""
        return self.drop or self.status is not None or self.code is not None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    transport: str
    action: Action
    method: str | None = None
    path: str | None = None
    path_prefix: str | None = None
    stage: str | None = None
    header: tuple[tuple[str, str | None], ...] = ()
    recipient: str | None = None
    nth: int | None = None
    every: int | None = None
    times: int | None = None
    probability: float | None = None
    seed: int | None = None

    def spec(self) -> dict[str, Any]:
        """The rule as JSON, without the fields it leaves unset."""
        body: dict[str, Any] = {"id": self.id, "transport": self.transport}
        for key in (*MATCH_KEYS, *TRIGGER_KEYS, "seed"):
            value = getattr(self, key)
            if key == "header" and value:
                body[key] = dict(value)
            elif key != "header" and value is not None:
                body[key] = value
        action = {k: getattr(self.action, k) for k in sorted(ACTION_KEYS)}
        body["action"] = {k: v for k, v in action.items() if v not in (None, 0, False)}
        return body


def matches_path(rule: Rule, path: str) -> bool:
    if rule.path is not None:
        return path == rule.path
    return rule.path_prefix is None or path.startswith(rule.path_prefix)


def matches_request(rule: Rule, method: str, path: str, headers: Mapping[str, str]) -> bool:
    """An HTTP request against the rule's method, path and header (recipients are checked apart)."""
    if rule.method is not None and method != rule.method:
        return False
    return matches_path(rule, path) and matches_headers(rule, headers)


def matches_headers(rule: Rule, headers: Mapping[str, str]) -> bool:
    """`headers` has lower-case names; a null expected value asks only that the header is present."""
    for name, expected in rule.header:
        value = headers.get(name)
        if value is None or (expected is not None and value.strip() != expected):
            return False
    return True


def recipient_matches(pattern: str, address: str) -> bool:
    """`local@`, `+tag@`, `@domain`, `local+tag@domain`...: every part the pattern names must be equal."""
    want_local, _, want_domain = pattern.rpartition("@")
    want_base, plus, want_tag = want_local.partition("+")
    local, _, domain = address.strip().lower().rpartition("@")
    base, _, tag = local.partition("+")
    if want_domain and domain != want_domain:
        return False
    if want_base and base != want_base:
        return False
    return not plus or tag == want_tag


def any_recipient_matches(rule: Rule, addresses: tuple[str, ...] | list[str]) -> bool:
    pattern = rule.recipient
    return pattern is None or any(recipient_matches(pattern, address) for address in addresses)


def fires(rule: Rule, count: int, draw: float) -> bool:
    """Whether the `count`-th matching request (1-based) triggers the rule; `draw` is uniform in [0, 1)."""
    if rule.nth is not None:
        return count == rule.nth
    if rule.every is not None:
        return count % rule.every == 0
    if rule.times is not None:
        return count <= rule.times
    if rule.probability is not None:
        return draw < rule.probability
    return True


def http_error(action: Action) -> SendGridError:
    """The error a status action answers with, worded as SendGrid words that status."""
    status = action.status or 500
    error_class = _HTTP_ERRORS.get(status)
    if error_class is not None:
        return error_class(action.message) if action.message else error_class()
    error = InternalError(action.message or _PHRASES.get(status, "error"))
    error.status = status
    return error


def smtp_reply(action: Action) -> str:
    """The reply line of a code action (`421 4.7.0 Try again later...`)."""
    code = action.code or 451
    default = SMTP_TEXTS.get(code, "4.0.0 Temporary failure" if code < 500 else "5.0.0 Permanent failure")
    return f"{code} {action.text or default}"


def describe(rule: Rule) -> str:
    """One line for logs and the console banner."""
    where = rule.transport
    if rule.transport == "http":
        where += f" {rule.method or '*'} {rule.path or (rule.path_prefix or '') + '*'}"
    else:
        where += f" {rule.stage}"
    when = [f"{k}={getattr(rule, k)}" for k in (*TRIGGER_KEYS, "recipient") if getattr(rule, k) is not None]
    when += [f"header {name}" for name, _ in rule.header]
    action = rule.action
    does = "drop" if action.drop else str(action.status or action.code or "")
    if action.latency_ms:
        does = f"+{action.latency_ms}ms {does}".strip()
    return f"{rule.id}: {where}{' ' + ' '.join(when) if when else ''} -> {does}"
