"""API-key scope names and the scope each operation needs.

The names come from SendGrid's scope list; SendGrid's spec declares no per-operation scope, so the
operation → scope table follows the `<resource>.<verb>` naming convention (see docs/deviations.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_SCOPES_FILE = Path(__file__).with_name("scopes.txt")
_AUTO_ASSIGNED_MARKER = "# --- auto-assigned"


@cache
def _scope_lists() -> tuple[frozenset[str], frozenset[str]]:
    grantable: set[str] = set()
    auto: set[str] = set()
    target = grantable
    for line in _SCOPES_FILE.read_text().splitlines():
        line = line.strip()
        if line.startswith(_AUTO_ASSIGNED_MARKER):
            target = auto
        elif line and not line.startswith("#"):
            target.add(line)
    return frozenset(grantable), frozenset(auto)


def grantable_scopes() -> frozenset[str]:
    """Every scope a key may be given (billing ones included)."""
    return _scope_lists()[0]


def auto_assigned_scopes() -> frozenset[str]:
    """Pseudo-scopes SendGrid adds to GET responses; never grantable."""
    return _scope_lists()[1]


def is_billing(scope: str) -> bool:
    return scope.startswith("billing.")


def full_access_scopes() -> list[str]:
    """What a key created without `scopes` gets: everything but billing (billing is exclusive)."""
    return sorted(s for s in grantable_scopes() if not is_billing(s))


def mixes_billing(scopes: list[str]) -> bool:
    """Billing scopes cannot be combined with any other scope."""
    billing = [s for s in scopes if is_billing(s)]
    return bool(billing) and len(billing) != len(scopes)
