"""hand-offs: "I still need a person" sends the answer to the ticketing system, once per
person per answer per receiver, retried like an approval webhook

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handoffs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('answer_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('ticket_ref', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('answer_id', 'user_id', 'url', name='uq_handoffs_answer_user_url')
    )
    op.create_index('ix_handoffs_user_id', 'handoffs', ['user_id'])
    op.create_index('ix_handoffs_status', 'handoffs', ['status'])
    op.create_index('ix_handoffs_next_attempt_at', 'handoffs', ['next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_handoffs_next_attempt_at', table_name='handoffs')
    op.drop_index('ix_handoffs_status', table_name='handoffs')
    op.drop_index('ix_handoffs_user_id', table_name='handoffs')
    op.drop_table('handoffs')
