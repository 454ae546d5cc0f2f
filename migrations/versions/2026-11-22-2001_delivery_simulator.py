"""delivery simulator: pending events and event details

Revision ID: a9b1c2d3e402
Revises: a9b1c2d3e401
Create Date: 2026-11-22 20:01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9b1c2d3e402"
down_revision: str | None = "a9b1c2d3e401"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message_events") as batch:
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "pending_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_id", sa.String(length=96), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("delay", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["message_recipients.id"],
            name=op.f("fk_pending_events_recipient_id_message_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_events")),
    )
    with op.batch_alter_table("pending_events") as batch:
        batch.create_index(batch.f("ix_pending_events_due_at"), ["due_at"], unique=False)
        batch.create_index(batch.f("ix_pending_events_recipient_id"), ["recipient_id"], unique=False)
    op.create_table(
        "delivery_rule_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_rule_sets")),
    )


def downgrade() -> None:
    op.drop_table("delivery_rule_sets")
    with op.batch_alter_table("pending_events") as batch:
        batch.drop_index(batch.f("ix_pending_events_recipient_id"))
        batch.drop_index(batch.f("ix_pending_events_due_at"))
    op.drop_table("pending_events")
    with op.batch_alter_table("message_events") as batch:
        batch.drop_column("recorded_at")
        batch.drop_column("detail")
