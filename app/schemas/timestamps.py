"""Timestamps as SendGrid writes them: RFC 3339 in UTC (partner API) or Unix seconds (IPs)."""

from __future__ import annotations

from datetime import UTC, datetime


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything the mirror stores is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(_utc(moment).timestamp())
