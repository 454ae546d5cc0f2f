"""app.server.connections: the open-file limit, each port's cap, and which connection gives way."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from app.server import connections
from app.server.connections import PortConnections


@pytest.fixture
def own_limit() -> Iterator[tuple[int, int]]:
    """This process's open-file limits, put back afterwards."""
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield limits
    resource.setrlimit(resource.RLIMIT_NOFILE, limits)


def test_the_soft_open_file_limit_is_raised_to_the_hard_one(own_limit: tuple[int, int]) -> None:
    _, hard = own_limit
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip("needs a finite hard limit above 256")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    assert connections.raise_open_file_limit() == hard
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)


def test_the_automatic_cap_shares_what_the_limit_leaves_among_the_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections, "raise_open_file_limit", lambda: 1024)
    assert connections.per_port_cap(0, ports=4) == (1024 - 192 - 64) // 4 == 192
    assert connections.per_port_cap(0, ports=2) == 384
    assert connections.per_port_cap(50, ports=4) == 50  # a setting wins
    monkeypatch.setattr(connections, "_ports_served", 4)  # `serve` counted HTTP, HTTPS and the relay's ports
    assert connections.per_port_cap(0, ports=2) == 192
    monkeypatch.setattr(connections, "raise_open_file_limit", lambda: 1 << 20)
    assert connections.per_port_cap(0, ports=4) == connections.MAX_AUTO_CAP
    monkeypatch.setattr(connections, "raise_open_file_limit", lambda: 64)
    assert connections.per_port_cap(0, ports=4) == connections.MIN_CAP


def test_over_the_cap_the_connection_waiting_longest_gives_way() -> None:
    port: PortConnections[str] = PortConnections(cap=2)
    assert port.opened("a") is None
    assert port.opened("b") is None
    assert port.opened("c") == "a"  # the oldest waiting
    port.closed("a")
    port.busy("b")  # being answered: never closed for room
    assert port.opened("d") == "c"
    port.closed("c")
    port.waiting("b")  # answered: waits again, as the newest
    assert port.opened("e") == "d"
    port.closed("d")
    assert len(port) == 2
    port.busy("b")
    port.busy("e")
    assert port.opened("f") == "f"  # everyone else is busy: the newcomer itself
    port.closed("f")
    port.waiting("f")  # a late mark for a closed connection is ignored
    assert port.opened("g") == "g"
