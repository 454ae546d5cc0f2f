"""/v3/ips (the caller's dedicated IPs) and /v3/partners/accounts/{id}/ips (IP provisioning)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.accounts.partners import schemas as partner_schemas
from app.accounts.partners import service as partners
from app.accounts.partners.deps import PartnerDep
from app.ips import schemas
from app.ips import service as ips
from app.kernel.deps import JsonBody, SessionDep, SettingsDep, optional_int, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal
from app.kernel.timestamps import epoch

router = APIRouter(tags=["IP Addresses"])

Reader = Annotated[Principal, Depends(scoped("ips.read"))]
AssignedReader = Annotated[Principal, Depends(scoped("ips.assigned.read"))]
Creator = Annotated[Principal, Depends(scoped("ips.create"))]
AccountId = Annotated[str, Path(alias="accountID", description="Twilio SendGrid account ID")]
ACCOUNT_IPS = "/v3/partners/accounts/{accountID}/ips"


def _ip(view: ips.IpView) -> schemas.Ip:
    row = view.row
    return schemas.Ip(
        ip=row.ip,
        subusers=view.subusers,
        pools=[],
        warmup=row.warmup,
        start_date=epoch(row.start_date),
        whitelabeled=False,
        assigned_at=epoch(row.assigned_at) or 0,
    )


@router.get("/v3/ips", response_model=list[schemas.Ip], responses=error_responses(400, 403))
def list_ips(
    session: SessionDep,
    principal: Reader,
    ip: Annotated[str | None, Query()] = None,
    exclude_whitelabels: Annotated[str | None, Query(description="Accepted; the mirror has no rDNS records")] = None,
    limit: Annotated[str | None, Query()] = None,
    offset: Annotated[str | None, Query()] = None,
    subuser: Annotated[str | None, Query()] = None,
    sort_by_direction: Annotated[str | None, Query()] = None,
) -> list[schemas.Ip]:
    """The account's IPs, in address order, with the subusers assigned to each."""
    views = ips.list_ips(
        session,
        principal,
        ip=ip,
        subuser=subuser,
        limit=optional_int(limit, field="limit") or 10,
        offset=optional_int(offset, field="offset", minimum=0) or 0,
        direction=sort_by_direction,
    )
    return [_ip(view) for view in views]


@router.post(
    "/v3/ips",
    status_code=201,
    response_model=schemas.IpsAdded,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.IpsAdd),
)
def add_ips(session: SessionDep, principal: Creator, body: JsonBody, settings: SettingsDep) -> schemas.IpsAdded:
    """Allocate IPs from the mirror's pool (SGMIRROR_IP_POOL), optionally assigned to subusers."""
    fields = body if isinstance(body, dict) else {}
    added = ips.add_ips(
        session,
        principal,
        count=fields.get("count"),
        subusers=fields.get("subusers"),
        warmup=fields.get("warmup"),
        pool=settings.ip_pool,
    )
    return schemas.IpsAdded(
        ips=[schemas.AddedIp(ip=v.row.ip, subusers=v.subusers) for v in added.ips],
        remaining_ips=added.remaining,
        warmup=bool(fields.get("warmup")),
    )


@router.get("/v3/ips/assigned", response_model=list[schemas.AssignedIp], responses=error_responses(403))
def list_assigned_ips(session: SessionDep, principal: AssignedReader) -> list[schemas.AssignedIp]:
    """Every IP assigned to the account."""
    return [
        schemas.AssignedIp(ip=row.ip, pools=[], warmup=row.warmup, start_date=epoch(row.start_date))
        for row in ips.assigned_ips(session, principal)
    ]


@router.get("/v3/ips/{ip_address}", response_model=schemas.IpDetail, responses=error_responses(403, 404))
def get_ip(session: SessionDep, principal: Reader, ip_address: str) -> schemas.IpDetail:
    """One of the account's IPs."""
    return schemas.IpDetail(**_ip(ips.get_ip(session, principal, ip_address)).model_dump(), rdns="")


@router.get(
    ACCOUNT_IPS,
    response_model=partner_schemas.AccountIpList,
    response_model_exclude_none=True,
    responses=error_responses(400, 403, 404),
    tags=["IP Provisioning"],
)
def list_account_ips(
    session: SessionDep,
    partner: PartnerDep,
    account_id: AccountId,
    limit: Annotated[str | None, Query(description="Page size, 1 to 5000 (default 10)")] = None,
    offset: Annotated[str | None, Query(description="The last IP of the previous page")] = None,
) -> partner_schemas.AccountIpList:
    """A customer's IPs, most recently added first."""
    account = partners.customer(session, partner, account_id)
    rows, last = ips.account_ips(session, account, limit=limit, offset=offset)
    return partner_schemas.AccountIpList.model_validate(
        {"result": [{"ip": r.ip, "region": r.region} for r in rows], "pages": {"last": last}}
    )


@router.post(
    ACCOUNT_IPS,
    status_code=201,
    response_model=partner_schemas.AccountIpsAdded,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(partner_schemas.AccountIpsAdd),
    tags=["IP Provisioning"],
)
def add_account_ips(
    session: SessionDep, partner: PartnerDep, account_id: AccountId, body: JsonBody, settings: SettingsDep
) -> partner_schemas.AccountIpsAdded:
    """Allocate up to ten IPs of one region to a customer account."""
    account = partners.customer(session, partner, account_id)
    fields = body if isinstance(body, dict) else {}
    rows = ips.add_account_ips(
        session, account, count=fields.get("count"), region=fields.get("region"), pool=settings.ip_pool
    )
    return partner_schemas.AccountIpsAdded.model_validate({"ips": [r.ip for r in rows], "region": rows[0].region})


@router.delete(
    ACCOUNT_IPS,
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(partner_schemas.AccountIpsRemove),
    tags=["IP Provisioning"],
)
def remove_account_ips(session: SessionDep, partner: PartnerDep, account_id: AccountId, body: JsonBody) -> Response:
    """Return IPs of a customer account to the pool."""
    account = partners.customer(session, partner, account_id)
    ips.remove_account_ips(session, account, body.get("ips") if isinstance(body, dict) else None)
    return Response(status_code=204)
