"""Subusers: child accounts of a customer, with their own keys, password and assigned parent IPs."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import passwords
from app.accounts import service as accounts
from app.accounts.models import Account
from app.accounts.state import Capability
from app.ips import service as ips
from app.kernel.errors import BadRequest, ErrorDetail, Forbidden, NotFound
from app.kernel.principal import Principal

NO_PERMISSION = "you dont have permission to access this resource"
REGIONS = ("global", "eu")
LIST_REGIONS = ("all", *REGIONS)
PASSWORD_MIN_LENGTH = 8

_USERNAME = re.compile(r"[A-Za-z0-9@._+-]{1,64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def list_subusers(
    session: Session, principal: Principal, *, username: str | None, region: str, limit: int | None, offset: int
) -> list[Account]:
    """The caller's subusers, oldest first; `username` matches exactly."""
    if region not in LIST_REGIONS:
        raise BadRequest(f"region must be one of {', '.join(LIST_REGIONS)}", field="region")
    query = select(Account).where(Account.parent_id == principal.account_id, Account.kind == "subuser")
    if username:
        query = query.where(Account.username == username)
    if region != "all":
        query = query.where(Account.region == region)
    query = query.order_by(Account.created_at, Account.id).offset(offset)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def create(session: Session, principal: Principal, body: Any) -> Account:
    """A new subuser of the caller's account; every problem of the body is reported at once."""
    _require_manager(principal)
    fields = body if isinstance(body, dict) else {}
    errors = _field_errors(session, fields)
    wanted: list[str] = []
    if "ips" not in fields:
        errors.append(ErrorDetail("missing required argument", "ips"))
    else:
        try:
            wanted = ips.parent_ips(session, principal.account_id, fields["ips"])
        except BadRequest as error:
            errors += error.details
    if errors:
        raise BadRequest(details=errors)
    subuser = accounts.create_account(
        session,
        kind="subuser",
        parent_id=principal.account_id,
        username=fields["username"],
        email=fields["email"],
        password_hash=passwords.hash_password(fields["password"]),
        region=fields.get("region") or "global",
    )
    ips.assign_to_subuser(session, parent_id=principal.account_id, subuser_id=subuser.id, ips=wanted)
    return subuser


def _field_errors(session: Session, fields: dict[str, Any]) -> list[ErrorDetail]:
    errors = [
        ErrorDetail("missing required argument", name)
        for name in ("username", "email", "password")
        if name not in fields
    ]
    username, email, password = fields.get("username"), fields.get("email"), fields.get("password")
    if "username" in fields and not (isinstance(username, str) and _USERNAME.fullmatch(username)):
        errors.append(ErrorDetail("username must be 1 to 64 letters, digits or . _ - + @", "username"))
    elif isinstance(username, str) and accounts.by_username(session, username) is not None:
        errors.append(ErrorDetail("username exists", "username"))
    if "email" in fields and not (isinstance(email, str) and _EMAIL.fullmatch(email)):
        errors.append(ErrorDetail("email must be a valid email address", "email"))
    if "password" in fields and not (isinstance(password, str) and len(password) >= PASSWORD_MIN_LENGTH):
        errors.append(ErrorDetail(f"password must be at least {PASSWORD_MIN_LENGTH} characters", "password"))
    if fields.get("region") is not None and fields["region"] not in REGIONS:
        errors.append(ErrorDetail(f"region must be one of {', '.join(REGIONS)}", "region"))
    return errors


def set_disabled(session: Session, principal: Principal, username: str, body: Any) -> None:
    """PATCH: enable or disable a subuser (a disabled subuser's keys stop working)."""
    _require_manager(principal)
    subuser = _own(session, principal, username)
    if subuser is None:
        raise BadRequest("invalid username")
    disabled = body.get("disabled") if isinstance(body, dict) else None
    if disabled is None:
        raise BadRequest("no fields provided")
    if not isinstance(disabled, bool):
        raise BadRequest("disabled must be a boolean", field="disabled")
    subuser.disabled = disabled


def delete(session: Session, principal: Principal, username: str) -> None:
    """Remove a subuser with its keys and IP assignments."""
    _require_manager(principal)
    accounts.delete_account(session, _existing(session, principal, username))


def replace_ips(session: Session, principal: Principal, username: str, body: Any) -> list[str]:
    """PUT .../ips: the parent IPs the subuser may send from, replacing the previous set."""
    _require_manager(principal)
    subuser = _existing(session, principal, username)
    return ips.assign_to_subuser(session, parent_id=principal.account_id, subuser_id=subuser.id, ips=body)


def _require_manager(principal: Principal) -> None:
    """Only a customer account manages subusers, and only while its state allows it."""
    if principal.account_kind != "customer":
        raise Forbidden(NO_PERMISSION)
    principal.require(Capability.MANAGE_SUBUSERS)


def _own(session: Session, principal: Principal, username: str) -> Account | None:
    return session.scalar(
        select(Account).where(
            Account.username == username, Account.parent_id == principal.account_id, Account.kind == "subuser"
        )
    )


def _existing(session: Session, principal: Principal, username: str) -> Account:
    subuser = _own(session, principal, username)
    if subuser is None:
        raise NotFound()
    return subuser
