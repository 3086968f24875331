"""the analytics baseline and the indexes the adoption figures read

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('analytics_baselines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('set_by', sa.String(length=128), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('analytics_user_weeks',
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    *(sa.Column(c, sa.Integer(), nullable=False) for c in ('days', 'questions', 'refused')),
    sa.PrimaryKeyConstraint('week', 'user_id'))
    for name, counts in (('analytics_answer_weeks', ('days', 'questions', 'refused')),
                         ('analytics_feedback_weeks', ('up', 'votes', 'solved',
                                                       'needs_person'))):
        op.create_table(name,
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('collections', sa.Text(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in counts),
        sa.PrimaryKeyConstraint('week', 'user_id', 'collections'))
    op.create_table('analytics_rollup_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complete_until', sa.Date(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redo', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'))
    # each index holds every column its figure query reads (app.analytics.tables)
    op.create_index('ix_answers_analytics', 'answers',
                    ['created_at', 'user_id', 'refused', sa.text('CAST(collections AS TEXT)'),
                     'id'])
    op.create_index('ix_answer_feedback_analytics', 'answer_feedback',
                    ['answer_id', 'vote', 'outcome'])
    op.create_index('ix_drafts_analytics', 'drafts',
                    ['created_at', 'author_id', 'state', 'edit_distance', 'decided_at',
                     sa.text('CAST(collections AS TEXT)')])


def downgrade() -> None:
    op.drop_index('ix_drafts_analytics', table_name='drafts')
    op.drop_index('ix_answer_feedback_analytics', table_name='answer_feedback')
    op.drop_index('ix_answers_analytics', table_name='answers')
    op.drop_table('analytics_rollup_state')
    op.drop_table('analytics_feedback_weeks')
    op.drop_table('analytics_answer_weeks')
    op.drop_table('analytics_user_weeks')
    op.drop_table('analytics_baselines')
