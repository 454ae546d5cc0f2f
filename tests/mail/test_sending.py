"""The send gate asks the matrix, for an account state or a principal (whose parent's state counts too)."""

from __future__ import annotations

import pytest

from app.accounts import state as account_state
from app.accounts.state import AccountState, Capability, Effect
from app.kernel.errors import CapabilityDenied
from app.kernel.principal import Principal
from app.mail import gate as send_gate

SUSPENDED = "account suspended: this account may log in but cannot send mail. Please contact Support."
NOT_AUTHORIZED = "You are not authorized to access SendGrid, please contact Support."


def _principal(state: str, parent_state: str | None = None) -> Principal:
    return Principal(
        key_id="k",
        key_account_id="a",
        account_id="a",
        account_kind="subuser" if parent_state else "customer",
        account_state=state,
        scopes=frozenset({"mail.send"}),
        parent_state=parent_state,
    )


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("suspended", SUSPENDED),
        ("deactivated", NOT_AUTHORIZED),
        ("banned", NOT_AUTHORIZED),
        ("indeterminate", NOT_AUTHORIZED),
    ],
)
def test_states_that_forbid_sending_raise_the_matrix_wording(state: str, message: str) -> None:
    assert not account_state.allows(state, Capability.SEND_MAIL)
    for subject in (state, _principal(state)):
        with pytest.raises(CapabilityDenied) as denied:
            send_gate.require_can_send(subject)
        assert denied.value.status == 403
        assert str(denied.value) == message


def test_activated_accounts_send() -> None:
    send_gate.require_can_send("activated")
    send_gate.require_can_send(_principal("activated"))


def test_a_subuser_cannot_send_while_its_parent_is_suspended() -> None:
    with pytest.raises(CapabilityDenied, match="account suspended"):
        send_gate.require_can_send(_principal("activated", parent_state="suspended"))
    assert _principal("activated", parent_state="activated").allows(Capability.SEND_MAIL)
    assert not _principal("activated", parent_state="suspended").allows(Capability.SEND_MAIL)


def test_leaving_deactivated_for_suspended_restores_keys() -> None:
    assert Effect.RESTORE_API_KEYS in account_state.on_enter(AccountState.SUSPENDED)
    assert Effect.RESTORE_API_KEYS not in account_state.on_enter(AccountState.INDETERMINATE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("activated", AccountState.ACTIVATED), ("deactivated", AccountState.DEACTIVATED), ("suspended", None), (3, None)],
)
def test_partners_may_set_only_two_states(value: object, expected: AccountState | None) -> None:
    assert account_state.partner_settable(value) is expected
