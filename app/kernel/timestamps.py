"""Timestamps as SendGrid writes them: RFC 3339 in UTC (partner API) or Unix seconds (IPs)."""

from __future__ import annotations

from datetime import datetime

from app.kernel.db.base import as_utc


def rfc3339(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(as_utc(moment).timestamp())
