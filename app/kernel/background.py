"""Background passes on the serving loop: stopping one (every pass's task is cancelled the same way)."""

from __future__ import annotations

import asyncio
import contextlib


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel the pass and wait until it has unwound (None: it never started)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
