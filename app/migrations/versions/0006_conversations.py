"""conversations: an agent's threads of answers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_conversations_user_id', 'conversations', ['user_id'])
    op.create_index('ix_conversations_updated_at', 'conversations', ['updated_at'])
    with op.batch_alter_table('answers') as batch:
        batch.add_column(sa.Column('conversation_id', sa.String(length=32), nullable=True))
        batch.create_index('ix_answers_conversation_id', ['conversation_id'])
        batch.create_foreign_key('fk_answers_conversation_id', 'conversations',
                                 ['conversation_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('answers') as batch:
        batch.drop_constraint('fk_answers_conversation_id', type_='foreignkey')
        batch.drop_index('ix_answers_conversation_id')
        batch.drop_column('conversation_id')
    op.drop_index('ix_conversations_updated_at', table_name='conversations')
    op.drop_index('ix_conversations_user_id', table_name='conversations')
    op.drop_table('conversations')
