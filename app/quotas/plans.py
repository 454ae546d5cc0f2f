"""Daily send caps per plan: the package offering an account holds decides how many recipients a day it may mail.

SendGrid's free plan allows 100 emails a day; paid plans are sold by the month. The mirror counts days
only, so a paid plan's monthly volume is its daily cap (docs/deviations.md). No package, or a package
not in this table, means no cap (the bootstrap `default` account has none unless given one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FREE_PLAN = "org.ei.free.v1"

DAILY_CAPS: dict[str, int] = {
    FREE_PLAN: 100,
    "org.ei.essentials40k.v1": 40_000,
    "org.ei.essentials100k.v1": 100_000,
    "org.ei.pro100k.v1": 100_000,
    "org.ei.pro300k.v1": 300_000,
}


def daily_cap(offerings: Iterable[Mapping[str, Any]]) -> int | None:
    """The cap of the account's package offering; None when it has no capped package."""
    for offering in offerings:
        if offering.get("type") == "package" and offering.get("name") in DAILY_CAPS:
            return DAILY_CAPS[str(offering["name"])]
    return None
