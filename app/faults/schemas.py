"""Fault-injection rules as `/_mirror/faults` takes and lists them (README "Fault injection")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FaultAction(BaseModel):
    """At least one of status (http) / code (smtp), drop, latency_ms."""

    status: int | None = Field(None, ge=400, le=599, description="HTTP status, answered with SendGrid's body for it")
    message: str | None = Field(None, description="Replaces the error message of the body (with status)")
    code: int | None = Field(None, ge=400, le=599, description="SMTP reply code (421 also closes the connection)")
    text: str | None = Field(None, description="SMTP reply text after the code, e.g. `4.7.0 Try again later`")
    latency_ms: int = Field(0, ge=0, le=120_000, description="Wait this long first (alone: then answer as usual)")
    drop: bool = Field(False, description="Close the connection without an answer")


class FaultRuleCreate(BaseModel):
    """A match, an optional trigger (one of nth, every, times, probability) and an action."""

    id: str | None = Field(None, description="1-64 of A-Z a-z 0-9 . _ : - (generated when omitted)")
    transport: Literal["http", "smtp"] = "http"
    method: str | None = Field(None, description="http: the request method")
    path: str | None = Field(None, description="http: the exact path, e.g. /v3/mail/send")
    path_prefix: str | None = Field(None, description="http: a path prefix, e.g. /v3/")
    stage: Literal["connect", "mail", "rcpt", "data"] | None = Field(
        None, description="smtp: where the rule applies (default rcpt for recipient rules, else data)"
    )
    header: dict[str, str | None] | None = Field(
        None, description="Request (http) or message (smtp data) headers that must be present; null: any value"
    )
    recipient: str | None = Field(
        None, description="Any recipient matching local@, +tag@, @domain or local@domain (http: mail send only)"
    )
    nth: int | None = Field(None, ge=1, description="Fire on the nth matching request only")
    every: int | None = Field(None, ge=1, description="Fire on every nth matching request")
    times: int | None = Field(None, ge=1, description="Fire on the first N matching requests")
    probability: float | None = Field(None, gt=0, le=1, description="Fire with this probability")
    seed: int | None = Field(None, ge=0, description="Seed of the probability draws, so runs repeat")
    action: FaultAction


class FaultRule(FaultRuleCreate):
    id: str
    source: Literal["api", "settings", "seed"]
    created_at: str
    matched: int = Field(description="Requests or commands this process matched to the rule")
    hits: int = Field(description="Times the rule fired in this process")


class FaultList(BaseModel):
    active: bool
    rules: list[FaultRule]
