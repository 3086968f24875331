"""answer feedback: one vote, reasons, comment and outcome per person per answer

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('answer_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('vote', sa.String(length=8), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('answer_id', 'user_id', name='uq_answer_feedback_answer_user')
    )
    op.create_index('ix_answer_feedback_user_id', 'answer_feedback', ['user_id'])
    op.create_index('ix_answer_feedback_updated_at', 'answer_feedback', ['updated_at'])


def downgrade() -> None:
    op.drop_index('ix_answer_feedback_updated_at', table_name='answer_feedback')
    op.drop_index('ix_answer_feedback_user_id', table_name='answer_feedback')
    op.drop_table('answer_feedback')
