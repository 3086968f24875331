"""shared background jobs: a re-index or evaluation run is claimed by one process (its owner),
which stamps a heartbeat while it runs; an evaluation run keeps who started it, so another
process can resume it as them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLES = ('jobs', 'eval_runs')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('owner', sa.String(length=128), nullable=True))
        op.add_column(table, sa.Column('heartbeat_at', sa.DateTime(timezone=True),
                                       nullable=True))
        op.add_column(table, sa.Column('attempts', sa.Integer(), nullable=False,
                                       server_default='0'))
    op.add_column('eval_runs', sa.Column('started_as', sa.JSON(), nullable=False,
                                         server_default='{}'))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+): neither table is referenced by a cascading key, but a
    # batch copy is not needed either
    op.drop_column('eval_runs', 'started_as')
    for table in TABLES:
        op.drop_column(table, 'attempts')
        op.drop_column(table, 'heartbeat_at')
        op.drop_column(table, 'owner')
