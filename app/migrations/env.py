"""Alembic environment: runs on the connection handed over by ``app.db.migrate``."""

from __future__ import annotations

from alembic import context

from app import eval_tables, identity_tables, review_tables  # noqa: F401  (their tables)
from app.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
