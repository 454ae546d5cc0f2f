"""The mirror's admin API bodies (/_mirror/accounts)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Account(BaseModel):
    id: str
    kind: str
    parent_id: str | None
    username: str | None
    email: str | None
    state: str
    disabled: bool
    is_test: bool
    created_at: str
    offerings: list[dict[str, Any]]
    ips: list[str]


class AccountList(BaseModel):
    accounts: list[Account]


class StateChange(BaseModel):
    state: Literal["activated", "suspended", "deactivated", "banned", "indeterminate"]


class ResetReport(BaseModel):
    removed: dict[str, int]
    bootstrap: list[str]
