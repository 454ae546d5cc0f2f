"""/v3/asm: unsubscribe groups, their suppressions, and the global unsubscribe list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.clock import service as clock
from app.kernel.db.base import as_utc
from app.kernel.db.session import Database
from app.kernel.deps import JsonBody, SessionDep, get_database, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal
from app.suppressions import groups as suppression_groups
from app.suppressions import lists as suppression_lists
from app.suppressions import request_rules as requests
from app.suppressions import schemas
from app.suppressions.groups import GroupView
from app.suppressions.models import AsmGroup
from app.suppressions.rules import address_key

router = APIRouter(tags=["Suppressions: Unsubscribe Groups"])

DatabaseDep = Annotated[Database, Depends(get_database)]
GroupCreator = Annotated[Principal, Depends(scoped("asm.groups.create"))]
GroupReader = Annotated[Principal, Depends(scoped("asm.groups.read"))]
GroupUpdater = Annotated[Principal, Depends(scoped("asm.groups.update"))]
GroupDeleter = Annotated[Principal, Depends(scoped("asm.groups.delete"))]
EntryCreator = Annotated[Principal, Depends(scoped("asm.groups.suppressions.create"))]
EntryReader = Annotated[Principal, Depends(scoped("asm.groups.suppressions.read"))]
EntryDeleter = Annotated[Principal, Depends(scoped("asm.groups.suppressions.delete"))]
GlobalCreator = Annotated[Principal, Depends(scoped("asm.suppressions.global.create"))]
GlobalReader = Annotated[Principal, Depends(scoped("asm.suppressions.global.read"))]
GlobalDeleter = Annotated[Principal, Depends(scoped("asm.suppressions.global.delete"))]

GROUP = "/v3/asm/groups/{group_id}"


def _sent_at(group: AsmGroup) -> str | None:
    moment = group.last_email_sent_at
    return None if moment is None else as_utc(moment).strftime("%Y-%m-%d %H:%M:%S")


def _group(view: GroupView) -> schemas.Group:
    g = view.group
    return schemas.Group(
        id=g.id,
        name=g.name,
        description=g.description,
        last_email_sent_at=_sent_at(g),
        is_default=g.is_default,
        unsubscribes=view.unsubscribes,
    )


@router.post(
    "/v3/asm/groups",
    status_code=201,
    response_model=schemas.GroupCreated,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.GroupWrite),
)
def create_asm_group(
    session: SessionDep, db: DatabaseDep, principal: GroupCreator, body: JsonBody
) -> schemas.GroupCreated:
    """Create a group (name unique in the account, at most 200 groups)."""
    g = suppression_groups.create(session, principal, requests.new_group(body), now=clock.now(db))
    return schemas.GroupCreated(
        id=g.id, name=g.name, description=g.description, last_email_sent_at=None, is_default=g.is_default
    )


@router.get("/v3/asm/groups", response_model=list[schemas.Group], responses=error_responses(400, 403))
def list_asm_groups(
    session: SessionDep, principal: GroupReader, id: Annotated[list[str] | None, Query()] = None
) -> list[schemas.Group]:
    """The account's groups, or those named by `id` (repeatable)."""
    ids = [n for n in (requests.group_id(raw) for raw in id or []) if n is not None]
    if id and not ids:
        return []
    return [_group(view) for view in suppression_groups.list_groups(session, principal, ids)]


@router.get(GROUP, response_model=schemas.Group, responses=error_responses(403, 404))
def get_asm_group(session: SessionDep, principal: GroupReader, group_id: str) -> schemas.Group:
    """One group with its unsubscribe count."""
    return _group(suppression_groups.get(session, principal, group_id))


@router.patch(
    GROUP,
    status_code=201,
    response_model=schemas.Group,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.GroupWrite),
)
def update_asm_group(session: SessionDep, principal: GroupUpdater, group_id: str, body: JsonBody) -> schemas.Group:
    """Change a group's name, description or default flag (SendGrid answers 201)."""
    fields = requests.group_fields(body)
    return _group(suppression_groups.update_group(session, principal, group_id, fields))


@router.delete(GROUP, status_code=204, response_class=Response, responses=error_responses(403, 404))
def delete_asm_group(session: SessionDep, principal: GroupDeleter, group_id: str) -> Response:
    """Delete a group; its unsubscribed addresses receive its mail again."""
    suppression_groups.delete_group(session, principal, group_id)
    return Response(status_code=204)


@router.post(
    f"{GROUP}/suppressions",
    status_code=201,
    response_model=schemas.RecipientEmails,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.RecipientEmails),
)
def add_asm_group_suppressions(
    session: SessionDep, db: DatabaseDep, principal: EntryCreator, group_id: str, body: JsonBody
) -> schemas.RecipientEmails:
    """Unsubscribe addresses from a group (an unknown group puts them on the global list)."""
    emails = requests.recipient_emails(body)
    added = suppression_groups.add_emails(session, principal, group_id, emails, now=clock.now(db))
    return schemas.RecipientEmails(recipient_emails=list(added))


@router.get(f"{GROUP}/suppressions", response_model=list[str], responses=error_responses(403, 404))
def list_asm_group_suppressions(session: SessionDep, principal: EntryReader, group_id: str) -> list[str]:
    """The addresses unsubscribed from a group."""
    return suppression_groups.list_emails(session, principal, group_id)


@router.post(
    f"{GROUP}/suppressions/search",
    response_model=list[str],
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.RecipientEmails),
)
def search_asm_group_suppressions(
    session: SessionDep, principal: EntryReader, group_id: str, body: JsonBody
) -> list[str]:
    """Those of the given addresses that are unsubscribed from the group."""
    return suppression_groups.search_emails(session, principal, group_id, requests.recipient_emails(body))


@router.delete(
    f"{GROUP}/suppressions/{{email}}", status_code=204, response_class=Response, responses=error_responses(403, 404)
)
def delete_asm_group_suppression(session: SessionDep, principal: EntryDeleter, group_id: str, email: str) -> Response:
    """Resubscribe an address to a group."""
    suppression_groups.remove_email(session, principal, group_id, email)
    return Response(status_code=204)


@router.get("/v3/asm/suppressions", response_model=list[schemas.GroupSuppression], responses=error_responses(403))
def list_asm_suppressions(session: SessionDep, principal: EntryReader) -> list[schemas.GroupSuppression]:
    """Every group unsubscribe of the account."""
    return [
        schemas.GroupSuppression(
            email=s.email,
            group_id=s.group.id,
            group_name=s.group.name,
            created_at=int(as_utc(s.created_at).timestamp()),
        )
        for s in suppression_groups.all_suppressions(session, principal)
    ]


@router.get("/v3/asm/suppressions/{email}", response_model=schemas.EmailGroups, responses=error_responses(403))
def get_asm_suppression(session: SessionDep, principal: EntryReader, email: str) -> schemas.EmailGroups:
    """Every group of the account, each saying whether `email` is unsubscribed from it."""
    return schemas.EmailGroups(
        suppressions=[
            schemas.EmailGroup(
                description=g.description, id=g.id, is_default=g.is_default, name=g.name, suppressed=suppressed
            )
            for g, suppressed in suppression_groups.groups_for_email(session, principal, email)
        ]
    )


@router.post(
    "/v3/asm/suppressions/global",
    status_code=201,
    response_model=schemas.RecipientEmails,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.RecipientEmails),
)
def add_global_suppressions(
    session: SessionDep, db: DatabaseDep, principal: GlobalCreator, body: JsonBody
) -> schemas.RecipientEmails:
    """Unsubscribe addresses from all mail of the account."""
    emails = requests.recipient_emails(body)
    suppression_lists.add_global(session, principal, emails, now=clock.now(db))
    return schemas.RecipientEmails(recipient_emails=list(emails))


@router.get(
    "/v3/asm/suppressions/global/{email}",
    response_model=schemas.GlobalSuppressionLookup,
    response_model_exclude_none=True,
    responses=error_responses(403),
)
def get_global_suppression(session: SessionDep, principal: GlobalReader, email: str) -> schemas.GlobalSuppressionLookup:
    """`{"recipient_email": ...}` when the address is globally unsubscribed, else `{}`."""
    found = suppression_lists.is_globally_unsubscribed(session, principal, email)
    return schemas.GlobalSuppressionLookup(recipient_email=address_key(email) if found else None)


@router.delete(
    "/v3/asm/suppressions/global/{email}", status_code=204, response_class=Response, responses=error_responses(403)
)
def delete_global_suppression(session: SessionDep, principal: GlobalDeleter, email: str) -> Response:
    """Take an address off the global list (204 whether or not it was there)."""
    suppression_lists.delete_global(session, principal, email)
    return Response(status_code=204)
