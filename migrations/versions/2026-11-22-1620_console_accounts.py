"""console accounts: pending sign-ups, emailed link tokens, sign-in throttling

Revision ID: edc5dffd86ae
Revises: 520f81bdbabd
Create Date: 2026-11-22 16:20:01.957830
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'edc5dffd86ae'
down_revision: str | None = '520f81bdbabd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_login_throttles',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_console_login_throttles'))
    )
    op.create_table('console_signups',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=34), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_console_signups'))
    )
    with op.batch_alter_table('console_signups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_signups_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_signups_username'), ['username'], unique=False)

    op.create_table('console_tokens',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.String(length=34), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_console_tokens_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_console_tokens'))
    )
    with op.batch_alter_table('console_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_tokens_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_tokens_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('console_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_tokens_expires_at'))
        batch_op.drop_index(batch_op.f('ix_console_tokens_account_id'))

    op.drop_table('console_tokens')
    with op.batch_alter_table('console_signups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_signups_username'))
        batch_op.drop_index(batch_op.f('ix_console_signups_expires_at'))

    op.drop_table('console_signups')
    op.drop_table('console_login_throttles')
