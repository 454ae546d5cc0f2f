"""What happens to a recipient after `processed`: the fates of the delivery simulator, as SendGrid reports them.

A fate turns the send's context (its unsubscribe group, its first link) into a plan: Steps in time order, each
an event some seconds after the send with SendGrid's reason and extra event fields (`detail`). Pure.
Event names, fields and reasons follow the Event Webhook reference; the timings are the mirror's choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

MINUTE: Final = 60
HOUR: Final = 60 * MINUTE
# SendGrid retries a deferred message for up to 72 hours, then gives up ("Bounced - Expired").
RETRY_LIMIT: Final = 72 * HOUR
# Waits between delivery attempts, doubling like an MTA's backoff; ten attempts at most (the activity
# feed numbers deferrals 1 to 10).
RETRY_INTERVALS: Final = tuple(5 * MINUTE * 2**n for n in range(9))
OPENED_AFTER: Final = 10
CLICKED_AFTER: Final = 20
REPORTED_AFTER: Final = 30

# Where a simulated recipient opens and clicks from (documentation addresses, RFC 5737).
READER_IP: Final = "203.0.113.24"
READER_AGENT: Final = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
FALLBACK_URL: Final = "https://example.com/"

EVENTS: Final = (
    "delivered",
    "deferred",
    "bounce",
    "dropped",
    "open",
    "click",
    "spamreport",
    "unsubscribe",
    "group_unsubscribe",
)
# Extra fields of SendGrid's event JSON kept in message_events.detail.
DETAIL_KEYS: Final = frozenset(
    {
        "type",
        "status",
        "attempt",
        "response",
        "url",
        "url_offset",
        "useragent",
        "ip",
        "asm_group_id",
        "bounce_classification",
        "sg_machine_open",
    }
)
# The activity status an event leaves the recipient in (others leave it as it was).
STATUS_AFTER: Final[Mapping[str, str]] = {
    "delivered": "delivered",
    "bounce": "not_delivered",
    "dropped": "not_delivered",
}
_LISTS: Final[Mapping[str, str]] = {
    "spamreport": "spam_report",
    "unsubscribe": "global_unsubscribe",
    "group_unsubscribe": "group_unsubscribe",
}

DEFERRAL_RESPONSE: Final = "451 4.7.1 Temporarily deferred by the recipient server, please try again later"
BOUNCE_REASON: Final = "550 5.1.1 The email account that you tried to reach does not exist"
BLOCK_REASON: Final = "554 5.7.1 Service unavailable; sending host blocked by the recipient server's policy"
EXPIRY_REASON: Final = "421 4.4.7 Message expired: not delivered after 72 hours of retries"


@dataclass(frozen=True, slots=True)
class Context:
    """What a plan may depend on besides the address."""

    group_id: int | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One simulated event `after` seconds after the send; `suppress` names the list it puts the address on."""

    event: str
    after: int
    reason: str | None = None
    detail: Mapping[str, Any] | None = None
    suppress: str | None = field(default=None, compare=False)


Plan = tuple[Step, ...]
Fate = Callable[[Context], Plan]


def step(event: str, after: int, reason: str | None = None, detail: Mapping[str, Any] | None = None) -> Step:
    """A Step with the suppression list its event fills, as SendGrid fills them."""
    return Step(event, after, reason, detail or None, suppression_list(event, reason, detail or {}))


def suppression_list(event: str, reason: str | None, detail: Mapping[str, Any]) -> str | None:
    """The suppression list an event adds its address to (blocks and expiries go to blocks, not bounces)."""
    if event == "bounce":
        return "bounce" if detail.get("type", "bounce") == "bounce" else "block"
    if event == "dropped":
        return "invalid_email" if reason == "Invalid" else None
    return _LISTS.get(event)


def deferrals(count: int) -> tuple[list[Step], int]:
    """`count` deferred attempts at increasing intervals; returns them and when the next attempt is due."""
    steps, at = [], 0
    for attempt in range(1, count + 1):
        steps.append(step("deferred", at, DEFERRAL_RESPONSE, {"attempt": attempt, "response": DEFERRAL_RESPONSE}))
        at += RETRY_INTERVALS[min(attempt - 1, len(RETRY_INTERVALS) - 1)]
    return steps, at


def delivered(context: Context) -> Plan:
    return (step("delivered", 0),)


def bounce(context: Context) -> Plan:
    detail = {"type": "bounce", "status": "5.1.1", "bounce_classification": "Invalid Address"}
    return (step("bounce", 0, BOUNCE_REASON, detail),)


def blocked(context: Context) -> Plan:
    detail = {"type": "blocked", "status": "5.7.1", "bounce_classification": "Reputation"}
    return (step("bounce", 0, BLOCK_REASON, detail),)


def deferred(context: Context) -> Plan:
    steps, at = deferrals(3)
    return (*steps, step("delivered", at))


def expire(context: Context) -> Plan:
    steps, _ = deferrals(len(RETRY_INTERVALS) + 1)
    detail = {"type": "expired", "status": "4.4.7", "bounce_classification": "Technical Failure"}
    return (*steps, step("bounce", RETRY_LIMIT, EXPIRY_REASON, detail))


def dropped(context: Context) -> Plan:
    return (step("dropped", 0, "Spam Content", {"status": "5.0.0"}),)


def invalid(context: Context) -> Plan:
    return (step("dropped", 0, "Invalid", {"status": "5.0.0"}),)


def _reader(**extra: Any) -> dict[str, Any]:
    return {**extra, "useragent": READER_AGENT, "ip": READER_IP}


def opened(context: Context) -> Plan:
    return (step("delivered", 0), step("open", OPENED_AFTER, None, _reader(sg_machine_open=False)))


def clicked(context: Context) -> Plan:
    click = _reader(url=context.link or FALLBACK_URL, url_offset={"index": 0, "type": "html"})
    return (*opened(context), step("click", CLICKED_AFTER, None, click))


def spamreport(context: Context) -> Plan:
    return (step("delivered", 0), step("spamreport", REPORTED_AFTER))


def unsubscribe(context: Context) -> Plan:
    """A global unsubscribe, or a group unsubscribe when the send names an unsubscribe group."""
    if context.group_id is None:
        return (step("delivered", 0), step("unsubscribe", REPORTED_AFTER))
    group = _reader(asm_group_id=context.group_id)
    return (step("delivered", 0), step("group_unsubscribe", REPORTED_AFTER, None, group))


FATES: Final[Mapping[str, Fate]] = {
    "delivered": delivered,
    "bounce": bounce,
    "blocked": blocked,
    "deferred": deferred,
    "expire": expire,
    "dropped": dropped,
    "invalid": invalid,
    "open": opened,
    "click": clicked,
    "spamreport": spamreport,
    "unsubscribe": unsubscribe,
}


def fill(plan: Plan, context: Context) -> Plan:
    """Custom steps get the send's link on clicks and its group on group unsubscribes when they name none."""
    return tuple(_filled(s, context) for s in plan)


def _filled(one: Step, context: Context) -> Step:
    detail = dict(one.detail or {})
    if one.event == "click" and "url" not in detail:
        detail["url"] = context.link or FALLBACK_URL
    elif one.event == "group_unsubscribe" and "asm_group_id" not in detail and context.group_id is not None:
        detail["asm_group_id"] = context.group_id
    else:
        return one
    return Step(one.event, one.after, one.reason, detail, one.suppress)
