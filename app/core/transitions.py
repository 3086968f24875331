"""The one conditional UPDATE: change rows only where they still are in the expected state.

Every state change that two actors may race for (two reviewers approving one draft, two
workers claiming one webhook delivery, a recovery pass marking interrupted jobs) is an
``UPDATE ... WHERE <id> AND <state IN (...)>`` issued first in its transaction, and the number
of rows it changed says who won. The database decides, not a Python lock: on PostgreSQL the
loser waits for the winner's row lock and then no longer matches; SQLite serialises writers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session


def conditional_update(session: Session, table: type[Any], *where: ColumnElement[bool],
                       **values: Any) -> int:
    """``UPDATE table SET values WHERE all of where``; returns the number of rows changed."""
    result = session.execute(update(table).where(*where).values(**values)
                             .execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)
