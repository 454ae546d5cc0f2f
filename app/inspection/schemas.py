"""Bodies of the mirror's inspection API (/_mirror/messages)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AddressOut(BaseModel):
    email: str
    name: str | None = None


class MessageSummary(BaseModel):
    id: str
    account_id: str
    transport: str
    status: str
    sandbox: bool
    from_: AddressOut = Field(alias="from")
    subject: str | None
    to: list[str]
    cc: list[str]
    bcc: list[str]
    categories: list[str]
    custom_args: dict[str, Any]
    batch_id: str | None
    send_at: str | None
    created_at: str
    personalizations: int

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class MessagePage(BaseModel):
    total: int = Field(description="matches, counted up to 10,000; past that a lower bound")
    total_exact: bool = Field(description="false when `total` is the 10,000 lower bound")
    limit: int
    offset: int
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last one")
    messages: list[MessageSummary]


class AttachmentOut(BaseModel):
    index: int
    filename: str | None
    content_type: str
    disposition: str | None
    content_id: str | None
    size: int


class EnvelopeOut(BaseModel):
    position: int
    from_email: str
    subject: str | None
    send_at: str | None
    custom_args: dict[str, Any]
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    attachments: list[AttachmentOut]
    size: int


class EventOut(BaseModel):
    event: str
    timestamp: str
    reason: str | None
    # SendGrid's extra event fields: type, status, attempt, response, url, useragent, ip, asm_group_id...
    detail: dict[str, Any] | None = None


class RecipientOut(BaseModel):
    msg_id: str
    email: str
    name: str | None
    kind: str
    personalization: int
    status: str
    events: list[EventOut]


class MessageDetail(MessageSummary):
    envelopes: list[EnvelopeOut]
    recipients: list[RecipientOut]
    request: Any = None
