"""How many connections each listening port may hold, and which one gives way when a port is full.

Every open connection costs a file descriptor, and the process has a fixed number (RLIMIT_NOFILE, often
1,024 by default). So the serving processes raise their soft limit to the hard one at start, and each port
(HTTP, HTTPS, each relay port) holds at most `cap` connections. A new connection over the cap is not
refused: the connection that has been waiting longest on its client (idle, or still sending one request)
is closed instead, so that a client holding many connections open cannot keep a newcomer, say a health
check, from being served.
"""

from __future__ import annotations

import resource
from collections.abc import Hashable
from typing import Final, Generic, TypeVar

# Descriptors kept for everything but client connections: the database (a PostgreSQL pool holds up to 30),
# Event Webhook posts, log and certificate files, the event loop's own; plus a share for bursts of accepts.
_RESERVED: Final = 192
_RESERVED_SHARE: Final = 16
# With a very high limit, memory becomes the bound long before descriptors do.
MAX_AUTO_CAP: Final = 10_000
MIN_CAP: Final = 16

_ports_served = 0

C = TypeVar("C", bound=Hashable)


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit (as far as the system allows); the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else _system_maximum()
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft


def _system_maximum() -> int:
    """The most descriptors Linux lets one process have (an unlimited hard limit cannot be the soft one)."""
    try:
        with open("/proc/sys/fs/nr_open") as nr_open:
            return int(nr_open.read())
    except (OSError, ValueError):
        return 1 << 20


def serve_ports(count: int) -> None:
    """This process listens on `count` ports in all (`sgmirror serve`: HTTP, HTTPS, the relay's two)."""
    global _ports_served
    _ports_served = count


def per_port_cap(max_connections: int, *, ports: int) -> int:
    """SGMIRROR_MAX_CONNECTIONS, or when 0, the open-file limit (raised first) shared among this process's ports."""
    limit = raise_open_file_limit()
    if max_connections > 0:
        return max_connections
    if limit == resource.RLIM_INFINITY:
        return MAX_AUTO_CAP
    usable = limit - _RESERVED - limit // _RESERVED_SHARE
    return max(MIN_CAP, min(MAX_AUTO_CAP, usable // max(ports, _ports_served, 1)))


class PortConnections(Generic[C]):
    """The open connections of one listening port, and of those, the ones waiting on their client, oldest first.

    A connection is waiting from the moment it opens or its previous answer is sent until its next request
    (or SMTP command) has fully arrived; a dictionary keeps them in the order they began to wait, so the
    choice of whom to close costs no search. Marking costs a few dictionary operations per request.
    """

    __slots__ = ("_open", "_waiting", "cap")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: set[C] = set()
        self._waiting: dict[C, None] = {}

    def __len__(self) -> int:
        return len(self._open)

    def opened(self, connection: C) -> C | None:
        """A new connection, waiting; over the cap, the one to close: the longest waiting (itself if none other)."""
        self._open.add(connection)
        self._waiting[connection] = None
        if len(self._open) <= self.cap:
            return None
        oldest = next(iter(self._waiting))
        # Chosen once: it is closing, so the next newcomer picks another.
        del self._waiting[oldest]
        return oldest

    def waiting(self, connection: C) -> None:
        """`connection` waits on its client again, from now (the newest in line)."""
        if connection in self._open:
            self._waiting.pop(connection, None)
            self._waiting[connection] = None

    def busy(self, connection: C) -> None:
        """`connection` is being answered: it is not closed to make room."""
        self._waiting.pop(connection, None)

    def closed(self, connection: C) -> None:
        self._open.discard(connection)
        self._waiting.pop(connection, None)
