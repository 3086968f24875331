"""answers keep the model's raw text beside the shown answer

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('answers') as batch:
        batch.add_column(sa.Column('generated', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('answers') as batch:
        batch.drop_column('generated')
