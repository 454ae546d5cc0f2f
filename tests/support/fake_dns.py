"""A DNS server on a loopback UDP port answering from a dict, for SGMIRROR_DOMAIN_VALIDATION=dns tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app.identity.domains import dns_wire

Zone = dict[tuple[str, str], list[str]]


@contextmanager
def serve(zone: Zone) -> Iterator[str]:
    """Answer queries for (name, type) from `zone` (NXDOMAIN otherwise); yields `127.0.0.1:<port>`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stopping = threading.Event()

    def answer() -> None:
        while not stopping.is_set():
            try:
                query, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            _id, name, rtype = dns_wire.parse_query(query)
            values = zone.get((name.lower(), rtype), [])
            records = [(rtype, value) for value in values]
            sock.sendto(dns_wire.build_response(query, records, rcode=0 if values else 3), peer)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join(timeout=5)
        sock.close()
