"""/v3/templates and /v3/templates/{template_id}/versions: transactional templates and their versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.kernel.deps import JsonBody, SessionDep, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.principal import Principal
from app.templates import rules, schemas
from app.templates import service as templates
from app.templates.models import Template, TemplateVersion

router = APIRouter(tags=["Transactional Templates"])

Creator = Annotated[Principal, Depends(scoped("templates.create"))]
Reader = Annotated[Principal, Depends(scoped("templates.read"))]
Updater = Annotated[Principal, Depends(scoped("templates.update"))]
Deleter = Annotated[Principal, Depends(scoped("templates.delete"))]
VersionCreator = Annotated[Principal, Depends(scoped("templates.versions.create"))]
VersionReader = Annotated[Principal, Depends(scoped("templates.versions.read"))]
VersionUpdater = Annotated[Principal, Depends(scoped("templates.versions.update"))]
VersionDeleter = Annotated[Principal, Depends(scoped("templates.versions.delete"))]
Activator = Annotated[Principal, Depends(scoped("templates.versions.activate.create"))]

_VERSION_BODY = json_request_body(schemas.VersionWrite)


def _version(version: TemplateVersion) -> schemas.Version:
    return schemas.Version(
        id=version.id,
        template_id=version.template_id,
        active=int(version.active),
        name=version.name,
        html_content=version.html_content,
        plain_content=version.plain_content,
        generate_plain_content=version.generate_plain_content,
        subject=version.subject,
        updated_at=rules.timestamp(version.updated_at),
        editor=version.editor,
        test_data=version.test_data,
        thumbnail_url="",
    )


def _summary(version: TemplateVersion) -> schemas.VersionSummary:
    return schemas.VersionSummary.model_validate(_version(version).model_dump())


def _template(template: Template, versions: list[TemplateVersion]) -> schemas.Template:
    return schemas.Template(
        id=template.id,
        name=template.name,
        generation=template.generation,
        updated_at=rules.timestamp(template.updated_at),
        versions=[_version(v) for v in versions],
    )


def _listed(template: Template, versions: list[TemplateVersion]) -> schemas.TemplateListed:
    return schemas.TemplateListed(
        id=template.id,
        name=template.name,
        generation=template.generation,
        updated_at=rules.timestamp(template.updated_at),
        versions=[_summary(v) for v in versions],
    )


def _metadata(request: Request, page: templates.TemplatePage, size: int) -> schemas.PageMetadata:
    url = request.url
    following = page.offset + size
    previous = max(page.offset - size, 0)
    return schemas.PageMetadata(
        prev=str(url.include_query_params(page_token=rules.page_token(previous))) if page.offset else None,
        self_=str(url),
        next=str(url.include_query_params(page_token=rules.page_token(following))) if following < page.total else None,
        count=page.total,
    )


@router.get(
    "/v3/templates",
    response_model=schemas.TemplatePage | schemas.TemplateList,
    response_model_exclude_none=True,
    responses=error_responses(400, 403),
)
def list_templates(
    request: Request,
    session: SessionDep,
    principal: Reader,
    generations: Annotated[str | None, Query(description="`legacy` (default), `dynamic` or both")] = None,
    page_size: Annotated[str | None, Query(description="1 to 200")] = None,
    page_token: Annotated[str | None, Query()] = None,
) -> schemas.TemplatePage | schemas.TemplateList:
    """One page of templates with `_metadata` links (all of them as `templates` when `page_size` is absent)."""
    wanted, size = rules.generations(generations), rules.page_size(page_size)
    offset = rules.page_offset(page_token) if size is not None else 0
    page = templates.list_templates(session, principal, generations=wanted, offset=offset, limit=size)
    listed = [_listed(t, page.versions[t.id]) for t in page.templates]
    if size is None:
        return schemas.TemplateList(templates=listed)
    return schemas.TemplatePage(result=listed, metadata=_metadata(request, page, size))


@router.post(
    "/v3/templates",
    status_code=201,
    response_model=schemas.Template,
    response_model_exclude_none=True,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.TemplateCreate),
)
def create_template(session: SessionDep, principal: Creator, body: JsonBody) -> schemas.Template:
    """Create a legacy or dynamic template (no versions yet)."""
    return _template(templates.create(session, principal, body), [])


@router.get(
    "/v3/templates/{template_id}",
    response_model=schemas.Template,
    response_model_exclude_none=True,
    responses=error_responses(403, 404),
)
def get_template(session: SessionDep, principal: Reader, template_id: str) -> schemas.Template:
    """One template with all its versions."""
    template = templates.get(session, principal, template_id)
    return _template(template, templates.versions_of(session, [template.id])[template.id])


@router.patch(
    "/v3/templates/{template_id}",
    response_model=schemas.Template,
    response_model_exclude_none=True,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.TemplateUpdate),
)
def update_template(session: SessionDep, principal: Updater, template_id: str, body: JsonBody) -> schemas.Template:
    """Rename a template."""
    template = templates.rename(session, principal, template_id, body)
    return _template(template, templates.versions_of(session, [template.id])[template.id])


@router.post(
    "/v3/templates/{template_id}",
    status_code=201,
    response_model=schemas.Template,
    response_model_exclude_none=True,
    responses=error_responses(400, 403, 404),
    openapi_extra=json_request_body(schemas.TemplateUpdate, required=False),
)
def duplicate_template(session: SessionDep, principal: Creator, template_id: str, body: JsonBody) -> schemas.Template:
    """Copy a template and its versions under new ids."""
    copy = templates.duplicate(session, principal, template_id, body)
    return _template(copy, templates.versions_of(session, [copy.id])[copy.id])


@router.delete(
    "/v3/templates/{template_id}", status_code=204, response_class=Response, responses=error_responses(403, 404)
)
def delete_template(session: SessionDep, principal: Deleter, template_id: str) -> Response:
    """Delete a template with its versions."""
    templates.delete(session, principal, template_id)
    return Response(status_code=204)


@router.post(
    "/v3/templates/{template_id}/versions",
    status_code=201,
    response_model=schemas.Version,
    response_model_exclude_none=True,
    responses=error_responses(400, 403, 404),
    openapi_extra=_VERSION_BODY,
)
def create_version(session: SessionDep, principal: VersionCreator, template_id: str, body: JsonBody) -> schemas.Version:
    """Add a version (the first one becomes active)."""
    return _version(templates.create_version(session, principal, template_id, body))


@router.get(
    "/v3/templates/{template_id}/versions/{version_id}",
    response_model=schemas.Version,
    response_model_exclude_none=True,
    responses=error_responses(403, 404),
)
def get_version(session: SessionDep, principal: VersionReader, template_id: str, version_id: str) -> schemas.Version:
    """One version."""
    return _version(templates.get_version(session, principal, template_id, version_id))


@router.patch(
    "/v3/templates/{template_id}/versions/{version_id}",
    response_model=schemas.Version,
    response_model_exclude_none=True,
    responses=error_responses(400, 403, 404),
    openapi_extra=_VERSION_BODY,
)
def update_version(
    session: SessionDep, principal: VersionUpdater, template_id: str, version_id: str, body: JsonBody
) -> schemas.Version:
    """Change a version's fields; `active: 1` activates it."""
    return _version(templates.update_version(session, principal, template_id, version_id, body))


@router.delete(
    "/v3/templates/{template_id}/versions/{version_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(403, 404),
)
def delete_version(session: SessionDep, principal: VersionDeleter, template_id: str, version_id: str) -> Response:
    """Delete a version."""
    templates.delete_version(session, principal, template_id, version_id)
    return Response(status_code=204)


@router.post(
    "/v3/templates/{template_id}/versions/{version_id}/activate",
    response_model=schemas.Version,
    response_model_exclude_none=True,
    responses=error_responses(403, 404),
)
def activate_version(session: SessionDep, principal: Activator, template_id: str, version_id: str) -> schemas.Version:
    """Make this the template's one active version."""
    return _version(templates.activate_version(session, principal, template_id, version_id))
