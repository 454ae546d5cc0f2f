"""The DNS wire format: queries, answers (with name compression) and what a broken message raises."""

from __future__ import annotations

import struct

import pytest

from app.identity.domains import dns_wire


def test_a_query_round_trips() -> None:
    query = dns_wire.build_query(0x1234, "em1.shop.example.", "CNAME")
    assert dns_wire.parse_query(query) == (0x1234, "em1.shop.example", "CNAME")


@pytest.mark.parametrize(
    ("rtype", "value"),
    [
        ("CNAME", "u7.wl.sendgrid.net"),
        ("MX", "mx.sendgrid.net"),
        ("TXT", "v=spf1 include:sendgrid.net ~all"),
        ("TXT", "k=rsa; t=s; p=" + "A" * 400),
        ("A", "192.0.2.7"),
    ],
)
def test_answers_are_read_back(rtype: str, value: str) -> None:
    query = dns_wire.build_query(7, "host.example", rtype)
    answer = dns_wire.parse_response(dns_wire.build_response(query, [(rtype, value)]), 7)
    assert (answer.rcode, answer.values(rtype), answer.truncated) == (0, [value], False)


def test_compressed_names_are_followed() -> None:
    query = dns_wire.build_query(9, "a.example", "CNAME")
    header = struct.pack("!HHHHHH", 9, 0x8180, 1, 1, 0, 0)
    question = query[12:]
    # Owner name: a pointer to the question's name (offset 12); data: "b" + a pointer to "example".
    rdata = b"\x01b" + b"\xc0\x0e"
    record = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(rdata)) + rdata
    answer = dns_wire.parse_response(header + question + record, 9)
    assert answer.values("CNAME") == ["b.example"]


def test_no_such_name_and_mismatched_ids() -> None:
    query = dns_wire.build_query(3, "missing.example", "TXT")
    assert dns_wire.parse_response(dns_wire.build_response(query, [], rcode=3), 3).rcode == 3
    with pytest.raises(dns_wire.DnsFormatError):
        dns_wire.parse_response(dns_wire.build_response(query, []), 4)
    with pytest.raises(dns_wire.DnsFormatError):
        dns_wire.parse_response(b"\x00\x03\x81", 3)
