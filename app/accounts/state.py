"""The account state/capability matrix: the one place that decides what a state allows.

Source: Twilio SendGrid Account Provisioning API, "account state" table
(https://www.twilio.com/docs/sendgrid/api-reference/account-provisioning-api-account-state), read 2026-11.
Nothing outside this module compares state values; code asks `allows()` / `require()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.kernel.errors import CapabilityDenied


class AccountState(StrEnum):
    ACTIVATED = "activated"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"
    BANNED = "banned"
    INDETERMINATE = "indeterminate"


class Capability(StrEnum):
    LOGIN = "login"
    SEND_MAIL = "send_mail"
    USE_API_KEYS = "use_api_keys"
    MANAGE_SUBUSERS = "manage_subusers"
    MANAGE_IPS = "manage_ips"


class Effect(StrEnum):
    """What entering a state does, in the same transaction as the change."""

    DEACTIVATE_API_KEYS = "deactivate_api_keys"
    RESTORE_API_KEYS = "restore_api_keys"
    REMOVE_SUBUSERS = "remove_subusers"
    UNASSIGN_IPS = "unassign_ips"


@dataclass(frozen=True)
class StateRule:
    capabilities: frozenset[Capability]
    on_enter: tuple[Effect, ...]
    denial: str


_ALL = frozenset(Capability)
_SUSPENDED_TEXT = "account suspended: this account may log in but cannot send mail. Please contact Support."
_NOT_AUTHORIZED = "You are not authorized to access SendGrid, please contact Support."

RULES: dict[AccountState, StateRule] = {
    AccountState.ACTIVATED: StateRule(_ALL, (Effect.RESTORE_API_KEYS,), ""),
    # Suspended accounts log in and use the API but every send is refused; keys switched off by a
    # deactivation come back, since suspension does not deactivate keys.
    AccountState.SUSPENDED: StateRule(_ALL - {Capability.SEND_MAIL}, (Effect.RESTORE_API_KEYS,), _SUSPENDED_TEXT),
    AccountState.DEACTIVATED: StateRule(frozenset(), (Effect.DEACTIVATE_API_KEYS,), _NOT_AUTHORIZED),
    AccountState.BANNED: StateRule(
        frozenset(),
        (Effect.DEACTIVATE_API_KEYS, Effect.REMOVE_SUBUSERS, Effect.UNASSIGN_IPS),
        _NOT_AUTHORIZED,
    ),
    # Unknown to SendGrid's own systems: fail closed, but destroy nothing.
    AccountState.INDETERMINATE: StateRule(frozenset({Capability.USE_API_KEYS}), (), _NOT_AUTHORIZED),
}

# States the partner API's PUT .../state may set; the rest are set by compliance (admin API, seed file).
PARTNER_SETTABLE: frozenset[AccountState] = frozenset({AccountState.ACTIVATED, AccountState.DEACTIVATED})

# Banned is terminal: no transition leaves it.
TRANSITIONS: dict[AccountState, frozenset[AccountState]] = {
    state: (frozenset() if state is AccountState.BANNED else frozenset(AccountState) - {state})
    for state in AccountState
}


def parse_state(value: str) -> AccountState | None:
    try:
        return AccountState(value)
    except ValueError:
        return None


def partner_settable(value: object) -> AccountState | None:
    """The state a partner's PUT .../state names, or None when partners may not set it."""
    state = parse_state(value) if isinstance(value, str) else None
    return state if state in PARTNER_SETTABLE else None


def rule(state: str) -> StateRule:
    """The rule of a stored state; an unknown stored value is treated as indeterminate."""
    return RULES[parse_state(state) or AccountState.INDETERMINATE]


def allows(state: str, capability: Capability) -> bool:
    return capability in rule(state).capabilities


def require(state: str, capability: Capability) -> None:
    """Raise CapabilityDenied when the state does not allow the capability."""
    if not allows(state, capability):
        raise CapabilityDenied(rule(state).denial or "access forbidden")


def changes(current: str, target: AccountState) -> bool:
    """Whether moving to `target` is a change at all."""
    return parse_state(current) is not target


def can_transition(current: str, target: AccountState) -> bool:
    return target in TRANSITIONS[parse_state(current) or AccountState.INDETERMINATE]


def on_enter(state: AccountState) -> tuple[Effect, ...]:
    return RULES[state].on_enter


def is_terminal(state: str) -> bool:
    return not TRANSITIONS[parse_state(state) or AccountState.INDETERMINATE]
