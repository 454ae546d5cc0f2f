"""accounts partner fields, ips, console sign-in

Revision ID: 520f81bdbabd
Revises: 573196058829
Create Date: 2026-11-22 15:36:50.644340
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '520f81bdbabd'
down_revision: str | None = '573196058829'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('region', sa.String(length=8), server_default='global', nullable=False))
        batch_op.add_column(sa.Column('offerings', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_accounts_user_id'), ['user_id'])

    op.create_table('console_sessions',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=34), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_console_sessions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_console_sessions'))
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sessions_account_id'), ['account_id'], unique=False)

    op.create_table('ip_addresses',
    sa.Column('ip', sa.String(length=15), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.String(length=34), nullable=False),
    sa.Column('region', sa.String(length=8), nullable=False),
    sa.Column('warmup', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ip_addresses_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ip', name=op.f('pk_ip_addresses'))
    )
    with op.batch_alter_table('ip_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ip_addresses_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ip_addresses_number'), ['number'], unique=False)

    op.create_table('sso_codes',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=34), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_sso_codes_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_sso_codes'))
    )
    with op.batch_alter_table('sso_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_codes_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_codes_expires_at'), ['expires_at'], unique=False)

    op.create_table('ip_subusers',
    sa.Column('ip', sa.String(length=15), nullable=False),
    sa.Column('subuser_id', sa.String(length=34), nullable=False),
    sa.ForeignKeyConstraint(['ip'], ['ip_addresses.ip'], name=op.f('fk_ip_subusers_ip_ip_addresses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subuser_id'], ['accounts.id'], name=op.f('fk_ip_subusers_subuser_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ip', 'subuser_id', name=op.f('pk_ip_subusers'))
    )
    with op.batch_alter_table('ip_subusers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ip_subusers_subuser_id'), ['subuser_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ip_subusers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ip_subusers_subuser_id'))

    op.drop_table('ip_subusers')
    with op.batch_alter_table('sso_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_codes_expires_at'))
        batch_op.drop_index(batch_op.f('ix_sso_codes_account_id'))

    op.drop_table('sso_codes')
    with op.batch_alter_table('ip_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ip_addresses_number'))
        batch_op.drop_index(batch_op.f('ix_ip_addresses_account_id'))

    op.drop_table('ip_addresses')
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_account_id'))

    op.drop_table('console_sessions')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_accounts_user_id'), type_='unique')
        batch_op.drop_column('offerings')
        batch_op.drop_column('region')
        batch_op.drop_column('password_hash')
        batch_op.drop_column('user_id')
