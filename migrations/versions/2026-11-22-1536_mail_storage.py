"""mail storage

Revision ID: 573196058829
Revises: bf79fa626572
Create Date: 2026-11-22 15:36:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "573196058829"
down_revision: str | None = "bf79fa626572"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_batches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_mail_batches_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_batches")),
    )
    with op.batch_alter_table("mail_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_batches_account_id"), ["account_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("api_key_id", sa.String(length=64), nullable=True),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("from_email", sa.String(length=320), nullable=False),
        sa.Column("from_name", sa.String(length=256), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("custom_args", sa.JSON(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_messages_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_created_at"), ["created_at"], unique=False)

    op.create_table(
        "message_envelopes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("from_email", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("custom_args", sa.JSON(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mime", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_envelopes_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_envelopes")),
    )
    with op.batch_alter_table("message_envelopes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_envelopes_message_id"), ["message_id"], unique=False)

    op.create_table(
        "message_recipients",
        sa.Column("id", sa.String(length=96), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=34), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=3), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("from_email", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opens_count", sa.Integer(), nullable=False),
        sa.Column("clicks_count", sa.Integer(), nullable=False),
        sa.Column("last_event_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_recipients_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_recipients")),
    )
    with op.batch_alter_table("message_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_recipients_account_last_event", ["account_id", "last_event_time"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_message_recipients_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_recipients_message_id"), ["message_id"], unique=False)

    op.create_table(
        "message_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_id", sa.String(length=96), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["message_recipients.id"],
            name=op.f("fk_message_events_recipient_id_message_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_events")),
    )
    with op.batch_alter_table("message_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_events_recipient_id"), ["recipient_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes too.
    op.drop_table("message_events")
    op.drop_table("message_recipients")
    op.drop_table("message_envelopes")
    op.drop_table("messages")
    op.drop_table("mail_batches")
