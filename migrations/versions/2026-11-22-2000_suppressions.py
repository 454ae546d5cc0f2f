"""suppressions: bounces, blocks, invalid emails, spam reports, global unsubscribes, ASM groups

Revision ID: a9b1c2d3e401
Revises: 5c3f192ff76e
Create Date: 2026-11-22 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9b1c2d3e401"
down_revision: str | None = "5c3f192ff76e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asm_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=256), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("last_email_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_asm_groups_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asm_groups")),
        sa.UniqueConstraint("account_id", "name", name="uq_asm_groups_account_name"),
    )
    with op.batch_alter_table("asm_groups") as batch_op:
        batch_op.create_index(batch_op.f("ix_asm_groups_account_id"), ["account_id"], unique=False)

    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("classification", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_suppressions_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint("account_id", "email", "kind", "group_id", name="uq_suppressions_entry"),
    )
    with op.batch_alter_table("suppressions") as batch_op:
        batch_op.create_index("ix_suppressions_list", ["account_id", "kind", "group_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("suppressions") as batch_op:
        batch_op.drop_index("ix_suppressions_list")
    op.drop_table("suppressions")
    with op.batch_alter_table("asm_groups") as batch_op:
        batch_op.drop_index(batch_op.f("ix_asm_groups_account_id"))
    op.drop_table("asm_groups")
