"""Dependencies of the partner routes: a partner key, or 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.accounts.partners import service as partners
from app.kernel.deps import PrincipalDep
from app.kernel.principal import Principal


def partner_principal(principal: PrincipalDep) -> Principal:
    """An authenticated partner key; any other key gets 403 (customers are reached with On-Behalf-Of)."""
    partners.require_partner(principal)
    return principal


PartnerDep = Annotated[Principal, Depends(partner_principal)]
