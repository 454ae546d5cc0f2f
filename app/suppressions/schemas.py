"""Suppression lists and unsubscribe groups as the SendGrid spec shapes them (times in unix seconds)."""

from __future__ import annotations

from pydantic import BaseModel


class Bounce(BaseModel):
    created: int
    email: str
    reason: str
    status: str


class Block(BaseModel):
    created: int
    email: str
    reason: str
    status: str


class InvalidEmail(BaseModel):
    created: int
    email: str
    reason: str


class SpamReport(BaseModel):
    created: int
    email: str
    ip: str


class Unsubscribe(BaseModel):
    created: int
    email: str


class DeleteMany(BaseModel):
    """`delete_all: true` or `emails`, never both."""

    delete_all: bool | None = None
    emails: list[str] | None = None


class RecipientEmails(BaseModel):
    recipient_emails: list[str]


class GlobalSuppressionLookup(BaseModel):
    """`{"recipient_email": ...}`, or `{}` when the address is not globally unsubscribed."""

    recipient_email: str | None = None


class ClassificationCount(BaseModel):
    classification: str
    count: int


class ClassificationDay(BaseModel):
    date: str
    stats: list[ClassificationCount]


class ClassificationTotals(BaseModel):
    result: list[ClassificationDay]


class DomainCount(BaseModel):
    domain: str
    count: int


class DomainDay(BaseModel):
    date: str
    stats: list[DomainCount]


class ClassificationDomains(BaseModel):
    result: list[DomainDay]


class GroupWrite(BaseModel):
    name: str | None = None
    description: str | None = None
    is_default: bool | None = None


class GroupCreated(BaseModel):
    id: int
    name: str
    description: str
    last_email_sent_at: str | None
    is_default: bool


class Group(BaseModel):
    id: int
    name: str
    description: str
    last_email_sent_at: str | None
    is_default: bool
    unsubscribes: int


class GroupSuppression(BaseModel):
    email: str
    group_id: int
    group_name: str
    created_at: int


class EmailGroup(BaseModel):
    description: str
    id: int
    is_default: bool
    name: str
    suppressed: bool


class EmailGroups(BaseModel):
    suppressions: list[EmailGroup]
