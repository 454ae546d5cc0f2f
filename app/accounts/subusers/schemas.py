"""Subuser bodies (field names as SendGrid spells them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Region = Literal["global", "eu"]


class SubuserCreate(BaseModel):
    username: str
    email: str
    password: str
    ips: list[str]
    region: Region | None = None
    include_region: bool | None = None


class CreditAllocation(BaseModel):
    type: str


class SubuserCreated(BaseModel):
    username: str
    user_id: int
    email: str
    credit_allocation: CreditAllocation
    signup_session_token: str
    authorization_token: str
    region: Region | None = None


class Subuser(BaseModel):
    id: int
    username: str
    email: str
    disabled: bool
    region: Region | None = None


class SubuserUpdate(BaseModel):
    disabled: bool


class SubuserIps(BaseModel):
    ips: list[str]
