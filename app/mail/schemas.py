"""The v3 mail-send body, for the OpenAPI document (the route validates the raw JSON itself)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class EmailAddress(BaseModel):
    email: str
    name: str | None = None


class Personalization(BaseModel):
    to: list[EmailAddress] = Field(min_length=1, max_length=1000)
    cc: list[EmailAddress] | None = None
    bcc: list[EmailAddress] | None = None
    subject: str | None = None
    headers: dict[str, str] | None = None
    substitutions: dict[str, str] | None = None
    dynamic_template_data: dict[str, Any] | None = None
    custom_args: dict[str, str] | None = None
    send_at: int | None = None
    from_: EmailAddress | None = Field(None, alias="from")


class ContentPart(BaseModel):
    type: str = Field(min_length=1)
    value: str = Field(min_length=1)


class AttachmentPart(BaseModel):
    content: str = Field(min_length=1)
    filename: str
    type: str | None = None
    disposition: str | None = Field(None, pattern="^(inline|attachment)$")
    content_id: str | None = None


class Asm(BaseModel):
    group_id: int
    groups_to_display: list[int] | None = Field(None, max_length=25)


class MailSendRequest(BaseModel):
    personalizations: list[Personalization] = Field(min_length=1, max_length=1000)
    from_: EmailAddress = Field(alias="from")
    reply_to: EmailAddress | None = None
    reply_to_list: list[EmailAddress] | None = None
    subject: str | None = None
    content: list[ContentPart] | None = None
    attachments: list[AttachmentPart] | None = None
    template_id: str | None = None
    headers: dict[str, str] | None = None
    categories: list[str] | None = Field(None, max_length=10)
    custom_args: dict[str, str] | None = None
    send_at: int | None = None
    batch_id: str | None = None
    asm: Asm | None = None
    ip_pool_name: str | None = Field(None, min_length=2, max_length=64)
    mail_settings: dict[str, Any] | None = None
    tracking_settings: dict[str, Any] | None = None


class BatchId(BaseModel):
    batch_id: str
