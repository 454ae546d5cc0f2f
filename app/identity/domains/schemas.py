"""Domain authentication bodies (`/v3/whitelabel/domains`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class DomainCreate(BaseModel):
    domain: str
    subdomain: str | None = None
    username: str | None = None
    ips: list[str] | None = None
    custom_spf: bool | None = None
    default: bool | None = None
    automatic_security: bool | None = None
    custom_dkim_selector: str | None = None
    region: Literal["global", "eu"] | None = None


class DomainUpdate(BaseModel):
    default: bool | None = None
    custom_spf: bool | None = None


class DnsRecord(BaseModel):
    valid: bool
    type: str
    host: str
    data: str


class AuthenticatedDomain(BaseModel):
    id: int
    user_id: int
    subdomain: str
    domain: str
    username: str
    ips: list[str]
    custom_spf: bool
    default: bool
    legacy: bool
    automatic_security: bool
    valid: bool
    dns: dict[str, DnsRecord]
    last_validation_attempt_at: int | None = None


class RecordValidation(BaseModel):
    valid: bool
    reason: str | None


class DomainValidation(BaseModel):
    id: int
    valid: bool
    validation_results: dict[str, RecordValidation]


class PublishedRecords(BaseModel):
    """Admin (manual validation): which records count as published in DNS."""

    present: bool = True
    records: list[str] | None = None


class PublishedState(BaseModel):
    id: int
    published: list[str]
