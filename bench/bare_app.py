"""The ceiling: FastAPI parsing the same v3 mail body with pydantic v2 and answering 202, storing nothing.

`uvicorn bench.bare_app:app`. Same stack as the mirror (FastAPI body parameter + `Header()` dependency), no
authentication lookup, no validation beyond the model, no database.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, Header, Response
from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class EmailAddress(_Model):
    email: str
    name: str | None = None


class Personalization(_Model):
    to: list[EmailAddress]
    cc: list[EmailAddress] | None = None
    bcc: list[EmailAddress] | None = None
    from_: EmailAddress | None = Field(None, alias="from")
    subject: str | None = None
    headers: dict[str, str] | None = None
    substitutions: dict[str, str] | None = None
    dynamic_template_data: dict[str, Any] | None = None
    custom_args: dict[str, str] | None = None
    send_at: int | None = None


class Content(_Model):
    type: str
    value: str


class Attachment(_Model):
    content: str
    filename: str
    type: str | None = None
    disposition: str | None = None
    content_id: str | None = None


class Asm(_Model):
    group_id: int
    groups_to_display: list[int] | None = None


class MailSend(_Model):
    personalizations: list[Personalization]
    from_: EmailAddress = Field(alias="from")
    reply_to: EmailAddress | None = None
    reply_to_list: list[EmailAddress] | None = None
    subject: str | None = None
    content: list[Content] | None = None
    attachments: list[Attachment] | None = None
    template_id: str | None = None
    headers: dict[str, str] | None = None
    categories: list[str] | None = None
    custom_args: dict[str, str] | None = None
    send_at: int | None = None
    batch_id: str | None = None
    asm: Asm | None = None
    ip_pool_name: str | None = None
    mail_settings: dict[str, Any] | None = None
    tracking_settings: dict[str, Any] | None = None


app = FastAPI(title="bare mail send (benchmark ceiling)", openapi_url=None, docs_url=None, redoc_url=None)


@app.post("/v3/mail/send", status_code=202)
async def mail_send(mail: MailSend, authorization: str = Header()) -> Response:
    return Response(status_code=202, headers={"X-Message-Id": secrets.token_urlsafe(16)})
