"""The mirror clock and scheduler admin bodies (`/_mirror/clock`, `/_mirror/scheduler`)."""

from __future__ import annotations

from pydantic import BaseModel


class Clock(BaseModel):
    now: int
    offset_seconds: int
    real_now: int
    delivered: int = 0


class ClockAdvance(BaseModel):
    seconds: int


class ClockSet(BaseModel):
    offset_seconds: int


class SchedulerRun(BaseModel):
    delivered: int
