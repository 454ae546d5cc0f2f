"""/_mirror/clock and /_mirror/scheduler: move the mirror's time forward and deliver what falls due."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.clock import schemas
from app.clock import service as clock
from app.kernel.db.session import Database
from app.kernel.deps import AdminDep, JsonBody
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.errors import BadRequest
from app.scheduling import scheduler

router = APIRouter(prefix="/_mirror", tags=["Mirror clock"], dependencies=[AdminDep])

# Ten years: the offset is stored as a 32-bit integer.
MAX_OFFSET = 10 * 365 * 86_400


def _seconds(body: Any, name: str) -> int:
    value = body.get(name) if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_OFFSET:
        raise BadRequest(f"{name} must be an integer from 0 to {MAX_OFFSET}", field=name)
    return value


async def _set(request: Request, offset: int | None = None, *, advance: int = 0) -> schemas.Clock:
    """Store the new offset, then deliver whatever is due at the new time."""
    db: Database = request.app.state.db

    def store() -> int:
        with db.session() as session:
            new = (clock.session_offset(session) + advance) if offset is None else offset
            if new > MAX_OFFSET:
                raise BadRequest(f"the clock cannot run more than {MAX_OFFSET} seconds ahead", field="seconds")
            clock.set_offset(session, new)
            return new

    stored = await run_in_threadpool(store)
    delivered = await scheduler.run_once(db)
    real = int(time.time())
    return schemas.Clock(now=real + stored, offset_seconds=stored, real_now=real, delivered=delivered)


@router.get("/clock", response_model=schemas.Clock, responses=error_responses(403))
def get_mirror_clock(request: Request) -> schemas.Clock:
    """The mirror's time (Unix seconds) and how far it runs ahead of real time."""
    offset = clock.offset(request.app.state.db)
    real = int(time.time())
    return schemas.Clock(now=real + offset, offset_seconds=offset, real_now=real)


@router.put(
    "/clock",
    response_model=schemas.Clock,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.ClockSet),
)
async def set_mirror_clock(request: Request, body: JsonBody) -> schemas.Clock:
    """Run the clock `offset_seconds` ahead of real time (0: real time); due sends are delivered."""
    return await _set(request, _seconds(body, "offset_seconds"))


@router.post(
    "/clock/advance",
    response_model=schemas.Clock,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.ClockAdvance),
)
async def advance_mirror_clock(request: Request, body: JsonBody) -> schemas.Clock:
    """Move the clock forward by `seconds`; sends that fall due are delivered before the answer."""
    return await _set(request, advance=_seconds(body, "seconds"))


@router.delete("/clock", response_model=schemas.Clock, responses=error_responses(403))
async def reset_mirror_clock(request: Request) -> schemas.Clock:
    """Back to real time."""
    return await _set(request, 0)


@router.post("/scheduler/run", response_model=schemas.SchedulerRun, responses=error_responses(403))
async def run_mirror_scheduler(request: Request) -> schemas.SchedulerRun:
    """Deliver every due scheduled send now, without waiting for the background pass."""
    return schemas.SchedulerRun(delivered=await scheduler.run_once(request.app.state.db))
