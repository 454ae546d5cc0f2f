"""Who is calling: the authenticated key, the account it acts for, and its scopes."""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts import state as account_state
from app.accounts.state import Capability
from app.kernel.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Principal:
    """A snapshot taken at authentication; services re-read rows they change."""

    key_id: str
    key_account_id: str
    account_id: str
    account_kind: str
    account_state: str
    scopes: frozenset[str]
    # A subuser acts within its parent's state as well as its own.
    parent_state: str | None = None

    @property
    def is_partner(self) -> bool:
        return self.account_kind == "partner"

    @property
    def is_subuser(self) -> bool:
        return self.account_kind == "subuser"

    @property
    def impersonating(self) -> bool:
        return self.account_id != self.key_account_id

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden()

    def allows(self, capability: Capability) -> bool:
        return all(account_state.allows(state, capability) for state in self._states())

    def require(self, capability: Capability) -> None:
        for state in self._states():
            account_state.require(state, capability)

    def _states(self) -> tuple[str, ...]:
        return (self.account_state,) if self.parent_state is None else (self.account_state, self.parent_state)
