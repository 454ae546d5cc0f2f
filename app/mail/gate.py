"""The send gate: every transport (HTTP mail send, SMTP) asks it before accepting a message."""

from __future__ import annotations

from app.accounts import state as account_state
from app.accounts.state import Capability
from app.kernel.principal import Principal


def require_can_send(subject: Principal | str) -> None:
    """Raise CapabilityDenied (403 / SMTP 550) with the matrix's wording when the state forbids sending."""
    if isinstance(subject, Principal):
        subject.require(Capability.SEND_MAIL)
    else:
        account_state.require(subject, Capability.SEND_MAIL)
