"""A thread-safe "something was committed" signal that asyncio code can wait on (long polls)."""

from __future__ import annotations

import asyncio
import threading
import time


class CommitSignal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        # How many commits, and when the last was (monotonic): background passes use them to keep out of
        # the way of sends.
        self.count = 0
        self.last_at = 0.0

    def notify(self) -> None:
        """Wake every waiter; callable from any thread."""
        self.count += 1
        self.last_at = time.monotonic()
        with self._lock:
            waiters, self._waiters = self._waiters, set()
        for loop, future in waiters:
            loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, timeout: float) -> None:
        """Return at the next notification or after `timeout` seconds, whichever comes first."""
        loop = asyncio.get_running_loop()
        entry = (loop, loop.create_future())
        with self._lock:
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(entry[1], timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(entry)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
