"""Alembic environment: runs on the connection handed over by ``app.core.db.migrate``."""

from __future__ import annotations

from alembic import context

# every feature's tables, so the metadata is whole (autogenerate compares against it)
from app.analytics import tables as _analytics  # noqa: F401
from app.answering import tables as _answering  # noqa: F401
from app.audit import tables as _audit  # noqa: F401
from app.core.tables import Base
from app.evaluation import tables as _evaluation  # noqa: F401
from app.feedback import tables as _feedback  # noqa: F401
from app.identity import tables as _identity  # noqa: F401
from app.knowledge import tables as _knowledge  # noqa: F401
from app.knowledge_gaps import tables as _knowledge_gaps  # noqa: F401
from app.knowledge_issues import tables as _knowledge_issues  # noqa: F401
from app.notifications import tables as _notifications  # noqa: F401
from app.prompt_library import tables as _prompt_library  # noqa: F401
from app.pulse import tables as _pulse  # noqa: F401
from app.review import tables as _review  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
