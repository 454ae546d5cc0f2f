"""/v3/whitelabel/domains: authenticate domains, list, change, delete, the default, and validation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.accounts.models import Account
from app.clock import service as clock
from app.identity.domains import schemas
from app.identity.domains import service as domains
from app.kernel.config import Settings
from app.kernel.deps import JsonBody, SessionDep, optional_int, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal

router = APIRouter(tags=["Domain Authentication"])

Creator = Annotated[Principal, Depends(scoped("whitelabel.create"))]
Reader = Annotated[Principal, Depends(scoped("whitelabel.read"))]
Updater = Annotated[Principal, Depends(scoped("whitelabel.update"))]
Deleter = Annotated[Principal, Depends(scoped("whitelabel.delete"))]


def _view(owned: domains.Owned) -> schemas.AuthenticatedDomain:
    row, account = owned.domain, owned.account
    attempt = row.last_validation_attempt_at
    return schemas.AuthenticatedDomain.model_validate(
        {
            "id": row.id, "user_id": account.user_id or 0, "subdomain": row.subdomain, "domain": row.domain,
            "username": account.username or account.email or "", "ips": row.ips, "custom_spf": row.custom_spf,
            "default": row.is_default, "legacy": False, "automatic_security": row.automatic_security,
            "valid": row.valid, "dns": row.dns,
            "last_validation_attempt_at": int(attempt.timestamp()) if attempt else None,
        }
    )  # fmt: skip


def _sendgrid_net(account: Account) -> schemas.AuthenticatedDomain:
    """SendGrid's own domain: what mail is signed with when no authenticated domain applies."""
    return schemas.AuthenticatedDomain(
        id=0, user_id=account.user_id or 0, subdomain="", domain="sendgrid.net", username=account.username or "",
        ips=[], custom_spf=False, default=True, legacy=False, automatic_security=False, valid=True, dns={},
    )  # fmt: skip


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@router.post(
    "/v3/whitelabel/domains",
    status_code=201,
    response_model=schemas.AuthenticatedDomain,
    response_model_exclude_none=True,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.DomainCreate),
)
def authenticate_domain(session: SessionDep, principal: Creator, body: JsonBody) -> schemas.AuthenticatedDomain:
    """Authenticate a domain: the answer lists the DNS records to publish before /validate."""
    return _view(domains.create(session, principal, body))


@router.get(
    "/v3/whitelabel/domains",
    response_model=list[schemas.AuthenticatedDomain],
    response_model_exclude_none=True,
    responses=error_responses(400, 403),
)
def list_authenticated_domains(
    session: SessionDep,
    principal: Reader,
    limit: Annotated[str | None, Query()] = None,
    offset: Annotated[str | None, Query()] = None,
    exclude_subusers: Annotated[str | None, Query()] = None,
    username: Annotated[str | None, Query()] = None,
    domain: Annotated[str | None, Query()] = None,
) -> list[schemas.AuthenticatedDomain]:
    """The caller's domains and its subusers' (a bare array, oldest first)."""
    found = domains.list_domains(
        session,
        principal,
        limit=optional_int(limit, field="limit"),
        offset=optional_int(offset, field="offset", minimum=0) or 0,
        exclude_subusers=_is_true(exclude_subusers),
        username=username,
        domain=domain,
    )
    return [_view(owned) for owned in found]


@router.get(
    "/v3/whitelabel/domains/default",
    response_model=schemas.AuthenticatedDomain,
    response_model_exclude_none=True,
    responses=error_responses(403),
)
def get_default_authenticated_domain(
    session: SessionDep, principal: Reader, domain: Annotated[str | None, Query()] = None
) -> schemas.AuthenticatedDomain:
    """The domain matching `domain`, else the default one, else sendgrid.net (a single object)."""
    found = domains.default_domain(session, principal, domain)
    if found is None:
        return _sendgrid_net(domains.account_of(session, principal))
    return _view(found)


@router.get(
    "/v3/whitelabel/domains/{domain_id}",
    response_model=schemas.AuthenticatedDomain,
    response_model_exclude_none=True,
    responses=error_responses(403, 404),
)
def get_authenticated_domain(session: SessionDep, principal: Reader, domain_id: str) -> schemas.AuthenticatedDomain:
    """One authenticated domain with its records."""
    return _view(domains.get(session, principal, domain_id))


@router.patch(
    "/v3/whitelabel/domains/{domain_id}",
    response_model=schemas.AuthenticatedDomain,
    response_model_exclude_none=True,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.DomainUpdate),
)
def update_authenticated_domain(
    session: SessionDep, principal: Updater, domain_id: str, body: JsonBody
) -> schemas.AuthenticatedDomain:
    """Make a domain the default, or switch custom SPF (manual security only); a single object."""
    return _view(domains.update_domain(session, principal, domain_id, body))


@router.delete(
    "/v3/whitelabel/domains/{domain_id}", status_code=204, response_class=Response, responses=error_responses(403, 404)
)
def delete_authenticated_domain(session: SessionDep, principal: Deleter, domain_id: str) -> Response:
    """Delete an authenticated domain; mail from it needs a verified sender again."""
    domains.delete(session, principal, domain_id)
    return Response(status_code=204)


@router.post(
    "/v3/whitelabel/domains/{id}/validate",
    response_model=schemas.DomainValidation,
    responses=error_responses(403, 404),
)
async def validate_authenticated_domain(request: Request, principal: Updater, id: str) -> schemas.DomainValidation:
    """Check the records (per SGMIRROR_DOMAIN_VALIDATION); a valid domain may send at once."""
    settings: Settings = request.app.state.settings
    db = request.app.state.db
    result = await domains.validate(
        db, principal, id, mode=settings.domain_validation, resolver=settings.dns_resolver, now=clock.now(db)
    )
    return schemas.DomainValidation.model_validate(
        {"id": result.id, "valid": result.valid, "validation_results": result.results}
    )
