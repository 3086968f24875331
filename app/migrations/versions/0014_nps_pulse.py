"""the NPS pulse: one row per time the question was put to a person

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nps_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_nps_responses_asked_at', 'nps_responses', ['asked_at'])
    op.create_index('ix_nps_responses_user_asked', 'nps_responses', ['user_id', 'asked_at'])


def downgrade() -> None:
    op.drop_index('ix_nps_responses_user_asked', table_name='nps_responses')
    op.drop_index('ix_nps_responses_asked_at', table_name='nps_responses')
    op.drop_table('nps_responses')
