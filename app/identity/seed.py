"""Seed files declare sender identities already in place: verified senders and validated domains."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.accounts.partners import rules as provisioning
from app.identity.domains import service as domains
from app.identity.senders import service as verified_senders
from app.kernel.errors import BadRequest


def apply(session: Session, account: Account, entry: dict[str, Any]) -> None:
    """`verified_senders: [addr | {from_email, ...}]` and `domains: [name | {domain, subdomain, default}]`."""
    for item in _listed(entry, "verified_senders"):
        fields = item if isinstance(item, dict) else {"from_email": item}
        if not isinstance(fields.get("from_email"), str):
            raise BadRequest("verified_senders entries need a from_email", field="verified_senders")
        verified_senders.seed_verified(session, account_id=account.id, entry=fields)
    for item in _listed(entry, "domains"):
        fields = item if isinstance(item, dict) else {"domain": item}
        if not isinstance(fields.get("domain"), str):
            raise BadRequest("domains entries need a domain", field="domains")
        domains.seed_valid(session, account=account, entry=fields)


def _listed(entry: dict[str, Any], name: str) -> list[Any]:
    value = entry.get(name) or []
    if not isinstance(value, list):
        raise BadRequest(f"{name} is a list", field=name)
    return value


def give_plan(account: Account, plan: str) -> None:
    """Make `plan` the account's package offering, keeping its add-ons (SGMIRROR_DEFAULT_PLAN)."""
    offerings, errors = provisioning.validate_offerings([{"name": plan, "type": "package"}])
    if errors:
        raise BadRequest(f"SGMIRROR_DEFAULT_PLAN: {errors[0].message}", field="default_plan")
    addons = [o for o in account.offerings if o.get("type") != "package"]
    if [o for o in account.offerings if o.get("type") == "package"] != offerings:
        account.offerings = offerings + addons
