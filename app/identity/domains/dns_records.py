"""The DNS records SendGrid asks a domain to publish, and whether what was found matches them.

automatic_security true: three CNAMEs (mail_cname, dkim1, dkim2) pointing into sendgrid.net, as in the
spec's example. false: an MX and an SPF TXT on the subdomain and a DKIM TXT with a public key.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

WL_SUFFIX = "wl.sendgrid.net"
MX_HOST = "mx.sendgrid.net"
SPF_INCLUDE = "v=spf1 include:sendgrid.net ~all"
# DER header of an RSA-1024 SubjectPublicKeyInfo; the modulus (129 bytes) and exponent follow.
_SPKI_HEADER = bytes.fromhex("30819f300d06092a864886f70d010101050003818d0030818902818100")
_SPKI_EXPONENT = bytes.fromhex("0203010001")

Record = dict[str, Any]
Lookup = Callable[[str, str], list[str]]


def records(
    *,
    domain: str,
    subdomain: str,
    user_id: int,
    automatic_security: bool,
    custom_spf: bool,
    ips: list[str],
    selector: str | None,
) -> dict[str, Record]:
    """The records to publish, by name, each `{valid, type, host, data}` (valid false until validated)."""
    sending_host = f"{subdomain}.{domain}"
    if automatic_security:
        first, second = (selector, f"{selector}2") if selector else ("s1", "s2")
        return {
            "mail_cname": _record("cname", sending_host, f"u{user_id}.{WL_SUFFIX}"),
            "dkim1": _record("cname", f"{first}._domainkey.{domain}", f"{first}.domainkey.u{user_id}.{WL_SUFFIX}"),
            "dkim2": _record("cname", f"{second}._domainkey.{domain}", f"{second}.domainkey.u{user_id}.{WL_SUFFIX}"),
        }
    spf = "v=spf1 " + " ".join(f"ip4:{ip}" for ip in ips) + " -all" if custom_spf and ips else SPF_INCLUDE
    return {
        "mail_server": _record("mx", sending_host, MX_HOST),
        "subdomain_spf": _record("txt", sending_host, spf),
        "dkim": _record("txt", f"{selector or 'm1'}._domainkey.{domain}", f"k=rsa; t=s; p={_public_key()}"),
    }


def _record(kind: str, host: str, data: str) -> Record:
    return {"valid": False, "type": kind, "host": host, "data": data}


def _public_key() -> str:
    modulus = bytes([0x80 | secrets.randbits(7)]) + secrets.token_bytes(127)
    return base64.b64encode(_SPKI_HEADER + modulus + _SPKI_EXPONENT).decode()


def check(record: Record, lookup: Lookup) -> str | None:
    """None when the published record matches, else the reason it does not."""
    kind, host, data = record["type"], record["host"], record["data"]
    if kind == "cname":
        found = [_bare(v) for v in lookup(host, "CNAME")]
        return None if _bare(data) in found else f'Expected CNAME for "{host}" to match "{data}".'
    if kind == "mx":
        found = [_bare(v) for v in lookup(host, "MX")]
        shown = found[0] if found else ""
        return None if _bare(data) in found else f'Expected your MX record to be "{data}" but found "{shown}".'
    found = [" ".join(v.split()) for v in lookup(host, "TXT")]
    shown = found[0] if found else ""
    if " ".join(data.split()) in found:
        return None
    return f'Expected TXT record for "{host}" to be "{data}" but found "{shown}".'


def _bare(name: str) -> str:
    return name.strip().rstrip(".").lower()


def results(dns: dict[str, Record], reasons: dict[str, str | None]) -> dict[str, dict[str, Any]]:
    """`validation_results` of /validate: per record `{valid, reason}`; automatic security adds `spf`."""
    out = {name: {"valid": reasons[name] is None, "reason": reasons[name]} for name in dns}
    if "mail_cname" in out:
        out["spf"] = dict(out["mail_cname"])
    return out
