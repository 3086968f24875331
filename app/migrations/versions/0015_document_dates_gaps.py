"""document dates (front matter, PDF metadata, file time) and the question vectors the knowledge gaps cluster

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows indexed before this migration stay undated (null) until the next sync of their
    # collection reads each file's date (app.knowledge.indexing), without re-embedding.
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('dated_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('dated_from', sa.String(length=64), nullable=True))
    op.create_index('ix_documents_dated', 'documents', ['collection_id', 'dated_at'])
    op.create_table('gap_question_vectors',
    sa.Column('answer_id', sa.String(length=32), nullable=False),
    sa.Column('model_id', sa.String(length=200), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('answer_id')
    )
    # filled from the stored answers by the first gaps report (app.knowledge_gaps.citations)
    op.create_table('document_citations',
    sa.Column('collection', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('last_cited_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('collection', 'path')
    )
    op.create_table('citation_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scanned_until', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('citation_scans')
    op.drop_table('document_citations')
    op.drop_table('gap_question_vectors')
    op.drop_index('ix_documents_dated', table_name='documents')
    # ALTER TABLE ... DROP COLUMN in place (SQLite has it since 3.35): a batch "move and
    # copy" would drop the old documents table, and with foreign keys on, SQLite would
    # cascade that to every chunk
    with op.batch_alter_table('documents', recreate='never') as batch:
        batch.drop_column('dated_from')
        batch.drop_column('dated_at')
