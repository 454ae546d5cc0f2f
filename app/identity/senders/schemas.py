"""Single sender bodies (`/v3/verified_senders`), field names as SendGrid spells them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VerifiedSenderRequest(BaseModel):
    nickname: str = Field(max_length=100)
    from_email: str = Field(max_length=256)
    from_name: str | None = Field(None, max_length=256)
    reply_to: str = Field(max_length=256)
    reply_to_name: str | None = Field(None, max_length=256)
    address: str | None = Field(None, max_length=100)
    address2: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=2)
    city: str | None = Field(None, max_length=150)
    zip: str | None = Field(None, max_length=10)
    country: str | None = Field(None, max_length=100)


class VerifiedSender(BaseModel):
    id: int
    nickname: str
    from_email: str
    from_name: str
    reply_to: str
    reply_to_name: str
    address: str
    address2: str
    state: str
    city: str
    zip: str
    country: str
    verified: bool
    locked: bool


class VerifiedSenderList(BaseModel):
    results: list[VerifiedSender]


class DmarcFailures(BaseModel):
    soft_failures: list[str]
    hard_failures: list[str]


class DmarcDomains(BaseModel):
    results: DmarcFailures


class Steps(BaseModel):
    sender_verified: bool
    domain_verified: bool


class StepsCompleted(BaseModel):
    results: Steps
