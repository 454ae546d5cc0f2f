"""Account Provisioning bodies, as the official spec names them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Profile(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    company_website: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None


class Offering(BaseModel):
    name: str
    type: Literal["package", "addon"]
    quantity: int | None = None


class AccountCreate(BaseModel):
    profile: Profile | None = None
    offerings: list[Offering]


class AccountId(BaseModel):
    account_id: str


class AccountSummary(BaseModel):
    id: str
    email: str | None = None
    created_at: str
    updated_at: str


class Pagination(BaseModel):
    last: str | None = None


class AccountList(BaseModel):
    accounts: list[AccountSummary]
    pages: Pagination


class StateRead(BaseModel):
    state: Literal["activated", "deactivated", "suspended", "banned", "indeterminate"]


class StateWrite(BaseModel):
    state: Literal["activated", "deactivated"]


class OfferingList(BaseModel):
    offerings: list[Offering]


class Entitlements(BaseModel):
    email_sends_max_monthly: int
    ip_count: int
    teammates_max_total: int
    users_max_total: int


class CatalogEntry(BaseModel):
    offering: Offering
    entitlements: Entitlements


class Catalog(BaseModel):
    catalog: list[CatalogEntry]


class AccountIp(BaseModel):
    ip: str
    region: Literal["us", "eu"]


class AccountIpList(BaseModel):
    result: list[AccountIp]
    pages: Pagination


class AccountIpsAdd(BaseModel):
    count: int
    region: Literal["us", "eu"]


class AccountIpsAdded(BaseModel):
    ips: list[str]
    region: Literal["us", "eu"]


class AccountIpsRemove(BaseModel):
    ips: list[str]
