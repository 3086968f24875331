"""review queue index: the queue's visibility, counts and order read an index, not the drafts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the collections list as its stored text (a PostgreSQL json value has no equality),
    # then what the queue counts and sorts on: an index-only scan instead of reading every
    # draft with its texts
    op.create_index('ix_drafts_queue', 'drafts',
                    [sa.text('CAST(collections AS TEXT)'), 'state', 'submitted_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_drafts_queue', table_name='drafts')
