"""/v3/subusers: list, create, enable/disable, delete, and the IPs a subuser sends from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.accounts.models import Account
from app.accounts.subusers import schemas
from app.accounts.subusers import service as subusers
from app.kernel.deps import JsonBody, SessionDep, optional_int, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal

router = APIRouter(tags=["Subusers"])

Creator = Annotated[Principal, Depends(scoped("subusers.create"))]
Reader = Annotated[Principal, Depends(scoped("subusers.read"))]
Updater = Annotated[Principal, Depends(scoped("subusers.update"))]
Deleter = Annotated[Principal, Depends(scoped("subusers.delete"))]


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _listed(account: Account, include_region: bool) -> schemas.Subuser:
    return schemas.Subuser.model_validate(
        {
            "id": account.user_id,
            "username": account.username,
            "email": account.email or "",
            "disabled": account.disabled,
            "region": account.region if include_region else None,
        }
    )


@router.get(
    "/v3/subusers",
    response_model=list[schemas.Subuser],
    response_model_exclude_none=True,
    responses=error_responses(400, 403),
)
def list_subusers(
    session: SessionDep,
    principal: Reader,
    username: Annotated[str | None, Query()] = None,
    limit: Annotated[str | None, Query()] = None,
    offset: Annotated[str | None, Query()] = None,
    region: Annotated[str, Query()] = "all",
    include_region: Annotated[str | None, Query()] = None,
) -> list[schemas.Subuser]:
    """The caller's subusers as a bare array."""
    found = subusers.list_subusers(
        session,
        principal,
        username=username,
        region=region,
        limit=optional_int(limit, field="limit"),
        offset=optional_int(offset, field="offset", minimum=0) or 0,
    )
    return [_listed(account, _is_true(include_region)) for account in found]


@router.post(
    "/v3/subusers",
    response_model=schemas.SubuserCreated,
    response_model_exclude_none=True,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.SubuserCreate),
)
def create_subuser(session: SessionDep, principal: Creator, body: JsonBody) -> schemas.SubuserCreated:
    """Create a subuser (200, as SendGrid answers)."""
    account = subusers.create(session, principal, body)
    include_region = isinstance(body, dict) and body.get("include_region") is True
    return schemas.SubuserCreated.model_validate(
        {
            "username": account.username,
            "user_id": account.user_id,
            "email": account.email,
            "credit_allocation": {"type": "unlimited"},
            "signup_session_token": "",
            "authorization_token": "",
            "region": account.region if include_region else None,
        }
    )


@router.patch(
    "/v3/subusers/{subuser_name}",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.SubuserUpdate),
)
def update_subuser(session: SessionDep, principal: Updater, subuser_name: str, body: JsonBody) -> Response:
    """Enable or disable a subuser."""
    subusers.set_disabled(session, principal, subuser_name, body)
    return Response(status_code=204)


@router.delete(
    "/v3/subusers/{subuser_name}", status_code=204, response_class=Response, responses=error_responses(403, 404)
)
def delete_subuser(session: SessionDep, principal: Deleter, subuser_name: str) -> Response:
    """Delete a subuser with its keys."""
    subusers.delete(session, principal, subuser_name)
    return Response(status_code=204)


@router.put(
    "/v3/subusers/{subuser_name}/ips",
    response_model=schemas.SubuserIps,
    responses=error_responses(400, 403, 404),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}},
        }
    },
)
def update_subuser_ips(
    session: SessionDep, principal: Updater, subuser_name: str, body: JsonBody
) -> schemas.SubuserIps:
    """Replace the parent IPs a subuser sends from."""
    return schemas.SubuserIps(ips=subusers.replace_ips(session, principal, subuser_name, body))
