"""The state/capability matrix, cell by cell, against SendGrid's documented table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.accounts import state as account_state
from app.accounts.state import AccountState, Capability, Effect
from app.kernel.errors import CapabilityDenied

# (login, send mail, subusers removed, dedicated IPs removed, API keys deactivated), from PRODUCT P4.
DOCUMENTED = {
    "activated": (True, True, False, False, False),
    "suspended": (True, False, False, False, False),
    "deactivated": (False, False, False, False, True),
    "banned": (False, False, True, True, True),
    "indeterminate": (False, False, False, False, False),
}


@pytest.mark.parametrize("state", list(DOCUMENTED))
def test_every_cell_matches_the_documented_table(state: str) -> None:
    login, send, subusers_removed, ips_removed, keys_off = DOCUMENTED[state]
    effects = account_state.on_enter(AccountState(state))
    assert account_state.allows(state, Capability.LOGIN) is login
    assert account_state.allows(state, Capability.SEND_MAIL) is send
    assert (Effect.REMOVE_SUBUSERS in effects) is subusers_removed
    assert (Effect.UNASSIGN_IPS in effects) is ips_removed
    assert (Effect.DEACTIVATE_API_KEYS in effects) is keys_off
    assert account_state.allows(state, Capability.USE_API_KEYS) is not keys_off


def test_require_raises_with_the_states_wording() -> None:
    with pytest.raises(CapabilityDenied, match="suspended"):
        account_state.require("suspended", Capability.SEND_MAIL)
    with pytest.raises(CapabilityDenied, match="You are not authorized to access SendGrid, please contact Support."):
        account_state.require("banned", Capability.LOGIN)
    account_state.require("activated", Capability.SEND_MAIL)


def test_banned_is_terminal_and_partners_set_only_two_states() -> None:
    assert account_state.is_terminal("banned")
    assert not any(account_state.can_transition("banned", s) for s in AccountState)
    assert account_state.can_transition("deactivated", AccountState.ACTIVATED)
    assert {AccountState.ACTIVATED, AccountState.DEACTIVATED} == account_state.PARTNER_SETTABLE


def test_an_unknown_stored_state_fails_closed() -> None:
    assert not account_state.allows("garbage", Capability.SEND_MAIL)
    assert not account_state.allows("garbage", Capability.LOGIN)


def test_no_code_outside_the_matrix_compares_state_values() -> None:
    app_dir = Path(__file__).resolve().parents[2] / "app"
    names = "|".join(s.value for s in AccountState)
    pattern = re.compile(rf"""(==|!=|\bin\b)\s*[\(\[{{]?\s*["']({names})["']|["']({names})["']\s*(==|!=)""")
    offenders = [
        f"{path.relative_to(app_dir)}:{n}"
        for path in app_dir.rglob("*.py")
        if path != app_dir / "accounts" / "state.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) or re.search(r"\.state\s*(==|!=)", line) or "AccountState.BANNED" in line
    ]
    assert offenders == []
