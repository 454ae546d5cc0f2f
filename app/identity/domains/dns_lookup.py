"""DNS lookups for domain validation (SGMIRROR_DOMAIN_VALIDATION=dns), with the standard library only.

One UDP query per record to the configured resolver (SGMIRROR_DNS_RESOLVER, else the first nameserver
of /etc/resolv.conf), retried over TCP when the answer is truncated. Failures read as "no record".
"""

from __future__ import annotations

import secrets
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

from app.identity.domains import dns_wire

TIMEOUT_SECONDS = 2.0
_RESOLV_CONF = Path("/etc/resolv.conf")


@dataclass(frozen=True, slots=True)
class Resolver:
    host: str
    port: int = 53

    def lookup(self, name: str, rtype: str) -> list[str]:
        """The values of `name`'s records of `rtype` (empty when none, or when the lookup fails)."""
        try:
            answer = self._ask(name, rtype)
        except (OSError, dns_wire.DnsFormatError):
            return []
        return answer.values(rtype) if answer.rcode == 0 else []

    def _ask(self, name: str, rtype: str) -> dns_wire.Answer:
        query_id = secrets.randbelow(0x10000)
        query = dns_wire.build_query(query_id, name, rtype)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.settimeout(TIMEOUT_SECONDS)
            udp.sendto(query, (self.host, self.port))
            answer = dns_wire.parse_response(udp.recv(4096), query_id)
        if not answer.truncated:
            return answer
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT_SECONDS) as tcp:
            tcp.sendall(struct.pack("!H", len(query)) + query)
            size = struct.unpack("!H", _read_exactly(tcp, 2))[0]
            return dns_wire.parse_response(_read_exactly(tcp, size), query_id)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def resolver(setting: str | None) -> Resolver:
    """The resolver named by `host[:port]` (IPv6: `[addr]:port`), else the system's first nameserver."""
    if setting:
        return _parse(setting)
    try:
        for line in _RESOLV_CONF.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                return Resolver(parts[1].split("%")[0])
    except OSError:
        pass
    return Resolver("127.0.0.1")


def _parse(setting: str) -> Resolver:
    if setting.startswith("["):
        host, _, rest = setting[1:].partition("]")
        return Resolver(host, int(rest.lstrip(":") or 53))
    if setting.count(":") == 1:
        host, port = setting.split(":")
        return Resolver(host, int(port))
    return Resolver(setting)
