"""IP address bodies (GET /v3/ips and friends)."""

from __future__ import annotations

from pydantic import BaseModel


class Ip(BaseModel):
    ip: str
    subusers: list[str]
    pools: list[str]
    warmup: bool
    start_date: int | None
    whitelabeled: bool
    assigned_at: int


class IpDetail(Ip):
    """GET /v3/ips/{ip_address} always names the reverse DNS record ("" while none is set up)."""

    rdns: str


class AssignedIp(BaseModel):
    ip: str
    pools: list[str]
    warmup: bool
    start_date: int | None


class IpsAdd(BaseModel):
    count: int
    subusers: list[str] | None = None
    warmup: bool | None = None


class AddedIp(BaseModel):
    ip: str
    subusers: list[str]


class IpsAdded(BaseModel):
    ips: list[AddedIp]
    remaining_ips: int
    warmup: bool
