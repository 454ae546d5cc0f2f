"""suppressions: bounces, blocks, invalid emails, spam reports, global unsubscribes, ASM groups

Revision ID: a9b1c2d3e401
Revises: 5c3f192ff76e
Create Date: 2026-11-22 20:00:00
"""

from collections.abc import Sequence

revision: str = "a9b1c2d3e401"
down_revision: str | None = "5c3f192ff76e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
