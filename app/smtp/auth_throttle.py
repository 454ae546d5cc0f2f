"""Failed SMTP AUTH attempts per client address: past a limit the address is refused for a while; pure.

Kept in memory, per process: the relay answers AUTH on the event loop, and a database write per failed attempt
would turn a flood of bad passwords into a flood of writes. A successful AUTH is never delayed and does not
reset the count (a client holding one good key cannot use it to keep guessing others).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MAX_FAILURES: Final = 20
WINDOW_SECONDS: Final = 600.0
LOCKOUT_SECONDS: Final = 600.0
# Addresses remembered at most; past it the one that failed longest ago is forgotten first.
MAX_ADDRESSES: Final = 10_000


@dataclass(slots=True)
class _Failures:
    window_started: float
    count: int = 0
    locked_until: float = 0.0


class AuthFailures:
    """The failed AUTH attempts of each client address, counted in a window that starts at the first one."""

    def __init__(self) -> None:
        self._by_address: dict[str, _Failures] = {}

    def locked(self, address: str, now: float) -> bool:
        """True while `address` is refused after too many failures."""
        entry = self._by_address.get(address)
        return entry is not None and entry.locked_until > now

    def failed(self, address: str, now: float) -> None:
        """Count one failure; the MAX_FAILURES-th within WINDOW_SECONDS locks the address for LOCKOUT_SECONDS."""
        entry = self._by_address.pop(address, None)
        if entry is None or entry.window_started + WINDOW_SECONDS <= now:
            entry = _Failures(window_started=now)
        entry.count += 1
        if entry.count >= MAX_FAILURES:
            entry.locked_until = now + LOCKOUT_SECONDS
        # Re-inserted, so the dictionary's order is the order of the latest failures.
        self._by_address[address] = entry
        if len(self._by_address) > MAX_ADDRESSES:
            del self._by_address[next(iter(self._by_address))]
