"""One machinery for background jobs whose state lives in SQL rows: re-index jobs
(``app.knowledge.jobs``) and evaluation runs (``app.evaluation.runs``).

Each kind of job runs on its own single worker thread: a re-index already uses every core for
embedding and an evaluation run shares the cores and the LLM with chat, so two at once would
only make both slower. The row is the only shared state, so any process can read a job's
progress, and what the rows say survives a crash:

* ``recover`` (at start-up) marks rows a dead process left queued or running as interrupted,
  since nothing would ever finish them;
* ``progress`` writes progress at most twice a second, so a fast job doesn't spend its time
  committing counters;
* ``failure`` turns an exception into the message the row keeps: a domain error's own (lower
  layers translated by ``app.core.errors.translate``), else only the exception's type, with the
  traceback in the server log;
* ``shutdown`` asks the job in flight to stop at its next checkpoint (``stopping``), drops
  queued ones and waits; ``stop`` only asks, so a server can ask every kind of job at once and
  then wait for each. A job whose steps can block (a re-index parsing a file) passes the event
  down (``_stopping``) so the blocking step itself gives up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, get_args

from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import translate
from app.core.tables import utcnow
from app.core.transitions import conditional_update

JobStatus = Literal["queued", "running", "succeeded", "failed", "interrupted"]
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
ACTIVE: tuple[JobStatus, ...] = ("queued", "running")

log = logging.getLogger("vraagbaak.background")


class ProgressWriter:
    """Stores progress values at most every ``every`` seconds; ``force=True`` stores them now
    (the last step of a job, so its row ends up exact)."""

    def __init__(self, write: Callable[..., None], every: float = 0.5) -> None:
        self._write = write
        self._every = every
        self._last = float("-inf")

    def __call__(self, *, force: bool = False, **values: Any) -> None:
        now = time.monotonic()
        if force or now - self._last >= self._every:
            self._last = now
            self._write(**values)


class BackgroundJobs:
    """The base of a kind of background job stored as rows of ``table``, a mapped class with
    ``id``, ``status``, ``message`` and ``finished_at`` columns."""

    def __init__(self, sessions: sessionmaker[Session], table: type[Any], *, name: str,
                 label: str, interrupted: str) -> None:
        """``name``: the worker thread's name; ``label``: what a job is called in messages
        ("re-index"); ``interrupted``: the message ``recover`` leaves on a dead job."""
        self._sessions = sessions
        self._table = table
        self._label = label
        self._interrupted = interrupted
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._stopping = threading.Event()

    @property
    def stopping(self) -> bool:
        """Set by ``shutdown``: a job that can stop between steps should."""
        return self._stopping.is_set()

    def submit(self, job: Callable[..., object], *args: object) -> None:
        """Queue ``job(*args)`` on this kind's worker thread."""
        self._pool.submit(job, *args)

    def recover(self) -> int:
        """Mark jobs a dead process left queued or running as interrupted; how many."""
        with self._sessions() as session:
            n = conditional_update(session, self._table, self._table.status.in_(ACTIVE),
                                   status="interrupted", message=self._interrupted,
                                   finished_at=utcnow())
            session.commit()
        return n

    def update(self, job_id: str, **values: Any) -> None:
        """Store ``values`` on the job's row, in a transaction of its own."""
        with self._sessions() as session:
            conditional_update(session, self._table, self._table.id == job_id, **values)
            session.commit()

    def progress(self, job_id: str) -> ProgressWriter:
        """A throttled ``update`` of one job, for its progress counters."""
        return ProgressWriter(lambda **values: self.update(job_id, **values))

    def failure(self, job_id: str, exc: Exception) -> str:
        """The message a failed job keeps (see the module docstring)."""
        domain = translate(exc)
        if domain is not None:
            return domain.message
        log.error("%s %s failed", self._label, job_id, exc_info=exc)
        return f"{self._label} failed ({type(exc).__name__}); see the server log"

    def stop(self) -> None:
        """Ask the job in flight to stop at its next checkpoint; don't wait."""
        self._stopping.set()

    def shutdown(self) -> None:
        """Stop after the current step of the job in flight, drop queued jobs, wait."""
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
