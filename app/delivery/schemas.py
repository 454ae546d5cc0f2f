"""Bodies of /_mirror/delivery-rules: the delivery simulator's rules (README "Delivery simulator")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Fate = Literal[
    "delivered", "bounce", "blocked", "deferred", "expire", "dropped", "invalid", "open", "click", "spamreport",
    "unsubscribe",
]  # fmt: skip
EventName = Literal[
    "delivered", "deferred", "bounce", "dropped", "open", "click", "spamreport", "unsubscribe", "group_unsubscribe"
]


class RuleMatch(BaseModel):
    """Every key given must match; an empty match matches every address."""

    email: str | None = Field(None, description="The whole address")
    local: str | None = Field(None, description="The local part without its +tag")
    tag: str | None = Field(None, description="What follows the first '+' of the local part")
    domain: str | None = Field(None, description="The domain")


class RuleEvent(BaseModel):
    """One event `after` seconds after the send, with SendGrid's event fields."""

    event: EventName
    after: int = Field(0, description="Seconds after the send (0: written when the send is accepted)")
    reason: str | None = None
    type: str | None = Field(None, description="bounce: bounce, blocked or expired")
    status: str | None = None
    attempt: int | None = None
    response: str | None = None
    url: str | None = None
    url_offset: dict[str, Any] | None = None
    useragent: str | None = None
    ip: str | None = None
    asm_group_id: int | None = None
    bounce_classification: str | None = None
    sg_machine_open: bool | None = None


class Rule(BaseModel):
    match: RuleMatch = Field(default_factory=RuleMatch)
    fate: Fate | None = Field(None, description="A built-in fate (or give `events`)")
    events: list[RuleEvent] | None = None
    description: str | None = None


class RulesSet(BaseModel):
    rules: list[Rule]
    defaults: bool = Field(True, description="Apply the built-in rules after these")


class Rules(BaseModel):
    source: Literal["api", "setting", "default"] = Field(
        description="Where the rules in force come from: this API or a seed file, SGMIRROR_DELIVERY_RULES, or none"
    )
    rules: list[dict[str, Any]]
    defaults: bool
    builtin: list[dict[str, Any]] = Field(description="The built-in rules, applied after `rules` when `defaults`")
