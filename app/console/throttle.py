"""Console sign-in throttling: failed attempts counted per username and per client address.

The admin-token form counts its wrong tokens per client address under keys of its own.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.console.models import LoginThrottle
from app.kernel.db.base import as_utc
from app.kernel.errors import TooManyRequests

WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
# A person mistyping stops at the first limit; an address trying many usernames at the second; an address
# guessing the one admin token at the third.
MAX_FAILURES = {"user": 5, "ip": 50, "admin": 10}
# What a key keeps of a username or an address; the column holds 400 characters, and a longer username
# (no account has one) is still counted, under its first characters.
KEY_PART = 256


def keys(username: str, client: str) -> list[str]:
    return [f"user:{username.strip().lower()[:KEY_PART]}", f"ip:{client[:KEY_PART]}"]


def admin_keys(client: str) -> list[str]:
    return [f"admin:{client[:KEY_PART]}"]


def require_open(session: Session, throttle_keys: list[str], now: datetime) -> None:
    """429 while any of the keys is locked, saying when to try again."""
    until = [as_utc(row.locked_until) for row in _rows(session, throttle_keys) if row.locked_until is not None]
    latest = max((moment for moment in until if moment > now), default=None)
    if latest is not None:
        minutes = max(1, math.ceil((latest - now).total_seconds() / 60))
        raise TooManyRequests(
            f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


def record_failure(session: Session, throttle_keys: list[str], now: datetime) -> None:
    """Count a failure under every key; a key over its limit locks for LOCKOUT."""
    rows = {row.key: row for row in _rows(session, throttle_keys, for_update=True)}
    for key in throttle_keys:
        row = rows.get(key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        elif as_utc(row.window_started_at) + WINDOW <= now:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= MAX_FAILURES[key.partition(":")[0]]:
            row.locked_until = now + LOCKOUT
    session.flush()


def clear(session: Session, key: str) -> None:
    """Forget a username's failures after a successful sign-in."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def _rows(session: Session, throttle_keys: list[str], *, for_update: bool = False) -> list[LoginThrottle]:
    query = select(LoginThrottle).where(LoginThrottle.key.in_(throttle_keys))
    return list(session.scalars(query.with_for_update() if for_update else query))
