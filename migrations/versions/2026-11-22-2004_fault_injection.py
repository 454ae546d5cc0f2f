"""fault injection rules

Revision ID: a9b1c2d3e405
Revises: a9b1c2d3e404
Create Date: 2026-11-22 20:04:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9b1c2d3e405"
down_revision: str | None = "a9b1c2d3e404"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fault_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fault_rules")),
    )
    version = op.create_table(
        "fault_rules_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fault_rules_version")),
    )
    # The row every change locks first, so that concurrent changes (several processes starting) take turns.
    op.bulk_insert(version, [{"id": 1, "token": "initial"}])


def downgrade() -> None:
    op.drop_table("fault_rules_version")
    op.drop_table("fault_rules")
