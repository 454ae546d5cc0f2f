"""Scheduled send bodies (`/v3/user/scheduled_sends`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ScheduledSendCreate(BaseModel):
    batch_id: str
    status: Literal["pause", "cancel"]


class ScheduledSendUpdate(BaseModel):
    status: Literal["pause", "cancel"]


class ScheduledSendStatus(BaseModel):
    batch_id: str
    status: Literal["pause", "cancel"]
