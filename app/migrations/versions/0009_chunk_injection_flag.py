"""chunks flagged at ingest as a possible prompt injection keep the reason

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ingest.injection import detect_passage

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chunks') as batch:
        batch.add_column(sa.Column('injection', sa.Text(), nullable=True))
    op.create_index('ix_chunks_flagged', 'chunks', ['collection_id', 'injection'])
    # A sync re-reads only changed files, so the chunks indexed before this migration are
    # checked here, once; None means "checked, not flagged" from now on.
    chunks = sa.table('chunks', sa.column('id', sa.String), sa.column('document_id', sa.Integer),
                      sa.column('heading', sa.Text), sa.column('text', sa.Text),
                      sa.column('injection', sa.Text))
    documents = sa.table('documents', sa.column('id', sa.Integer), sa.column('title', sa.Text))
    bind = op.get_bind()
    # streamed (a server-side cursor on PostgreSQL): a large collection is not held in memory
    rows = bind.execute(
        sa.select(chunks.c.id, documents.c.title, chunks.c.heading, chunks.c.text)
        .join(documents, documents.c.id == chunks.c.document_id)
        .execution_options(yield_per=1000))
    flagged = [{'chunk_id': chunk_id, 'reason': reason} for chunk_id, title, heading, text in rows
               if (reason := detect_passage(title or '', heading or '', text or ''))]
    if flagged:
        bind.execute(chunks.update().where(chunks.c.id == sa.bindparam('chunk_id'))
                     .values(injection=sa.bindparam('reason')), flagged)


def downgrade() -> None:
    op.drop_index('ix_chunks_flagged', table_name='chunks')
    with op.batch_alter_table('chunks') as batch:
        batch.drop_column('injection')
