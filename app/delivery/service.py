"""The delivery simulator at ingest: each recipient's fate, and the drops of suppressed recipients.

`simulate` runs on the event loop before the send is queued for the writer. Recipients no rule names keep
mail.py's rows (processed + delivered) untouched, so the common case costs a rule lookup per recipient. A
recipient with a fate gets the events due at once in message_events and the later ones in pending_events
(a scheduled send's wait there, undated, until the scheduler delivers it). The writer check it returns
runs last in the send's transaction: it drops recipients on the account's suppression lists (one query),
puts addresses whose immediate fate is a bounce, an invalid drop... on their lists, and dates the send's
unsubscribe group (`last_email_sent_at`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Table

from app.delivery import fates as delivery_fates
from app.delivery import rules_source as delivery_rules_source
from app.delivery.fates import Context, Plan, Step
from app.delivery.models import PendingEvent
from app.kernel.db.base import table_of
from app.kernel.db.session import Database
from app.mail import html as mail_html
from app.mail.message import OutboundMessage
from app.mail.models import Event, Recipient
from app.suppressions import service as suppressions

Rows = dict[Table, list[dict[str, Any]]]
Check = Callable[[Connection], Rows | None]

RECIPIENTS = table_of(Recipient)
EVENTS = table_of(Event)
PENDING = table_of(PendingEvent)
DROPPED_STATUS = "5.0.0"


@dataclass(frozen=True, slots=True)
class Effect:
    """An address to put on a suppression list when the send commits."""

    recipient_id: str
    step: Step
    email: str


@dataclass
class Simulation:
    account_id: str
    now: datetime
    group_id: int | None
    bypass: suppressions.Bypass
    tables: Rows
    effects: list[Effect] = field(default_factory=list)


def simulate(db: Database, account_id: str, message: OutboundMessage, tables: Rows, now: datetime) -> Check | None:
    """Apply the fates of the send's recipients to `tables`; return the writer check (None in sandbox mode)."""
    if message.sandbox:
        return None
    sim = Simulation(
        account_id, now, message.asm.group_id if message.asm else None, suppressions.bypass_for(message), tables
    )
    plans = _plans(db, message, tables[RECIPIENTS])
    if plans:
        _apply_plans(sim, plans)
    if sim.bypass.bypasses_everything and not sim.effects and sim.group_id is None:
        return None
    return partial(at_commit, sim)


def _plans(db: Database, message: OutboundMessage, recipients: list[dict[str, Any]]) -> dict[str, Plan]:
    rule_set = delivery_rules_source.current(db).rule_set
    context: Context | None = None
    plans: dict[str, Plan] = {}
    for recipient in recipients:
        rule = rule_set.rule_for(recipient["email"])
        if rule is None or rule.is_plain_delivery:
            continue
        context = context or context_of(message)
        plans[recipient["id"]] = rule.plan(context)
    return plans


def context_of(message: OutboundMessage) -> Context:
    """The send's unsubscribe group and first link (what clicks and group unsubscribes report)."""
    html = next((c.value for c in message.content if c.type == "text/html"), None)
    text = next((c.value for c in message.content if c.type == "text/plain"), None)
    links = mail_html.links(html, text)
    return Context(group_id=message.asm.group_id if message.asm else None, link=links[0] if links else None)


def _apply_plans(sim: Simulation, plans: dict[str, Plan]) -> None:
    tables, now = sim.tables, sim.now
    pending = tables.setdefault(PENDING, [])
    events = [e for e in tables[EVENTS] if not (e["recipient_id"] in plans and e["event"] == "delivered")]
    for recipient in tables[RECIPIENTS]:
        plan = plans.get(recipient["id"])
        if plan is None:
            continue
        scheduled = recipient["status"] == "processed"
        for one in plan:
            if scheduled or one.after > 0:
                due = None if scheduled else now + timedelta(seconds=one.after)
                pending.append(pending_row(recipient["id"], one, due))
                continue
            events.append(event_row(recipient["id"], one.event, now, one.reason, one.detail))
            _note(recipient, one)
            if one.suppress is not None:
                sim.effects.append(Effect(recipient["id"], one, recipient["email"]))
        if not scheduled and not any(s.event in delivery_fates.STATUS_AFTER for s in plan if s.after == 0):
            recipient["status"] = "processed"
    tables[EVENTS] = events
    if not pending:
        del tables[PENDING]


def _note(recipient: dict[str, Any], one: Step) -> None:
    """What an event changes on the recipient row (status, counters)."""
    status = delivery_fates.STATUS_AFTER.get(one.event)
    if status is not None:
        recipient["status"] = status
    if one.event == "open":
        recipient["opens_count"] += 1
    elif one.event == "click":
        recipient["clicks_count"] += 1


def event_row(recipient_id: str, event: str, at: datetime, reason: str | None, detail: Any) -> dict[str, Any]:
    """A message_events row, keys in mail.py's order (the writer merges rows of many sends per table)."""
    return {
        "recipient_id": recipient_id,
        "event": event,
        "occurred_at": at,
        "reason": reason,
        "detail": dict(detail) if detail else None,
    }


def pending_row(recipient_id: str, one: Step, due: datetime | None) -> dict[str, Any]:
    return {
        "recipient_id": recipient_id,
        "event": one.event,
        "delay": one.after,
        "due_at": due,
        "reason": one.reason,
        "detail": dict(one.detail) if one.detail else None,
    }


def at_commit(sim: Simulation, conn: Connection) -> Rows | None:
    """Writer check, last of the send's: drop suppressed recipients, then fill lists from immediate fates."""
    recipients = sim.tables[RECIPIENTS]
    drops: dict[str, str] = {}
    if not sim.bypass.bypasses_everything:
        emails = {r["email"] for r in recipients}
        drops = suppressions.drop_reasons(conn, sim.account_id, emails, group_id=sim.group_id, bypass=sim.bypass)
    dropped = {r["id"] for r in recipients if r["email"] in drops}
    for effect in sim.effects:
        if effect.recipient_id not in dropped:
            add_to_list(conn, sim.account_id, effect.email, effect.step, at=sim.now)
    if sim.group_id is not None and len(dropped) < len(recipients):
        suppressions.note_group_send(conn, sim.account_id, sim.group_id, sent_at=sim.now)
    return _with_drops(sim, drops, dropped) if dropped else None


def add_to_list(conn: Connection, account_id: str, email: str, one: Step, *, at: datetime) -> None:
    """Put the address on the list its event fills (a group unsubscribe needs its group)."""
    if one.suppress is None:
        return
    detail = one.detail or {}
    group_id = detail.get("asm_group_id")
    if one.suppress == "group_unsubscribe" and not isinstance(group_id, int):
        return
    suppressions.add(
        conn,
        account_id,
        one.suppress,
        email,
        reason=one.reason,
        status=detail.get("status"),
        group_id=group_id if one.suppress == "group_unsubscribe" else None,
        created=at,
        classification=detail.get("bounce_classification"),
    )


def _with_drops(sim: Simulation, drops: dict[str, str], dropped: set[str]) -> Rows:
    """The send's rows with suppressed recipients dropped: processed, then dropped with SendGrid's reason."""
    rows = dict(sim.tables)
    rows[RECIPIENTS] = [{**r, "status": "not_delivered"} if r["id"] in dropped else r for r in sim.tables[RECIPIENTS]]
    kept = [e for e in sim.tables[EVENTS] if e["recipient_id"] not in dropped or e["event"] == "processed"]
    rows[EVENTS] = kept + [
        event_row(r["id"], "dropped", sim.now, drops[r["email"]], {"status": DROPPED_STATUS})
        for r in sim.tables[RECIPIENTS]
        if r["id"] in dropped
    ]
    if PENDING in rows:
        rows[PENDING] = [p for p in rows[PENDING] if p["recipient_id"] not in dropped]
    return rows


def then(first: Callable[[Connection], None] | None, last: Check | None) -> Check | None:
    """One writer check: `first` (the send's own checks), then the simulator's, whose rows count."""
    if first is None or last is None:
        return last or first

    def both(conn: Connection) -> Rows | None:
        first(conn)
        return last(conn)

    return both
