"""Dedicated IPs: allocated from the configured pool, owned by an account, assigned to its subusers."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.accounts.partners import rules as provisioning
from app.accounts.state import Capability
from app.ips.models import IpAddress, IpSubuser
from app.kernel.db.base import utcnow
from app.kernel.errors import BadRequest, Forbidden, NotFound
from app.kernel.principal import Principal

SUBUSER_IPS_INVALID = "unable to validate IPs at this time"
MAX_PER_REQUEST = 10
PARTNER_PAGE_MAX = 5000


@dataclass(frozen=True, slots=True)
class IpView:
    """An IP with the usernames of the subusers that may send from it."""

    row: IpAddress
    subusers: list[str]


@dataclass(frozen=True, slots=True)
class Added:
    """What POST /v3/ips allocated, and how many pool addresses are left."""

    ips: list[IpView]
    remaining: int


def _host_range(pool: str) -> tuple[int, int]:
    """First and last usable address of the pool as integers (network and broadcast excluded)."""
    network = ipaddress.IPv4Network(pool, strict=False)
    if network.prefixlen >= 31:
        return int(network[0]), int(network[-1])
    return int(network[0]) + 1, int(network[-1]) - 1


def free_count(session: Session, *, pool: str) -> int:
    """How many addresses of the pool no account holds."""
    low, high = _host_range(pool)
    used = session.scalar(select(func.count()).select_from(IpAddress).where(IpAddress.number.between(low, high)))
    return high - low + 1 - (used or 0)


def allocate(
    session: Session, *, account_id: str, count: int, pool: str, region: str = "us", warmup: bool = False
) -> list[IpAddress]:
    """Take `count` free addresses from the pool, lowest first; 400 when the pool runs dry."""
    available = free_count(session, pool=pool)
    if available < count:
        raise _pool_exhausted(count, available)
    claimed: list[IpAddress] = []
    for address in _free_hosts(session, pool):
        if len(claimed) == count:
            break
        row = _claim(session, address, account_id=account_id, region=region, warmup=warmup)
        if row is not None:
            claimed.append(row)
    if len(claimed) < count:
        raise _pool_exhausted(count, len(claimed))
    return claimed


def _pool_exhausted(count: int, available: int) -> BadRequest:
    message = f"Not enough free IP addresses in the pool: {count} requested, {available} available"
    return BadRequest(message, field="count", error_id=provisioning.RANGE)


def _free_hosts(session: Session, pool: str) -> Iterator[ipaddress.IPv4Address]:
    low, high = _host_range(pool)
    taken = set(session.scalars(select(IpAddress.number).where(IpAddress.number.between(low, high))))
    return (ipaddress.IPv4Address(n) for n in range(low, high + 1) if n not in taken)


def _claim(
    session: Session, address: ipaddress.IPv4Address, *, account_id: str, region: str, warmup: bool
) -> IpAddress | None:
    # A concurrent request may claim the same address first: the savepoint keeps our transaction alive.
    now = utcnow()
    row = IpAddress(
        ip=str(address),
        number=int(address),
        account_id=account_id,
        region=region,
        warmup=warmup,
        start_date=now if warmup else None,
        assigned_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def claim_exact(session: Session, *, account_id: str, ip: str, warmup: bool = False) -> IpAddress:
    """Give an account one named address (seed files); 400 when another account holds it."""
    address = ipaddress.IPv4Address(provisioning.parse_ipv4(ip, "ips"))
    existing = session.get(IpAddress, str(address))
    if existing is not None and existing.account_id == account_id:
        return existing
    row = None if existing else _claim(session, address, account_id=account_id, region="us", warmup=warmup)
    if row is None:
        raise BadRequest(f"IP {address} belongs to another account", field="ips")
    return row


def views(session: Session, rows: Iterable[IpAddress]) -> list[IpView]:
    """Attach the usernames of the subusers assigned to each IP."""
    rows = list(rows)
    pairs = session.execute(
        select(IpSubuser.ip, Account.username)
        .join(Account, IpSubuser.subuser_id == Account.id)
        .where(IpSubuser.ip.in_([r.ip for r in rows]))
        .order_by(Account.username)
    ).all()
    names: dict[str, list[str]] = {}
    for ip, username in pairs:
        names.setdefault(ip, []).append(username or "")
    return [IpView(row=r, subusers=names.get(r.ip, [])) for r in rows]


def _visible(principal: Principal) -> Select[IpAddress]:
    """The IPs a principal sees: its own, or for a subuser those assigned to it."""
    query = select(IpAddress)
    if principal.is_subuser:
        return query.join(IpSubuser, IpSubuser.ip == IpAddress.ip).where(IpSubuser.subuser_id == principal.account_id)
    return query.where(IpAddress.account_id == principal.account_id)


def list_ips(
    session: Session,
    principal: Principal,
    *,
    ip: str | None = None,
    subuser: str | None = None,
    limit: int = 10,
    offset: int = 0,
    direction: str | None = None,
) -> list[IpView]:
    """GET /v3/ips: the caller's IPs ordered by address, filtered and paged."""
    if direction not in (None, "asc", "desc"):
        raise BadRequest("sort_by_direction must be asc or desc", field="sort_by_direction")
    query = _visible(principal)
    if ip:
        query = query.where(IpAddress.ip == ip)
    if subuser:
        assigned = select(IpSubuser.ip).join(Account, IpSubuser.subuser_id == Account.id)
        query = query.where(IpAddress.ip.in_(assigned.where(Account.username == subuser)))
    order = IpAddress.number.desc() if direction == "desc" else IpAddress.number
    return views(session, session.scalars(query.order_by(order).limit(limit).offset(offset)))


def assigned_ips(session: Session, principal: Principal) -> list[IpAddress]:
    """GET /v3/ips/assigned: every IP the caller holds (the mirror holds only assigned IPs)."""
    return list(session.scalars(_visible(principal).order_by(IpAddress.number)))


def get_ip(session: Session, principal: Principal, ip: str) -> IpView:
    row = session.scalar(_visible(principal).where(IpAddress.ip == ip))
    if row is None:
        raise NotFound()
    return views(session, [row])[0]


def add_ips(
    session: Session, principal: Principal, *, count: object, subusers: object, warmup: object, pool: str
) -> Added:
    """POST /v3/ips: allocate IPs to the caller's account and assign them to the named subusers."""
    if principal.is_subuser:
        raise Forbidden()
    principal.require(Capability.MANAGE_IPS)
    wanted = _positive_int(count, "count")
    members = _own_subusers(session, principal.account_id, subusers)
    if warmup is not None and not isinstance(warmup, bool):
        raise BadRequest("warmup must be a boolean", field="warmup")
    rows = allocate(session, account_id=principal.account_id, count=wanted, pool=pool, warmup=bool(warmup))
    for row in rows:
        session.add_all(IpSubuser(ip=row.ip, subuser_id=member.id) for member in members)
    session.flush()
    return Added(ips=views(session, rows), remaining=free_count(session, pool=pool))


def _positive_int(value: object, field: str) -> int:
    if value is None:
        raise BadRequest("missing required argument", field=field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"{field} must be an integer of at least 1", field=field)
    return value


def _own_subusers(session: Session, parent_id: str, usernames: object) -> list[Account]:
    if usernames is None:
        return []
    names = usernames if isinstance(usernames, list) and all(isinstance(n, str) for n in usernames) else None
    if names is None:
        raise BadRequest("subusers must be an array of usernames", field="subusers")
    query = select(Account).where(
        Account.username.in_(names), Account.parent_id == parent_id, Account.kind == "subuser"
    )
    members = list(session.scalars(query))
    if len(members) != len(set(names)):
        raise BadRequest("one or more subusers do not belong to this user")
    return members


def assign_to_subuser(session: Session, *, parent_id: str, subuser_id: str, ips: object) -> list[str]:
    """Replace the parent IPs a subuser may send from; every address must be the parent's."""
    wanted = parent_ips(session, parent_id, ips)
    session.execute(delete(IpSubuser).where(IpSubuser.subuser_id == subuser_id))
    session.add_all(IpSubuser(ip=ip, subuser_id=subuser_id) for ip in wanted)
    session.flush()
    return wanted


def parent_ips(session: Session, parent_id: str, ips: object) -> list[str]:
    """The given addresses, deduplicated and ordered; 400 unless every one is the parent's."""
    if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
        raise BadRequest("ips must be an array of IPv4 addresses", field="ips")
    wanted = sorted(set(ips), key=ip_order)
    if _owned(session, parent_id, wanted) != set(wanted):
        raise BadRequest(SUBUSER_IPS_INVALID, field="ips")
    return wanted


def _owned(session: Session, account_id: str, ips: Iterable[str]) -> set[str]:
    query = select(IpAddress.ip).where(IpAddress.ip.in_(list(ips)), IpAddress.account_id == account_id)
    return set(session.scalars(query))


def ip_order(ip: str) -> tuple[int, str]:
    """Sort key: numeric address order (anything unparsable first)."""
    try:
        return (int(ipaddress.IPv4Address(ip)), ip)
    except ValueError:
        return (-1, ip)


def account_ips(
    session: Session, account: Account, *, limit: str | None, offset: str | None
) -> tuple[list[IpAddress], str | None]:
    """Partner view: newest first, after the `offset` IP; the second value is set when more follow."""
    size = provisioning.parse_limit(limit, default=10, maximum=PARTNER_PAGE_MAX)
    after = provisioning.parse_ipv4(offset, "offset") if offset else None
    rows = list(
        session.scalars(
            select(IpAddress)
            .where(IpAddress.account_id == account.id)
            .order_by(IpAddress.assigned_at.desc(), IpAddress.number.desc())
        )
    )
    if after is not None:
        position = [n for n, row in enumerate(rows) if row.ip == after]
        rows = rows[position[0] + 1 :] if position else []
    page = rows[:size]
    return page, page[-1].ip if len(rows) > size else None


def remove_account_ips(session: Session, account: Account, ips: object) -> None:
    """Partner DELETE: the named IPs return to the pool; all or nothing."""
    if not isinstance(ips, list) or not 1 <= len(ips) <= MAX_PER_REQUEST:
        message = f"Field must be an array of 1 to {MAX_PER_REQUEST} IP addresses"
        raise BadRequest(details=[provisioning.error(message, "ips", provisioning.RANGE)])
    wanted = {provisioning.parse_ipv4(ip, "ips") for ip in ips}
    missing = sorted(wanted - _owned(session, account.id, wanted), key=ip_order)
    if missing:
        detail = f"IP {missing[0]} is not assigned to this account"
        raise NotFound(details=[provisioning.error(detail, "ips", provisioning.NOT_FOUND)])
    session.execute(delete(IpAddress).where(IpAddress.ip.in_(wanted)))


def add_account_ips(session: Session, account: Account, *, count: object, region: object, pool: str) -> list[IpAddress]:
    """Partner POST: allocate up to ten IPs of one region to a customer account."""
    wanted = provisioning.required_int(count, "count", maximum=MAX_PER_REQUEST)
    where = provisioning.required_choice(region, "region", provisioning.IP_REGIONS)
    return allocate(session, account_id=account.id, count=wanted, pool=pool, region=where)
