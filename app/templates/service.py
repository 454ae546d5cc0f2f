"""Transactional templates and versions of one account, and what a templated send takes from them.

Every query is bounded to the principal's account (a subuser, via On-Behalf-Of, has its own templates).
The send path reads a template's active version once per process for a second at most (forgotten at
once when this process changes templates), so only templated sends pay for the lookup.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy import delete as sa_delete
from sqlalchemy.orm import Session

from app.clock import service as clock
from app.kernel import local_caches
from app.kernel.db.session import Database
from app.kernel.errors import BadRequest, NotFound
from app.kernel.principal import Principal
from app.mail.message import OutboundMessage
from app.templates import rules
from app.templates.handlebars import HandlebarsError
from app.templates.models import Template, TemplateVersion
from app.templates.render import ActiveVersion, render_send

# Why a templated send is dropped after its 202 (SendGrid checks templates after accepting the request;
# "Invalid SMTPAPI header" is the drop reason reported for a wrong template id).
UNKNOWN_TEMPLATE: Final = "Invalid SMTPAPI header"
NO_ACTIVE_VERSION: Final = "Invalid SMTPAPI header"
RENDER_FAILED: Final = "Invalid SMTPAPI header"

_TTL_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True)
class TemplatePage:
    templates: list[Template]
    versions: dict[str, list[TemplateVersion]]
    total: int
    offset: int


# --- templates ------------------------------------------------------------------------------------------


def list_templates(
    session: Session, principal: Principal, *, generations: Sequence[str], offset: int, limit: int | None
) -> TemplatePage:
    """The account's templates of the given generations, oldest first, from `offset`."""
    where = and_(Template.account_id == principal.account_id, Template.generation.in_(generations))
    total = session.scalar(select(func.count()).select_from(Template).where(where)) or 0
    query = select(Template).where(where).order_by(Template.created_at, Template.id).offset(offset)
    found = list(session.scalars(query if limit is None else query.limit(limit)))
    return TemplatePage(found, versions_of(session, [t.id for t in found]), total, offset)


def create(session: Session, principal: Principal, body: Any) -> Template:
    name, generation = rules.template_create(body)
    _require_room(session, principal)
    now = clock.session_now(session)
    template = Template(
        id=rules.new_template_id(generation),
        account_id=principal.account_id,
        name=name,
        generation=generation,
        created_at=now,
        updated_at=now,
    )
    session.add(template)
    session.flush()
    return template


def get(session: Session, principal: Principal, template_id: str) -> Template:
    template = session.scalar(
        select(Template).where(Template.id == template_id, Template.account_id == principal.account_id)
    )
    if template is None:
        raise NotFound()
    return template


def rename(session: Session, principal: Principal, template_id: str, body: Any) -> Template:
    template = get(session, principal, template_id)
    name = rules.template_name(body, required=False)
    if name is not None:
        template.name = name
        template.updated_at = clock.session_now(session)
        session.flush()
    return template


def delete(session: Session, principal: Principal, template_id: str) -> None:
    template = get(session, principal, template_id)
    session.execute(sa_delete(TemplateVersion).where(TemplateVersion.template_id == template.id))
    session.execute(sa_delete(Template).where(Template.id == template.id))


def duplicate(session: Session, principal: Principal, template_id: str, body: Any) -> Template:
    """A copy with new ids and the same versions (the active one stays active)."""
    original = get(session, principal, template_id)
    name = rules.template_name(body, required=False) or f"{original.name} Duplicate"
    _require_room(session, principal)
    now = clock.session_now(session)
    copy = Template(
        id=rules.new_template_id(original.generation),
        account_id=principal.account_id,
        name=name[: rules.MAX_NAME],
        generation=original.generation,
        created_at=now,
        updated_at=now,
    )
    session.add(copy)
    for version in versions_of(session, [original.id]).get(original.id, []):
        session.add(_copy_version(version, copy.id, now))
    session.flush()
    return copy


def _copy_version(version: TemplateVersion, template_id: str, now: datetime) -> TemplateVersion:
    columns = ("active", "name", "subject", "html_content", "plain_content", "generate_plain_content", "editor")
    values = {column: getattr(version, column) for column in (*columns, "test_data")}
    return TemplateVersion(id=rules.new_version_id(), template_id=template_id, created_at=now, updated_at=now, **values)


def _require_room(session: Session, principal: Principal) -> None:
    count = session.scalar(
        select(func.count()).select_from(Template).where(Template.account_id == principal.account_id)
    )
    if (count or 0) >= rules.MAX_TEMPLATES:
        raise BadRequest(rules.TOO_MANY_TEMPLATES)


def versions_of(session: Session, template_ids: Sequence[str]) -> dict[str, list[TemplateVersion]]:
    """Each template's versions, oldest first."""
    found: dict[str, list[TemplateVersion]] = {template_id: [] for template_id in template_ids}
    if not template_ids:
        return found
    query = (
        select(TemplateVersion)
        .where(TemplateVersion.template_id.in_(template_ids))
        .order_by(TemplateVersion.created_at, TemplateVersion.id)
    )
    for version in session.scalars(query):
        found[version.template_id].append(version)
    return found


# --- versions -------------------------------------------------------------------------------------------


def create_version(session: Session, principal: Principal, template_id: str, body: Any) -> TemplateVersion:
    """A new version; the template's first version is active whatever the body says."""
    template = get(session, principal, template_id)
    values = rules.version_fields(body, creating=True).values
    existing = versions_of(session, [template.id])[template.id]
    if len(existing) >= rules.MAX_VERSIONS:
        raise BadRequest(rules.TOO_MANY_VERSIONS)
    now = clock.session_now(session)
    version = TemplateVersion(
        id=rules.new_version_id(),
        template_id=template.id,
        active=bool(values.get("active", False)) or not existing,
        name=values["name"],
        subject=values["subject"],
        html_content=values.get("html_content", ""),
        plain_content=values.get("plain_content", ""),
        generate_plain_content=values.get("generate_plain_content", True),
        editor=values.get("editor", "code"),
        test_data=values.get("test_data"),
        created_at=now,
        updated_at=now,
    )
    _derive_plain(version)
    if version.active:
        _deactivate_all(session, template.id)
    session.add(version)
    template.updated_at = now
    session.flush()
    return version


def get_version(session: Session, principal: Principal, template_id: str, version_id: str) -> TemplateVersion:
    template = get(session, principal, template_id)
    version = session.scalar(
        select(TemplateVersion).where(TemplateVersion.id == version_id, TemplateVersion.template_id == template.id)
    )
    if version is None:
        raise NotFound()
    return version


def update_version(
    session: Session, principal: Principal, template_id: str, version_id: str, body: Any
) -> TemplateVersion:
    version = get_version(session, principal, template_id, version_id)
    values = rules.version_fields(body, creating=False).values
    activate = values.pop("active", None)
    for key, value in values.items():
        setattr(version, key, value)
    _derive_plain(version)
    if activate is True and not version.active:
        _deactivate_all(session, version.template_id)
    if activate is not None:
        version.active = activate
    _touch(session, version)
    return version


def delete_version(session: Session, principal: Principal, template_id: str, version_id: str) -> None:
    version = get_version(session, principal, template_id, version_id)
    session.delete(version)
    session.flush()


def activate_version(session: Session, principal: Principal, template_id: str, version_id: str) -> TemplateVersion:
    version = get_version(session, principal, template_id, version_id)
    _deactivate_all(session, version.template_id)
    version.active = True
    _touch(session, version)
    return version


def _derive_plain(version: TemplateVersion) -> None:
    if version.generate_plain_content:
        version.plain_content = rules.plain_from_html(version.html_content)


def _deactivate_all(session: Session, template_id: str) -> None:
    session.execute(
        update(TemplateVersion)
        .where(TemplateVersion.template_id == template_id, TemplateVersion.active.is_(True))
        .values(active=False)
        .execution_options(synchronize_session="fetch")
    )


def _touch(session: Session, version: TemplateVersion) -> None:
    now = clock.session_now(session)
    version.updated_at = now
    template = session.get(Template, version.template_id)
    if template is not None:
        template.updated_at = now
    session.flush()


# --- sending --------------------------------------------------------------------------------------------

# (database url, account id, template id) -> (monotonic time loaded, the active version or why there is none)
_active: dict[tuple[str, str, str], tuple[float, ActiveVersion | str]] = {}


def active_version(db: Database, account_id: str, template_id: str) -> ActiveVersion | str:
    """The template's active version, or the drop reason when the template or its active version is missing."""
    key = (db.url, account_id, template_id)
    cached = _active.get(key)
    if cached is not None and time.monotonic() - cached[0] < _TTL_SECONDS:
        return cached[1]
    with db.reader.connect() as conn:
        found = _load_active(conn, account_id, template_id)
    if len(_active) > 10_000:
        _active.clear()
    _active[key] = (time.monotonic(), found)
    return found


def _load_active(conn: Connection, account_id: str, template_id: str) -> ActiveVersion | str:
    joined = and_(TemplateVersion.template_id == Template.id, TemplateVersion.active.is_(True))
    row = conn.execute(
        select(
            Template.generation,
            TemplateVersion.id,
            TemplateVersion.subject,
            TemplateVersion.html_content,
            TemplateVersion.plain_content,
        )
        .select_from(Template)
        .outerjoin(TemplateVersion, joined)
        .where(Template.id == template_id, Template.account_id == account_id)
        .limit(1)
    ).first()
    if row is None:
        return UNKNOWN_TEMPLATE
    if row.id is None:
        return NO_ACTIVE_VERSION
    return ActiveVersion(template_id, row.generation, row.subject, row.html_content, row.plain_content)


def forget() -> None:
    _active.clear()


local_caches.register(forget)


def apply(
    db: Database, principal: Principal, message: OutboundMessage, *, message_id: str, date: datetime
) -> tuple[OutboundMessage, Sequence[bytes], str | None]:
    """The send as the template renders it, its MIME per personalization, and a drop reason if it cannot."""
    assert message.template_id is not None
    found = active_version(db, principal.account_id, message.template_id)
    if isinstance(found, str):
        return message, (), found
    try:
        rendered = render_send(message, found, message_id=message_id, date=date)
    except HandlebarsError:
        return message, (), RENDER_FAILED
    return rendered.message, rendered.mime, None


class _SendRows(Protocol):
    message: dict[str, Any]
    recipients: list[dict[str, Any]]
    events: list[dict[str, Any]]


def drop(rows: _SendRows, reason: str | None) -> None:
    """Every recipient processed, then dropped with `reason` (nothing happens without a reason)."""
    if reason is None or rows.message["sandbox"]:
        return
    processed = [event for event in rows.events if event["event"] == "processed"]
    dropped = [{**event, "event": "dropped", "reason": reason} for event in processed]
    rows.events[:] = processed + dropped
    for recipient in rows.recipients:
        recipient["status"] = "not_delivered"
