"""sender identity (verified senders, authenticated domains), quotas, rate limits, scheduling

Revision ID: 5c3f192ff76e
Revises: edc5dffd86ae
Create Date: 2026-11-22 16:20:49
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c3f192ff76e"
down_revision: str | None = "edc5dffd86ae"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mirror_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offset_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirror_clock")),
    )
    op.create_table(
        "authenticated_domains",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("subdomain", sa.String(length=63), nullable=False),
        sa.Column("ips", sa.JSON(), nullable=False),
        sa.Column("custom_spf", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("automatic_security", sa.Boolean(), nullable=False),
        sa.Column("custom_dkim_selector", sa.String(length=3), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("dns", sa.JSON(), nullable=False),
        sa.Column("published", sa.JSON(), nullable=False),
        sa.Column("last_validation_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_authenticated_domains_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authenticated_domains")),
    )
    with op.batch_alter_table("authenticated_domains", schema=None) as batch_op:
        batch_op.create_index("ix_authenticated_domains_account_domain", ["account_id", "domain"], unique=False)

    op.create_table(
        "daily_send_counts",
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_daily_send_counts_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_daily_send_counts")),
    )
    op.create_table(
        "verified_senders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("nickname", sa.String(length=100), nullable=False),
        sa.Column("from_email", sa.String(length=256), nullable=False),
        sa.Column("email_key", sa.String(length=256), nullable=False),
        sa.Column("from_name", sa.String(length=256), nullable=False),
        sa.Column("reply_to", sa.String(length=256), nullable=False),
        sa.Column("reply_to_name", sa.String(length=256), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("address2", sa.String(length=100), nullable=False),
        sa.Column("city", sa.String(length=150), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("zip", sa.String(length=10), nullable=False),
        sa.Column("country", sa.String(length=100), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_verified_senders_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verified_senders")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_verified_senders_token_digest")),
    )
    with op.batch_alter_table("verified_senders", schema=None) as batch_op:
        batch_op.create_index("ix_verified_senders_account_email", ["account_id", "email_key"], unique=False)

    op.create_table(
        "rate_limit_counters",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_rate_limit_counters_key_id_api_keys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key_id", "family", name=op.f("pk_rate_limit_counters")),
    )
    op.create_table(
        "scheduled_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_scheduled_deliveries_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_deliveries")),
    )
    with op.batch_alter_table("scheduled_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduled_deliveries_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduled_deliveries_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduled_deliveries_message_id"), ["message_id"], unique=False)

    op.create_table(
        "scheduled_sends",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_scheduled_sends_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["mail_batches.id"], name=op.f("fk_scheduled_sends_batch_id_mail_batches"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_scheduled_sends")),
    )
    with op.batch_alter_table("scheduled_sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduled_sends_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduled_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_sends_account_id"))

    op.drop_table("scheduled_sends")
    with op.batch_alter_table("scheduled_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_deliveries_message_id"))
        batch_op.drop_index(batch_op.f("ix_scheduled_deliveries_due_at"))
        batch_op.drop_index(batch_op.f("ix_scheduled_deliveries_batch_id"))

    op.drop_table("scheduled_deliveries")
    op.drop_table("rate_limit_counters")
    with op.batch_alter_table("verified_senders", schema=None) as batch_op:
        batch_op.drop_index("ix_verified_senders_account_email")

    op.drop_table("verified_senders")
    op.drop_table("daily_send_counts")
    with op.batch_alter_table("authenticated_domains", schema=None) as batch_op:
        batch_op.drop_index("ix_authenticated_domains_account_domain")

    op.drop_table("authenticated_domains")
    op.drop_table("mirror_clock")
