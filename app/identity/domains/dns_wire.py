"""The DNS wire format (RFC 1035), just enough to ask for CNAME, MX and TXT records and read the answers.

Pure: bytes in, bytes out. `app.identity.domains.dns_lookup` does the network part; tests use `build_response`
to play a DNS server.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TYPES: dict[str, int] = {"A": 1, "CNAME": 5, "MX": 15, "TXT": 16}
_NAMES = {number: name for name, number in TYPES.items()}
_CLASS_IN = 1
_FLAG_RD = 0x0100
_FLAG_QR_RA = 0x8180
_FLAG_TC = 0x0200


class DnsFormatError(ValueError):
    """The bytes are not a DNS message this module can read."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A response: its code (0 = no error, 3 = no such name), records as (type, value), and truncation."""

    rcode: int
    records: tuple[tuple[str, str], ...]
    truncated: bool = False

    def values(self, rtype: str) -> list[str]:
        return [value for kind, value in self.records if kind == rtype]


def build_query(query_id: int, name: str, rtype: str) -> bytes:
    """A recursive query for one name and type."""
    header = struct.pack("!HHHHHH", query_id, _FLAG_RD, 1, 0, 0, 0)
    return header + _encode_name(name) + struct.pack("!HH", TYPES[rtype], _CLASS_IN)


def parse_query(data: bytes) -> tuple[int, str, str]:
    """(id, name, type) of a query (for test servers)."""
    query_id, _flags, count = struct.unpack_from("!HHH", data)
    if count != 1:
        raise DnsFormatError("expected one question")
    name, offset = _read_name(data, 12)
    rtype, _rclass = struct.unpack_from("!HH", data, offset)
    return query_id, name, _NAMES.get(rtype, str(rtype))


def build_response(query: bytes, records: list[tuple[str, str]], *, rcode: int = 0) -> bytes:
    """The answer to `query` carrying `records` (type, value) for the asked name (for test servers)."""
    query_id, name, _rtype = parse_query(query)
    question_end = 12 + len(_encode_name(name)) + 4
    header = struct.pack("!HHHHHH", query_id, _FLAG_QR_RA | rcode, 1, len(records), 0, 0)
    body = b"".join(_encode_record(name, rtype, value) for rtype, value in records)
    return header + query[12:question_end] + body


def parse_response(data: bytes, query_id: int) -> Answer:
    """The answer records of a response to query `query_id`."""
    try:
        return _parse_response(data, query_id)
    except (struct.error, IndexError, UnicodeDecodeError) as error:
        raise DnsFormatError(str(error)) from None


def _parse_response(data: bytes, query_id: int) -> Answer:
    answer_id, flags, questions, answers = struct.unpack_from("!HHHH", data)
    if answer_id != query_id:
        raise DnsFormatError("the response answers another query")
    offset = 12
    for _ in range(questions):
        offset = _read_name(data, offset)[1] + 4
    records = []
    for _ in range(answers):
        offset = _read_name(data, offset)[1]
        rtype, _rclass, _ttl, length = struct.unpack_from("!HHIH", data, offset)
        offset += 10
        value = _read_rdata(data, offset, rtype, length)
        if value is not None:
            records.append((_NAMES[rtype], value))
        offset += length
    return Answer(flags & 0x000F, tuple(records), bool(flags & _FLAG_TC))


def _read_rdata(data: bytes, offset: int, rtype: int, length: int) -> str | None:
    if rtype == TYPES["CNAME"]:
        return _read_name(data, offset)[0]
    if rtype == TYPES["MX"]:
        return _read_name(data, offset + 2)[0]
    if rtype == TYPES["TXT"]:
        return _read_strings(data[offset : offset + length])
    if rtype == TYPES["A"]:
        return ".".join(str(b) for b in data[offset : offset + 4])
    return None


def _read_strings(rdata: bytes) -> str:
    """A TXT record's character-strings, joined (as SPF and DKIM records are read)."""
    parts, position = [], 0
    while position < len(rdata):
        size = rdata[position]
        parts.append(rdata[position + 1 : position + 1 + size].decode("utf-8", "replace"))
        position += 1 + size
    return "".join(parts)


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """A possibly compressed name at `offset`, and the offset just after it."""
    labels: list[str] = []
    end: int | None = None
    for _ in range(128):
        size = data[offset]
        if size & 0xC0 == 0xC0:
            end = offset + 2 if end is None else end
            offset = ((size & 0x3F) << 8) | data[offset + 1]
            continue
        if size == 0:
            return ".".join(labels), (offset + 1 if end is None else end)
        labels.append(data[offset + 1 : offset + 1 + size].decode("ascii"))
        offset += 1 + size
    raise DnsFormatError("name compression loop")


def _encode_name(name: str) -> bytes:
    labels = [label for label in name.rstrip(".").split(".") if label]
    if any(len(label) > 63 for label in labels):
        raise DnsFormatError(f"label too long in {name!r}")
    return b"".join(bytes([len(label)]) + label.encode("ascii") for label in labels) + b"\x00"


def _encode_record(name: str, rtype: str, value: str) -> bytes:
    if rtype == "TXT":
        raw = value.encode()
        rdata = b"".join(bytes([len(raw[i : i + 255])]) + raw[i : i + 255] for i in range(0, len(raw), 255))
    elif rtype == "MX":
        rdata = struct.pack("!H", 10) + _encode_name(value)
    elif rtype == "A":
        rdata = bytes(int(part) for part in value.split("."))
    else:
        rdata = _encode_name(value)
    return _encode_name(name) + struct.pack("!HHIH", TYPES[rtype], _CLASS_IN, 300, len(rdata)) + rdata
