"""/v3/partners: Account Provisioning (accounts, state, offerings, SSO); partner keys only, family-B errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from app.accounts.models import Account
from app.accounts.partners import rules as provisioning
from app.accounts.partners import schemas
from app.accounts.partners import service as partners
from app.accounts.partners.deps import PartnerDep
from app.console import router as console
from app.kernel.deps import JsonBody, SessionDep
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.timestamps import rfc3339

router = APIRouter(tags=["Account Provisioning"])

AccountId = Annotated[str, Path(alias="accountID", description="Twilio SendGrid account ID")]
ACCOUNT = "/v3/partners/accounts/{accountID}"


def _summary(account: Account) -> schemas.AccountSummary:
    return schemas.AccountSummary(
        id=account.id,
        email=account.email,
        created_at=rfc3339(account.created_at),
        updated_at=rfc3339(account.updated_at),
    )


def _offerings(offerings: list[dict[str, object]]) -> schemas.OfferingList:
    return schemas.OfferingList.model_validate({"offerings": offerings})


@router.get(
    "/v3/partners/accounts",
    response_model=schemas.AccountList,
    response_model_exclude_none=True,
    responses=error_responses(400, 403),
)
def list_accounts(
    session: SessionDep,
    partner: PartnerDep,
    offset: Annotated[str | None, Query(description="The last account id of the previous page")] = None,
    limit: Annotated[str | None, Query(description="Page size, 1 to 100 (default 10)")] = None,
) -> schemas.AccountList:
    """The partner's customer accounts, paged by account id."""
    page = partners.list_accounts(session, partner, offset=offset, limit=limit)
    return schemas.AccountList(accounts=[_summary(a) for a in page.accounts], pages=schemas.Pagination(last=page.last))


@router.post(
    "/v3/partners/accounts",
    status_code=201,
    response_model=schemas.AccountId,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.AccountCreate),
)
def create_account(
    session: SessionDep,
    partner: PartnerDep,
    body: JsonBody,
    test_account: Annotated[str | None, Header(alias="T-Test-Account", description="Marks a test account")] = None,
) -> schemas.AccountId:
    """Create an activated customer account with a profile and offerings."""
    account = partners.create_account(session, partner, body, test_header=test_account)
    return schemas.AccountId(account_id=account.id)


@router.delete(ACCOUNT, status_code=204, response_class=Response, responses=error_responses(403, 404))
def delete_account(session: SessionDep, partner: PartnerDep, account_id: AccountId) -> Response:
    """Delete an account for good: its keys, SSO, subusers and IPs go with it."""
    partners.delete_account(session, partner, account_id)
    return Response(status_code=204)


@router.get(f"{ACCOUNT}/state", response_model=schemas.StateRead, responses=error_responses(403, 404))
def get_account_state(session: SessionDep, partner: PartnerDep, account_id: AccountId) -> schemas.StateRead:
    """The account's state."""
    account = partners.customer(session, partner, account_id)
    return schemas.StateRead.model_validate({"state": account.state})


@router.put(
    f"{ACCOUNT}/state",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.StateWrite),
)
def update_account_state(session: SessionDep, partner: PartnerDep, account_id: AccountId, body: JsonBody) -> Response:
    """Activate or deactivate an account; the state's effects apply in the same transaction."""
    partners.set_state(session, partner, account_id, body)
    return Response(status_code=204)


@router.get("/v3/partners/offerings", response_model=schemas.Catalog, responses=error_responses(403))
def list_offerings(partner: PartnerDep) -> schemas.Catalog:
    """The offerings catalog with each offering's entitlements."""
    return schemas.Catalog.model_validate(
        {
            "catalog": [
                {"offering": {"name": o.name, "type": o.type, "quantity": 1}, "entitlements": o}
                for o in provisioning.CATALOG
            ]
        },
        from_attributes=True,
    )


@router.get(f"{ACCOUNT}/offerings", response_model=schemas.OfferingList, responses=error_responses(403, 404))
def get_account_offerings(session: SessionDep, partner: PartnerDep, account_id: AccountId) -> schemas.OfferingList:
    """The account's offerings."""
    return _offerings(partners.customer(session, partner, account_id).offerings)


@router.put(
    f"{ACCOUNT}/offerings",
    response_model=schemas.OfferingList,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.OfferingList),
)
def update_account_offerings(
    session: SessionDep, partner: PartnerDep, account_id: AccountId, body: JsonBody
) -> schemas.OfferingList:
    """Replace the account's offerings (one package at most)."""
    return _offerings(partners.set_offerings(session, partner, account_id, body))


@router.post(
    f"{ACCOUNT}/sso",
    status_code=303,
    response_class=Response,
    responses={
        303: {"description": "Redirect to the mirror console with a one-time code"},
        **error_responses(403, 404),
    },
)
def authenticate_account(session: SessionDep, partner: PartnerDep, account_id: AccountId, request: Request) -> Response:
    """Redirect to a console link carrying a single-use code valid for 60 seconds."""
    code = partners.start_sso(session, partner, account_id)
    return Response(status_code=303, headers={"Location": console.sso_link(request, code)})
