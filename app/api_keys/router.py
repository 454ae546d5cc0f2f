"""/v3/api_keys and /v3/scopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api_keys import schemas
from app.api_keys import service as api_keys
from app.api_keys.models import ApiKey
from app.kernel.deps import JsonBody, SessionDep, optional_int, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal

router = APIRouter(tags=["API Keys"])

Creator = Annotated[Principal, Depends(scoped("api_keys.create"))]
Reader = Annotated[Principal, Depends(scoped("api_keys.read"))]
Updater = Annotated[Principal, Depends(scoped("api_keys.update"))]
Deleter = Annotated[Principal, Depends(scoped("api_keys.delete"))]
AnyKey = Annotated[Principal, Depends(scoped(None))]


def _field(body: object, name: str) -> object:
    return body.get(name) if isinstance(body, dict) else None


def _with_scopes(key: ApiKey) -> schemas.ApiKeyWithScopes:
    return schemas.ApiKeyWithScopes(api_key_id=key.id, name=key.name, scopes=key.scopes)


@router.post(
    "/v3/api_keys",
    status_code=201,
    response_model=schemas.ApiKeyCreated,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.ApiKeyCreate),
)
def create_api_key(session: SessionDep, principal: Creator, body: JsonBody) -> schemas.ApiKeyCreated:
    """Create a key; the response is the only time its secret is shown."""
    created = api_keys.create(session, principal, name=_field(body, "name"), requested_scopes=_field(body, "scopes"))
    key = created.key
    return schemas.ApiKeyCreated(api_key=created.raw, api_key_id=key.id, name=key.name, scopes=key.scopes)


@router.get("/v3/api_keys", response_model=schemas.ApiKeyList, responses=error_responses(400, 403))
def list_api_keys(
    session: SessionDep, principal: Reader, limit: Annotated[str | None, Query()] = None
) -> schemas.ApiKeyList:
    """The account's keys, oldest first."""
    keys = api_keys.list_keys(session, principal, limit=optional_int(limit, field="limit"))
    return schemas.ApiKeyList(result=[schemas.ApiKeySummary(api_key_id=k.id, name=k.name) for k in keys])


@router.get("/v3/api_keys/{api_key_id}", response_model=schemas.ApiKeyWithScopes, responses=error_responses(403, 404))
def get_api_key(session: SessionDep, principal: Reader, api_key_id: str) -> schemas.ApiKeyWithScopes:
    """One key with its scopes, as a flat object (what real clients decode)."""
    return _with_scopes(api_keys.get(session, principal, api_key_id))


@router.patch(
    "/v3/api_keys/{api_key_id}",
    response_model=schemas.ApiKeySummary,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.ApiKeyRename),
)
def rename_api_key(session: SessionDep, principal: Updater, api_key_id: str, body: JsonBody) -> schemas.ApiKeySummary:
    """Rename a key; its scopes are untouched."""
    key = api_keys.rename(session, principal, api_key_id, name=_field(body, "name"))
    return schemas.ApiKeySummary(api_key_id=key.id, name=key.name)


@router.put(
    "/v3/api_keys/{api_key_id}",
    response_model=schemas.ApiKeyWithScopes,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.ApiKeyReplace),
)
def replace_api_key(
    session: SessionDep, principal: Updater, api_key_id: str, body: JsonBody
) -> schemas.ApiKeyWithScopes:
    """Replace a key's name and its whole scope set."""
    key = api_keys.replace(
        session, principal, api_key_id, name=_field(body, "name"), requested_scopes=_field(body, "scopes")
    )
    return _with_scopes(key)


@router.delete(
    "/v3/api_keys/{api_key_id}", status_code=204, response_class=Response, responses=error_responses(403, 404)
)
def delete_api_key(session: SessionDep, principal: Deleter, api_key_id: str) -> Response:
    """Revoke a key at once."""
    api_keys.delete(session, principal, api_key_id)
    return Response(status_code=204)


@router.get("/v3/scopes", response_model=schemas.ScopeList, responses=error_responses(403))
def list_scopes(principal: AnyKey) -> schemas.ScopeList:
    """The scopes of the calling key."""
    return schemas.ScopeList(scopes=sorted(principal.scopes))
