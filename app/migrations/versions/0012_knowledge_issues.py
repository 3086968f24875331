"""knowledge owners, knowledge issues and their reports, notifications

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('knowledge_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('collection_id', 'prefix', 'kind', 'owner_id',
                        name='uq_knowledge_owners_folder_owner')
    )
    op.create_index('ix_knowledge_owners_owner', 'knowledge_owners', ['kind', 'owner_id'])
    op.create_table('knowledge_issues',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=False),
    sa.Column('collections', sa.JSON(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('answer_id', sa.String(length=32), nullable=True),
    sa.Column('question_vector', sa.LargeBinary(), nullable=True),
    sa.Column('embedding_model', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolution', sa.String(length=24), nullable=True),
    sa.Column('resolution_reason', sa.Text(), nullable=False),
    sa.Column('resolved_by', sa.String(length=128), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_knowledge_issues_open', 'knowledge_issues',
                    ['collection', 'state', 'last_reported_at'])
    op.create_table('knowledge_issue_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.String(length=32), nullable=False),
    sa.Column('answer_id', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('draft_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issue_id'], ['knowledge_issues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('answer_id', 'user_id', 'kind',
                        name='uq_knowledge_issue_reports_answer_user_kind')
    )
    op.create_index('ix_knowledge_issue_reports_issue_id', 'knowledge_issue_reports',
                    ['issue_id'])
    op.create_index('ix_knowledge_issue_reports_user', 'knowledge_issue_reports',
                    ['user_id', 'created_at'])
    op.create_table('knowledge_issue_documents',
    sa.Column('issue_id', sa.String(length=32), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('collection', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('chunk_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['knowledge_issues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('issue_id', 'document_id')
    )
    op.create_index('ix_knowledge_issue_documents_document_id', 'knowledge_issue_documents',
                    ['document_id'])
    op.create_index('ix_knowledge_issue_documents_collection', 'knowledge_issue_documents',
                    ['collection'])
    op.create_table('knowledge_issue_links',
    sa.Column('issue_id', sa.String(length=32), nullable=False),
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('change', sa.String(length=8), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['knowledge_issues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('issue_id', 'job_id', 'document_id')
    )
    op.create_table('notifications',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('issue_id', sa.String(length=32), nullable=True),
    sa.Column('answer_id', sa.String(length=32), nullable=True),
    sa.Column('collections', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issue_id'], ['knowledge_issues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_notifications_issue_id', 'notifications', ['issue_id'])
    op.create_index('ix_notifications_user', 'notifications',
                    ['user_id', 'read_at', 'created_at'])
    op.create_table('notification_deliveries',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('notification_id', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_notification_deliveries_notification_id', 'notification_deliveries',
                    ['notification_id'])
    op.create_index('ix_notification_deliveries_status', 'notification_deliveries',
                    ['status'])
    op.create_index('ix_notification_deliveries_next_attempt_at', 'notification_deliveries',
                    ['next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_notification_deliveries_next_attempt_at',
                  table_name='notification_deliveries')
    op.drop_index('ix_notification_deliveries_status', table_name='notification_deliveries')
    op.drop_index('ix_notification_deliveries_notification_id',
                  table_name='notification_deliveries')
    op.drop_table('notification_deliveries')
    op.drop_index('ix_notifications_user', table_name='notifications')
    op.drop_index('ix_notifications_issue_id', table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('knowledge_issue_links')
    op.drop_index('ix_knowledge_issue_documents_collection',
                  table_name='knowledge_issue_documents')
    op.drop_index('ix_knowledge_issue_documents_document_id',
                  table_name='knowledge_issue_documents')
    op.drop_table('knowledge_issue_documents')
    op.drop_index('ix_knowledge_issue_reports_user', table_name='knowledge_issue_reports')
    op.drop_index('ix_knowledge_issue_reports_issue_id', table_name='knowledge_issue_reports')
    op.drop_table('knowledge_issue_reports')
    op.drop_index('ix_knowledge_issues_open', table_name='knowledge_issues')
    op.drop_table('knowledge_issues')
    op.drop_index('ix_knowledge_owners_owner', table_name='knowledge_owners')
    op.drop_table('knowledge_owners')
