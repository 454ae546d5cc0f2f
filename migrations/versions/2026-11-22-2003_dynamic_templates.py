"""dynamic templates and versions

Revision ID: a9b1c2d3e404
Revises: a9b1c2d3e403
Create Date: 2026-11-22 20:03:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9b1c2d3e404"
down_revision: str | None = "a9b1c2d3e403"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("generation", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_templates_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
    )
    with op.batch_alter_table("templates") as batch_op:
        batch_op.create_index("ix_templates_account_created", ["account_id", "created_at"], unique=False)

    op.create_table(
        "template_versions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("html_content", sa.Text(), nullable=False),
        sa.Column("plain_content", sa.Text(), nullable=False),
        sa.Column("generate_plain_content", sa.Boolean(), nullable=False),
        sa.Column("editor", sa.String(length=8), nullable=False),
        sa.Column("test_data", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name=op.f("fk_template_versions_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
    )
    with op.batch_alter_table("template_versions") as batch_op:
        batch_op.create_index(batch_op.f("ix_template_versions_template_id"), ["template_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("template_versions") as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_versions_template_id"))
    op.drop_table("template_versions")
    with op.batch_alter_table("templates") as batch_op:
        batch_op.drop_index("ix_templates_account_created")
    op.drop_table("templates")
