"""Domain authentication (`/v3/whitelabel/domains`): the records to publish, and validation by setting.

SGMIRROR_DOMAIN_VALIDATION decides what /validate finds: `auto` (every record present), `manual` (the
records an admin marked published under /_mirror/domains) or `dns` (real lookups). A parent sees and
manages its subusers' domains too; `username` on create authenticates a domain for a subuser.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.accounts import service as accounts
from app.accounts.models import Account
from app.identity.domains import dns_lookup, dns_records
from app.identity.models import AuthenticatedDomain
from app.kernel import row_ids
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, ErrorDetail, NotFound
from app.kernel.principal import Principal

MODES = ("auto", "manual", "dns")
REGIONS = ("global", "eu")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})+")
_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_SELECTOR = re.compile(r"[A-Za-z0-9]{3}")
_BOOLEANS = ("custom_spf", "default", "automatic_security")


@dataclass(frozen=True, slots=True)
class Owned:
    """A domain and the account it belongs to (for `user_id` and `username`)."""

    domain: AuthenticatedDomain
    account: Account


def create(session: Session, principal: Principal, body: Any) -> Owned:
    """Authenticate a domain: store it with the records to publish (not valid until validated)."""
    fields = body if isinstance(body, dict) else {}
    errors = _create_errors(fields)
    owner = _owner(session, principal, fields.get("username"), errors)
    domain, subdomain = str(fields.get("domain", "")).lower(), str(fields.get("subdomain") or _subdomain()).lower()
    accounts.serialize_account_writes(session, owner.id)
    if not errors and _exists(session, owner.id, domain, subdomain):
        errors.append(ErrorDetail("a domain authentication for this domain and subdomain already exists", "domain"))
    if errors:
        raise BadRequest(details=errors)
    row = AuthenticatedDomain(
        account_id=owner.id, domain=domain, subdomain=subdomain, ips=list(fields.get("ips") or []),
        custom_spf=bool(fields.get("custom_spf")), automatic_security=bool(fields.get("automatic_security")),
        custom_dkim_selector=fields.get("custom_dkim_selector"), region=fields.get("region") or "global",
        is_default=False, valid=False, published=[],
    )  # fmt: skip
    row.dns = _dns(row, owner)
    session.add(row)
    session.flush()
    if fields.get("default"):
        _make_default(session, row)
    return Owned(row, owner)


def _create_errors(fields: dict[str, Any]) -> list[ErrorDetail]:
    errors = []
    domain = fields.get("domain")
    if domain is None:
        errors.append(ErrorDetail("missing required argument", "domain"))
    elif not isinstance(domain, str) or not _DOMAIN.fullmatch(domain.lower()) or len(domain) > 253:
        errors.append(ErrorDetail("domain must be a valid domain name", "domain"))
    subdomain = fields.get("subdomain")
    if subdomain is not None and not (isinstance(subdomain, str) and _SUBDOMAIN.fullmatch(subdomain.lower())):
        errors.append(ErrorDetail("subdomain must be a valid host name", "subdomain"))
    errors += [ErrorDetail(f"{name} must be a boolean", name) for name in _BOOLEANS if not _bool_or_none(fields, name)]
    if not _valid_ips(fields.get("ips")):
        errors.append(ErrorDetail("ips must be an array of IPv4 addresses", "ips"))
    selector = fields.get("custom_dkim_selector")
    if selector is not None and not (isinstance(selector, str) and _SELECTOR.fullmatch(selector)):
        errors.append(ErrorDetail("custom_dkim_selector must be 3 letters or digits", "custom_dkim_selector"))
    if fields.get("region") is not None and fields.get("region") not in REGIONS:
        errors.append(ErrorDetail("region must be one of global, eu", "region"))
    if fields.get("custom_spf") is True and fields.get("automatic_security") is True:
        errors.append(_custom_spf_refused())
    return errors


def _bool_or_none(fields: dict[str, Any], name: str) -> bool:
    return fields.get(name) is None or isinstance(fields.get(name), bool)


def _valid_ips(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, list):
        return False
    try:
        return all(isinstance(ip, str) and ipaddress.IPv4Address(ip) for ip in value)
    except ValueError:
        return False


def _custom_spf_refused() -> ErrorDetail:
    return ErrorDetail("custom_spf is only available to domains set up for manual security", "custom_spf")


def _subdomain() -> str:
    """SendGrid's default return-path subdomain: `em` and four digits."""
    return f"em{1000 + secrets.randbelow(9000)}"


def account_of(session: Session, principal: Principal) -> Account:
    account = session.get(Account, principal.account_id)
    if account is None:
        raise NotFound()
    return account


def _owner(session: Session, principal: Principal, username: Any, errors: list[ErrorDetail]) -> Account:
    """The caller's account, or the subuser named by `username`."""
    account = account_of(session, principal)
    if username is None or username == account.username:
        return account
    if not isinstance(username, str):
        errors.append(ErrorDetail("username must be a string", "username"))
        return account
    subuser = session.scalar(
        select(Account).where(Account.username == username, Account.parent_id == account.id, Account.kind == "subuser")
    )
    if subuser is None:
        errors.append(ErrorDetail("username must be your own or one of your subusers'", "username"))
        return account
    return subuser


def _exists(session: Session, account_id: str, domain: str, subdomain: str) -> bool:
    found = session.scalar(
        select(AuthenticatedDomain.id).where(
            AuthenticatedDomain.account_id == account_id,
            AuthenticatedDomain.domain == domain,
            AuthenticatedDomain.subdomain == subdomain,
        )
    )
    return found is not None


def _dns(row: AuthenticatedDomain, owner: Account) -> dict[str, dns_records.Record]:
    return dns_records.records(
        domain=row.domain, subdomain=row.subdomain, user_id=owner.user_id or 0,
        automatic_security=row.automatic_security, custom_spf=row.custom_spf, ips=list(row.ips),
        selector=row.custom_dkim_selector,
    )  # fmt: skip


def _make_default(session: Session, row: AuthenticatedDomain) -> None:
    """`row` becomes its account's only default domain."""
    session.execute(
        update(AuthenticatedDomain)
        .where(AuthenticatedDomain.account_id == row.account_id, AuthenticatedDomain.id != row.id)
        .values(is_default=False)
    )
    row.is_default = True
    session.flush()


def _visible_accounts(session: Session, principal: Principal) -> dict[str, Account]:
    """The caller's account and its subusers, by id."""
    rows = session.scalars(
        select(Account).where((Account.id == principal.account_id) | (Account.parent_id == principal.account_id))
    )
    return {a.id: a for a in rows if a.id == principal.account_id or a.kind == "subuser"}


def list_domains(
    session: Session,
    principal: Principal,
    *,
    limit: int | None,
    offset: int,
    exclude_subusers: bool,
    username: str | None,
    domain: str | None,
) -> list[Owned]:
    """The caller's domains (and its subusers' unless excluded), oldest first."""
    owners = _visible_accounts(session, principal)
    ids = [principal.account_id] if exclude_subusers else list(owners)
    if username:
        ids = [i for i in ids if owners[i].username == username]
    query = select(AuthenticatedDomain).where(AuthenticatedDomain.account_id.in_(ids))
    if domain:
        query = query.where(func.lower(AuthenticatedDomain.domain).contains(domain.lower()))
    query = query.order_by(AuthenticatedDomain.id).offset(offset)
    rows = session.scalars(query if limit is None else query.limit(limit))
    return [Owned(row, owners[row.account_id]) for row in rows]


def get(session: Session, principal: Principal, domain_id: str) -> Owned:
    owners = _visible_accounts(session, principal)
    number = row_ids.parse_row_id(domain_id)
    row = session.get(AuthenticatedDomain, number) if number is not None else None
    if row is None or row.account_id not in owners:
        raise NotFound("authenticated domain not found")
    return Owned(row, owners[row.account_id])


def update_domain(session: Session, principal: Principal, domain_id: str, body: Any) -> Owned:
    """PATCH: `default` and `custom_spf` (manual security only)."""
    owned = get(session, principal, domain_id)
    fields = body if isinstance(body, dict) else {}
    errors = [
        ErrorDetail(f"{n} must be a boolean", n) for n in ("default", "custom_spf") if not _bool_or_none(fields, n)
    ]
    if not errors and fields.get("custom_spf") is not None and owned.domain.automatic_security:
        errors.append(_custom_spf_refused())
    if errors:
        raise BadRequest(details=errors)
    row = owned.domain
    if fields.get("custom_spf") is not None and fields["custom_spf"] != row.custom_spf:
        row.custom_spf = fields["custom_spf"]
        row.dns, row.valid, row.published = _dns(row, owned.account), False, []
    if fields.get("default") is True:
        _make_default(session, row)
    elif fields.get("default") is False:
        row.is_default = False
    session.flush()
    return owned


def delete(session: Session, principal: Principal, domain_id: str) -> None:
    session.delete(get(session, principal, domain_id).domain)
    session.flush()


def default_domain(session: Session, principal: Principal, domain: str | None) -> Owned | None:
    """The caller's domain matching `domain`, else its default; None means SendGrid's own sendgrid.net."""
    rows = session.scalars(
        select(AuthenticatedDomain)
        .where(AuthenticatedDomain.account_id == principal.account_id)
        .order_by(AuthenticatedDomain.id)
    ).all()
    account = account_of(session, principal)
    wanted = domain.lower() if domain else None
    found = next((r for r in rows if wanted and r.domain == wanted), None)
    found = found or next((r for r in rows if r.is_default), None)
    return Owned(found, account) if found is not None else None


def mark_published(session: Session, domain_id: int, *, present: bool, names: list[str] | None) -> AuthenticatedDomain:
    """Admin (manual mode): the named records (default: all) are, or are no longer, published."""
    row = session.get(AuthenticatedDomain, domain_id)
    if row is None:
        raise NotFound("authenticated domain not found")
    chosen = names if names is not None else list(row.dns)
    unknown = [n for n in chosen if n not in row.dns]
    if unknown:
        raise BadRequest(f"unknown record names: {', '.join(unknown)}; this domain has {', '.join(row.dns)}")
    kept = set(row.published)
    row.published = sorted(kept | set(chosen) if present else kept - set(chosen))
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Validation:
    id: int
    valid: bool
    results: dict[str, dict[str, Any]]


async def validate(
    db: Database, principal: Principal, domain_id: str, *, mode: str, resolver: str | None, now: datetime
) -> Validation:
    """Check each record (by the mode), store what was found, and answer /validate's body.

    DNS lookups run with no transaction open, so a slow resolver never holds SQLite's write lock.
    """
    row = await run_in_threadpool(_read, db, principal, domain_id)
    reasons = await run_in_threadpool(_check_all, row.dns, list(row.published), mode, resolver)
    await run_in_threadpool(_record, db, row.id, reasons, now)
    return Validation(row.id, all(r is None for r in reasons.values()), dns_records.results(row.dns, reasons))


def _read(db: Database, principal: Principal, domain_id: str) -> AuthenticatedDomain:
    with db.read_session() as session:
        return get(session, principal, domain_id).domain


def _record(db: Database, domain_id: int, reasons: dict[str, str | None], now: datetime) -> None:
    """Store what validation found: each record's `valid`, the domain's, and when it was tried."""
    with db.session() as session:
        stored = session.get(AuthenticatedDomain, domain_id)
        if stored is None:
            raise NotFound("authenticated domain not found")
        stored.dns = {name: {**record, "valid": reasons[name] is None} for name, record in stored.dns.items()}
        stored.valid = all(reason is None for reason in reasons.values())
        stored.last_validation_attempt_at = now


def _check_all(dns: dict[str, Any], published: list[str], mode: str, resolver: str | None) -> dict[str, str | None]:
    if mode == "auto":
        return {name: None for name in dns}
    if mode == "manual":
        missing = "The record has not been published (mark it with PUT /_mirror/domains/{id}/dns)."
        return {name: None if name in published else missing for name in dns}
    lookup = dns_lookup.resolver(resolver).lookup
    return {name: dns_records.check(record, lookup) for name, record in dns.items()}


def seed_valid(session: Session, *, account: Account, entry: dict[str, Any]) -> AuthenticatedDomain:
    """An authenticated, already valid domain from a seed file entry (`domain` required)."""
    fields = {"automatic_security": True, **entry}
    domain, subdomain = str(fields["domain"]).lower(), str(fields.get("subdomain") or "em1000").lower()
    found = session.scalar(
        select(AuthenticatedDomain).where(
            AuthenticatedDomain.account_id == account.id, AuthenticatedDomain.domain == domain
        )
    )
    row = found or AuthenticatedDomain(
        account_id=account.id, domain=domain, subdomain=subdomain, ips=[], custom_spf=False, is_default=False,
        automatic_security=bool(fields["automatic_security"]), region="global", published=[],
    )  # fmt: skip
    row.dns = {name: {**record, "valid": True} for name, record in _dns(row, account).items()}
    row.valid = True
    session.add(row)
    session.flush()
    if fields.get("default"):
        _make_default(session, row)
    return row
