"""delivery simulator: pending events and event details

Revision ID: a9b1c2d3e402
Revises: a9b1c2d3e401
Create Date: 2026-11-22 20:01:00
"""

from collections.abc import Sequence

revision: str = "a9b1c2d3e402"
down_revision: str | None = "a9b1c2d3e401"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
