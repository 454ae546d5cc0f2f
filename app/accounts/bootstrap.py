"""First start and seed files: the partner, the `default` account, and declared accounts and keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import passwords
from app.accounts import service as accounts
from app.accounts import state as account_state
from app.accounts.models import Account
from app.accounts.partners import rules as provisioning
from app.api_keys import credentials, scopes
from app.api_keys import service as api_keys
from app.api_keys.models import ApiKey
from app.delivery import rules_source as delivery_rules_source
from app.faults import service as faults
from app.identity import seed as identity_seed
from app.ips import service as ips
from app.kernel.config import Settings
from app.kernel.db import maintenance
from app.kernel.db.base import utcnow
from app.kernel.errors import BadRequest

PARTNER_USERNAME = "partner"
DEFAULT_USERNAME = "default"
# Keys are shown only when made, so a later start says how to get another.
KEYS_HINT = (
    "The accounts exist already and their API keys are not shown again: `sgmirror create-key` prints a new "
    f"full-access key for '{DEFAULT_USERNAME}' (`--account <username>` for another account)."
)
NOT_BOOTSTRAPPED = (
    "The database has no accounts yet: `sgmirror migrate` (or `sgmirror serve`) creates the partner and "
    f"'{DEFAULT_USERNAME}' accounts first."
)


@dataclass
class Report:
    """What a bootstrap or seed did; new secrets are shown to the operator once."""

    lines: list[str] = field(default_factory=list)
    # Whether the accounts were made just now (a bootstrap of an empty database).
    first_start: bool = False

    def say(self, line: str) -> None:
        self.lines.append(line)


def bootstrap(
    session: Session, *, api_key: str | None, partner_api_key: str | None, default_plan: str | None = None
) -> Report:
    """Create the partner and `default` accounts on an empty database; make sure given keys exist."""
    first_start = not is_bootstrapped(session)
    report = Report(first_start=first_start)
    if first_start:
        partner = accounts.create_account(session, kind="partner", username=PARTNER_USERNAME)
        accounts.create_account(session, kind="customer", parent_id=partner.id, username=DEFAULT_USERNAME)
        report.say("Created the partner account and the customer account 'default' (activated).")
    for username, raw, label in (
        (DEFAULT_USERNAME, api_key, "default"),
        (PARTNER_USERNAME, partner_api_key, "partner"),
    ):
        account = accounts.by_username(session, username)
        if account is not None and (raw or first_start):
            _ensure_key(session, account, raw, f"{label} (bootstrap)", report)
    default = accounts.by_username(session, DEFAULT_USERNAME)
    if default_plan and default is not None:
        identity_seed.give_plan(default, default_plan)
    return report


def is_bootstrapped(session: Session) -> bool:
    """Whether any account exists (the first start made the partner and `default`)."""
    return bool(session.scalar(select(func.count()).select_from(Account)))


def from_settings(session: Session, settings: Settings) -> Report:
    """`bootstrap` with the keys and plan the settings name."""
    return bootstrap(
        session,
        api_key=settings.api_key,
        partner_api_key=settings.partner_api_key,
        default_plan=settings.default_plan,
    )


def reset(session: Session, settings: Settings) -> tuple[dict[str, int], Report]:
    """Back to the first start: every row removed, then the bootstrap accounts and configured keys again."""
    removed = maintenance.count_rows(session)
    maintenance.clear_all(session)
    return removed, from_settings(session, settings)


def _ensure_key(session: Session, account: Account, raw: str | None, name: str, report: Report) -> None:
    if raw is not None:
        parsed = credentials.parse_key(raw)
        if parsed is None:
            raise BadRequest(f"the bootstrap key for {name} must look like SG.<id>.<secret>", field="api_key")
        if session.scalar(select(ApiKey.id).where(ApiKey.digest == parsed.digest)) is not None:
            return
    created = api_keys.add_key(
        session, account_id=account.id, name=name, key_scopes=scopes.full_access_scopes(), raw=raw
    )
    if raw is None:
        report.say(f"Full-access API key for '{account.username}' (shown once): {created.raw}")
    else:
        report.say(f"Registered the given API key {created.key.id} for '{account.username}'.")


def apply_seed(session: Session, document: Any) -> Report:
    """Apply a seed document: {"accounts": [{username, kind, state, email, keys, ips, subusers, ...}, ...]}."""
    report = Report()
    if not isinstance(document, dict) or not isinstance(document.get("accounts", []), list):
        raise BadRequest("a seed file is an object with an 'accounts' list", field="accounts")
    partner = accounts.by_username(session, PARTNER_USERNAME)
    for entry in document.get("accounts", []):
        _seed_account(session, _mapping(entry, "accounts[]"), parent_id=partner.id if partner else None, report=report)
    if document.get("delivery_rules") is not None:
        stored = delivery_rules_source.store(
            session, document["delivery_rules"], now=utcnow(), field_name="delivery_rules"
        )
        report.say(f"Set {len(stored['rules'])} delivery simulator rule(s).")
    if document.get("faults") is not None:
        seeded = faults.apply_seed(session, document["faults"])
        report.say(f"Set {seeded} fault-injection rule(s): the mirror fails on purpose where they match.")
    return report


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{where} entries must be objects", field=where)
    return value


def _seed_account(session: Session, entry: dict[str, Any], *, parent_id: str | None, report: Report) -> Account:
    kind = str(entry.get("kind", "customer"))
    if kind not in {"partner", "customer", "subuser"}:
        raise BadRequest(f"unknown account kind {kind!r}", field="kind")
    username = entry.get("username")
    account = accounts.by_username(session, username) if username else None
    if account is None:
        parent = accounts.by_username(session, entry["parent"]) if entry.get("parent") else None
        account = accounts.create_account(
            session,
            kind=kind,
            parent_id=parent.id if parent else (None if kind == "partner" else parent_id),
            username=username,
            email=entry.get("email"),
            profile=entry.get("profile") or {},
        )
        report.say(f"Created {kind} account {username or account.id} ({account.id}).")
    for key_entry in entry.get("keys", []) or []:
        _seed_key(session, account, _mapping(key_entry, "keys[]"), report)
    _seed_details(session, account, entry)
    identity_seed.apply(session, account, entry)
    if entry.get("ips") is not None:
        _seed_ips(session, account, entry["ips"])
    for sub in entry.get("subusers", []) or []:
        sub_entry = {**_mapping(sub, "subusers[]"), "kind": "subuser"}
        _seed_account(session, sub_entry, parent_id=account.id, report=report)
    # Last, so that entering the state applies its effects to everything seeded above.
    _seed_state(session, account, entry.get("state"))
    return account


def _seed_details(session: Session, account: Account, entry: dict[str, Any]) -> None:
    """Offerings, and for subusers their password, region and disabled flag."""
    if entry.get("offerings") is not None:
        offerings, errors = provisioning.validate_offerings(entry["offerings"])
        provisioning.raise_if_any(errors)
        account.offerings = offerings
    if entry.get("password") is not None:
        account.password_hash = passwords.hash_password(str(entry["password"]))
    if entry.get("region") is not None:
        account.region = str(entry["region"])
    if entry.get("disabled") is not None:
        account.disabled = bool(entry["disabled"])


def _seed_ips(session: Session, account: Account, listed: Any) -> None:
    """Accounts claim the listed addresses; subusers are assigned those of their parent."""
    if not isinstance(listed, list):
        raise BadRequest("ips is a list of IPv4 addresses", field="ips")
    entries = [item if isinstance(item, dict) else {"ip": item} for item in listed]
    if account.kind == "subuser" and account.parent_id is not None:
        wanted = [str(item.get("ip")) for item in entries]
        ips.assign_to_subuser(session, parent_id=account.parent_id, subuser_id=account.id, ips=wanted)
        return
    for item in entries:
        ips.claim_exact(session, account_id=account.id, ip=str(item.get("ip")), warmup=bool(item.get("warmup")))


def _seed_state(session: Session, account: Account, state: Any) -> None:
    if state is None:
        return
    target = account_state.parse_state(str(state))
    if target is None:
        raise BadRequest(f"unknown account state {state!r}", field="state")
    accounts.set_state(session, account, target)


def _seed_key(session: Session, account: Account, entry: dict[str, Any], report: Report) -> None:
    raw = entry.get("key")
    key_scopes = entry.get("scopes")
    if key_scopes is not None and (
        not isinstance(key_scopes, list) or any(s not in scopes.grantable_scopes() for s in key_scopes)
    ):
        raise BadRequest(f"invalid scopes for key {entry.get('name')!r}", field="scopes")
    if (
        raw is not None
        and session.scalar(select(ApiKey.id).where(ApiKey.digest == credentials.digest(str(raw)))) is not None
    ):
        return
    created = api_keys.add_key(
        session,
        account_id=account.id,
        name=str(entry.get("name", "seeded key")),
        key_scopes=sorted(key_scopes) if key_scopes is not None else scopes.full_access_scopes(),
        raw=str(raw) if raw is not None else None,
    )
    if raw is None:
        report.say(f"API key '{created.key.name}' for {account.username or account.id} (shown once): {created.raw}")
