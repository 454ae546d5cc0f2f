"""Email Activity response bodies (field names as SendGrid spells them)."""

from __future__ import annotations

from pydantic import BaseModel


class ActivitySummary(BaseModel):
    from_email: str
    msg_id: str
    subject: str
    to_email: str
    status: str
    opens_count: int
    clicks_count: int
    last_event_time: str


class ActivityList(BaseModel):
    messages: list[ActivitySummary]


class ActivityEventOut(BaseModel):
    event_name: str
    processed: str
    reason: str | None = None
    attempt_num: int | None = None
    url: str | None = None
    bounce_type: str | None = None
    http_user_agent: str | None = None


class ActivityDetailOut(BaseModel):
    from_email: str
    msg_id: str
    subject: str
    to_email: str
    status: str
    template_id: str
    teammate: str
    api_key_id: str | None = None
    events: list[ActivityEventOut]
    categories: list[str]
    unique_args: str
    originating_ip: str
    outbound_ip: str
    outbound_ip_type: str
