"""Who is calling: the authenticated key, the account it acts for, and its scopes."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain import account_state
from app.domain.account_state import Capability
from app.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Principal:
    """A snapshot taken at authentication; services re-read rows they change."""

    key_id: str
    key_account_id: str
    account_id: str
    account_kind: str
    account_state: str
    scopes: frozenset[str]

    @property
    def is_partner(self) -> bool:
        return self.account_kind == "partner"

    @property
    def impersonating(self) -> bool:
        return self.account_id != self.key_account_id

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden()

    def require(self, capability: Capability) -> None:
        account_state.require(self.account_state, capability)
