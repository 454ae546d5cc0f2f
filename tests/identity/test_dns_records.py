"""The records a domain must publish, and how found records are judged."""

from __future__ import annotations

from app.identity.domains import dns_records


def _automatic(selector: str | None = None) -> dict[str, dns_records.Record]:
    return dns_records.records(
        domain="shop.example", subdomain="em1", user_id=7, automatic_security=True, custom_spf=False, ips=[],
        selector=selector,
    )  # fmt: skip


def test_a_custom_selector_names_both_dkim_records() -> None:
    records = _automatic("abc")
    assert (records["dkim1"]["host"], records["dkim2"]["host"]) == (
        "abc._domainkey.shop.example",
        "abc2._domainkey.shop.example",
    )
    assert records["dkim2"]["data"] == "abc2.domainkey.u7.wl.sendgrid.net"


def test_cnames_match_case_and_trailing_dot_insensitively() -> None:
    record = _automatic()["mail_cname"]
    assert dns_records.check(record, lambda host, kind: ["U7.WL.SENDGRID.NET."]) is None
    reason = dns_records.check(record, lambda host, kind: [])
    assert reason == 'Expected CNAME for "em1.shop.example" to match "u7.wl.sendgrid.net".'


def test_txt_records_compare_without_extra_spaces() -> None:
    record = {"valid": False, "type": "txt", "host": "em1.shop.example", "data": "v=spf1 include:sendgrid.net ~all"}
    assert dns_records.check(record, lambda host, kind: ["v=spf1  include:sendgrid.net ~all"]) is None
    assert dns_records.check(record, lambda host, kind: ["v=spf1 -all"]) == (
        'Expected TXT record for "em1.shop.example" to be "v=spf1 include:sendgrid.net ~all" but found "v=spf1 -all".'
    )


def test_results_add_spf_for_automatic_security() -> None:
    reasons: dict[str, str | None] = {"mail_cname": None, "dkim1": "missing", "dkim2": None}
    results = dns_records.results(_automatic(), reasons)
    assert results["spf"] == {"valid": True, "reason": None}
    assert results["dkim1"] == {"valid": False, "reason": "missing"}
