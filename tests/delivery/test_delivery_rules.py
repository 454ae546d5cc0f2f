"""The delivery simulator's rules as a pure function: address → plan."""

from __future__ import annotations

import pytest

from app.delivery import fates as delivery_fates
from app.delivery import rules as delivery_rules
from app.delivery.fates import Context
from app.kernel.errors import BadRequest

DEFAULTS = delivery_rules.default_rule_set()


def _events(email: str, rules: delivery_rules.RuleSet = DEFAULTS, context: Context = Context()) -> list[str] | None:
    plan = rules.plan_for(email, context)
    return None if plan is None else [s.event for s in plan]


def test_plain_addresses_meet_no_rule() -> None:
    assert _events("alice@example.com") is None
    assert _events("alice+news@example.com") is None
    assert _events("bounce@example.com") == ["bounce"]
    assert _events("bounce+x@example.com") == ["bounce"]
    assert _events("x+bounce@example.com") == ["bounce"]


def test_the_always_deferring_domain_expires_at_the_retry_limit() -> None:
    plan = DEFAULTS.plan_for("a@defer.example.com", Context())
    assert plan is not None
    assert [s.after for s in plan[:4]] == [0, 300, 900, 2100]
    assert plan[-1].after == delivery_fates.RETRY_LIMIT
    assert (plan[-1].event, plan[-1].suppress, plan[-1].detail) == (
        "bounce",
        "block",
        {"type": "expired", "status": "4.4.7", "bounce_classification": "Technical Failure"},
    )
    assert [s.detail["attempt"] for s in plan[:-1] if s.detail] == list(range(1, 11))


def test_unsubscribe_names_the_group_when_the_send_has_one() -> None:
    assert _events("a+unsubscribe@example.com") == ["delivered", "unsubscribe"]
    plan = DEFAULTS.plan_for("a+unsubscribe@example.com", Context(group_id=7))
    assert plan is not None
    assert (plan[-1].event, plan[-1].suppress, plan[-1].detail["asm_group_id"] if plan[-1].detail else None) == (
        "group_unsubscribe",
        "group_unsubscribe",
        7,
    )


def test_the_first_matching_rule_wins_and_custom_rules_come_first() -> None:
    rules = delivery_rules.compile_rules(
        [
            {"match": {"email": "vip+bounce@example.com"}, "fate": "delivered"},
            {"match": {"tag": "bounce", "domain": "example.net"}, "fate": "blocked"},
            {"match": {}, "fate": "open"},
        ]
    )
    assert _events("vip+bounce@example.com", rules) is None
    assert _events("x+bounce@example.net", rules) == ["bounce"]
    plan = rules.plan_for("x+bounce@example.net", Context())
    assert plan is not None
    assert plan[0].suppress == "block"
    assert _events("anyone@example.org", rules) == ["delivered", "open"]
    assert _events("bounce@example.org", rules) == ["delivered", "open"]


def test_defaults_can_be_turned_off() -> None:
    rules = delivery_rules.compile_rules({"rules": [], "defaults": False})
    assert _events("bounce@example.com", rules) is None


def test_custom_clicks_get_the_link_and_events_sort_by_time() -> None:
    rules = delivery_rules.compile_rules(
        [{"match": {"local": "reader"}, "events": [{"event": "click", "after": 9}, {"event": "delivered"}]}]
    )
    plan = rules.plan_for("reader@example.com", Context(link="https://example.com/a"))
    assert plan is not None
    assert [(s.event, s.after) for s in plan] == [("delivered", 0), ("click", 9)]
    assert plan[1].detail == {"url": "https://example.com/a"}


def test_suppression_lists_follow_sendgrid() -> None:
    assert delivery_fates.suppression_list("bounce", None, {}) == "bounce"
    assert delivery_fates.suppression_list("bounce", None, {"type": "blocked"}) == "block"
    assert delivery_fates.suppression_list("dropped", "Invalid", {}) == "invalid_email"
    assert delivery_fates.suppression_list("dropped", "Spam Content", {}) is None
    assert delivery_fates.suppression_list("open", None, {}) is None


@pytest.mark.parametrize(
    "document",
    [
        {"rules": [{"match": {"tag": "a@b"}, "fate": "bounce"}]},
        {"rules": [{"match": {"tag": "x"}, "fate": "bounce", "events": []}]},
        {"rules": [{"events": [{"event": "open", "color": "red"}]}]},
        {"rules": [{"events": [{"event": "open", "reason": 5}]}]},
        {"rules": [{"events": [{"event": "teleport"}]}]},
        {"rules": "all"},
        {"rules": [], "extra": True},
    ],
)
def test_malformed_documents_are_refused(document: object) -> None:
    with pytest.raises(BadRequest):
        delivery_rules.compile_rules(document)
