"""single sign-on: a user signed in through the OIDC provider is linked by the provider's
subject (``sub``), not by username, which the provider may change

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('oidc_subject', sa.String(length=255), nullable=True))
    op.create_index('ix_users_oidc_subject', 'users', ['oidc_subject'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_users_oidc_subject', table_name='users')
    # a plain DROP COLUMN (SQLite 3.35+), not a batch table copy: dropping the old users
    # table would cascade to every membership, token and session that references it
    op.drop_column('users', 'oidc_subject')
