"""One machinery for background jobs whose state lives in SQL rows: re-index jobs
(``app.knowledge.jobs``) and evaluation runs (``app.evaluation.runs``).

A job is a row that any process sharing the database may claim; the row is the only shared
state, so any process can read a job's progress, and what the rows say survives a crash:

* **claiming:** each kind of job has one poller thread per process. While its worker is idle
  it claims the oldest claimable row (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
  two processes never wait on the same row; SQLite has one writer anyway) and stamps it with
  this process as its ``owner``. The stamp is a conditional UPDATE (``app.core.transitions``),
  so of two processes that read the same row only one wins, whatever the backend. A job runs on
  the process's single worker thread: a re-index already uses every core for embedding and an
  evaluation run shares the cores and the LLM with chat, so two at once would only make both
  slower.
* **heartbeat:** the poller stamps ``heartbeat_at`` on the rows this process owns every
  ``heartbeat_s``. A row whose owner stopped heartbeating for ``stale_s`` (or whose owner was a
  process of this host that no longer exists) is taken over by the next process that polls and
  resumed: a re-index keeps the batches it committed, an evaluation run the results it stored.
  A job taken over ``max_attempts`` times is failed rather than tried again: it may be what
  kills its processes. A process that finds its row taken (it stalled past ``stale_s``) stops
  the job and writes nothing more, so exactly one process runs a job.
* **shutdown:** ``stop`` asks the job in flight to stop at its next checkpoint (a job whose
  steps can block, a re-index parsing a file, passes the event down so the blocking step itself
  gives up) and ``shutdown`` also waits. A job stopped this way is handed back (queued, no
  owner) for the next process to resume; another replica claims it within ``heartbeat_s``.
* ``progress`` writes progress at most twice a second, so a fast job doesn't spend its time
  committing counters; ``failure`` turns an exception into the message the row keeps: a domain
  error's own (lower layers translated by ``app.core.errors.translate``), else only the
  exception's type, with the traceback in the server log.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import translate
from app.core.settings import JobSettings
from app.core.tables import utcnow
from app.core.transitions import conditional_update

JobStatus = Literal["queued", "running", "succeeded", "failed", "interrupted"]
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
ACTIVE: tuple[JobStatus, ...] = ("queued", "running")
HANDED_BACK = "handed back by a stopping server; the next server to claim it resumes it"

log = logging.getLogger("vraagbaak.background")


class ProgressWriter:
    """Stores progress values at most every ``every`` seconds; ``force=True`` stores them now
    (the last step of a job, so its row ends up exact)."""

    def __init__(self, write: Callable[..., object], every: float = 0.5) -> None:
        self._write = write
        self._every = every
        self._last = float("-inf")

    def __call__(self, *, force: bool = False, **values: Any) -> None:
        now = time.monotonic()
        if force or now - self._last >= self._every:
            self._last = now
            self._write(**values)


@dataclass(frozen=True)
class Claim:
    """A job this process now owns; ``previous``: the owner it was taken over from."""

    job_id: str
    previous: str | None


def process_name() -> str:
    """A job owner's name: host, process id and a random part (a reused pid is a new owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def gone(owner: str) -> bool:
    """Whether ``owner`` was a process of this host that no longer exists (then its rows
    need not wait ``stale_s`` to be taken over). Owners of other hosts are never ``gone``."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


class BackgroundJobs:
    """The base of a kind of background job stored as rows of ``table``, a mapped class with
    ``id``, ``status``, ``message``, ``created_at``, ``finished_at``, ``owner``,
    ``heartbeat_at`` and ``attempts`` columns. A subclass says how to run a claimed row
    (``execute``)."""

    def __init__(self, sessions: sessionmaker[Session], table: type[Any], *, name: str,
                 label: str, timing: JobSettings | None = None) -> None:
        """``name``: the worker thread's name; ``label``: what a job is called in messages
        ("re-index")."""
        self._sessions = sessions
        self._table = table
        self._label = label
        self._name = name
        self._timing = timing or JobSettings()
        self.owner = process_name()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._poller: threading.Thread | None = None
        self._claims = False  # whether the poller claims jobs or only heartbeats
        self._running: str | None = None  # the job id on the worker thread
        self._halts: dict[str, threading.Event] = {}  # per job this process runs: stop it
        self._taken: set[str] = set()  # jobs found owned by another process meanwhile

    # -- the hooks a kind of job fills in --------------------------------------------------
    def execute(self, job_id: str, stop: threading.Event, previous: str | None) -> None:
        """Run the claimed job ``job_id`` to its end; stop early once ``stop`` is set."""
        raise NotImplementedError

    # -- claiming ----------------------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        """Set by ``stop``/``shutdown``: a job that can stop between steps should."""
        return self._stopping.is_set()

    def start_polling(self, *, claim: bool = True) -> None:
        """Start this process's poller (once): it heartbeats what this process owns and, with
        ``claim``, claims queued and abandoned jobs. A process that only runs its own job in
        the caller's thread (``vraagbaak eval run``) starts it with ``claim=False``."""
        with self._lock:
            self._claims = self._claims or claim
            if self._poller is None and not self._stopping.is_set():
                self._poller = threading.Thread(target=self._poll, name=f"{self._name}-poll",
                                                daemon=True)
                self._poller.start()
        self._wake.set()

    def submit(self) -> None:
        """A job row was queued: claim it now if this process is idle (else whichever process
        polls next will)."""
        self.start_polling()

    def own(self, **values: Any) -> dict[str, Any]:
        """The column values of a new row this process runs itself, at once."""
        return {"owner": self.owner, "heartbeat_at": utcnow(), "attempts": 1, **values}

    def run_owned(self, job_id: str) -> None:
        """Run a row created with ``own`` in the caller's thread, heartbeating meanwhile."""
        self.start_polling(claim=False)
        self._execute(Claim(job_id, None))

    def _poll(self) -> None:
        down = False  # an outage is logged once when it starts and once when it ends
        while not self._stopping.is_set():
            try:
                self._heartbeat()
                if self._claims and self._running is None:
                    claim = self.claim_next()
                    if claim is not None:
                        self._running = claim.job_id
                        self._pool.submit(self._execute, claim)
                if down:
                    log.warning("%s poller: database reachable again", self._label)
                down = False
            except Exception:  # a database hiccup: try again at the next beat
                if not down:
                    log.warning("%s poller: database unavailable, retrying every %s s",
                                self._label, self._timing.heartbeat_s, exc_info=True)
                down = True
            self._wake.wait(self._timing.heartbeat_s)
            self._wake.clear()

    def _heartbeat(self) -> None:
        owned = list(self._halts)
        if not owned:
            return
        table = self._table
        with self._sessions() as session:
            conditional_update(session, table, table.id.in_(owned), table.owner == self.owner,
                               table.status.in_(ACTIVE), heartbeat_at=utcnow())
            session.commit()
            still = set(session.scalars(select(table.id).where(
                table.id.in_(owned), table.owner == self.owner)).all())
        for job_id in owned:
            if job_id not in still and (halt := self._halts.get(job_id)) is not None:
                log.warning("%s %s was taken over by another process; stopping it here",
                            self._label, job_id)
                self._taken.add(job_id)
                halt.set()

    def claim_next(self) -> Claim | None:
        """Claim the oldest job nobody runs, or one whose owner stopped; None if there is none.
        A job taken over too often is failed instead (see the module docstring)."""
        table, now = self._table, utcnow()
        stale_before = now - timedelta(seconds=self._timing.stale_s)
        with self._sessions() as session:
            rows = session.execute(
                select(table.id, table.owner, table.heartbeat_at, table.attempts)
                .where(table.status.in_(ACTIVE)).order_by(table.created_at).limit(20)
                .with_for_update(skip_locked=True)).all()
            for job_id, owner, beat, attempts in rows:
                if owner is not None and beat is not None and beat >= stale_before \
                        and not gone(owner):
                    continue  # a live process runs it
                if owner is not None and attempts >= self._timing.max_attempts:
                    if conditional_update(session, table, table.id == job_id,
                                          table.owner == owner, status="failed",
                                          finished_at=now, message=self._given_up(attempts)):
                        session.commit()
                        log.error("%s %s given up after %d attempts", self._label, job_id,
                                  attempts)
                    continue
                same = (table.owner.is_(None) if owner is None else table.owner == owner)
                if conditional_update(session, table, table.id == job_id, same,
                                      table.status.in_(ACTIVE), owner=self.owner,
                                      heartbeat_at=now, attempts=attempts + 1):
                    session.commit()
                    if owner is not None:
                        log.warning("%s %s taken over from %s", self._label, job_id, owner)
                    return Claim(job_id, owner)
            session.commit()
        return None

    def _given_up(self, attempts: int) -> str:
        return (f"the server running this {self._label} stopped {attempts} times while it ran; "
                "it is not tried again (see the server logs)")

    def _execute(self, claim: Claim) -> None:
        halt = threading.Event()
        if self._stopping.is_set():
            halt.set()
        self._halts[claim.job_id] = halt
        try:
            self.execute(claim.job_id, halt, claim.previous)
        except Exception:
            log.exception("%s %s: unexpected error", self._label, claim.job_id)
        finally:
            self._halts.pop(claim.job_id, None)
            self._taken.discard(claim.job_id)
            self._running = None
            self._wake.set()  # idle again: claim the next one now

    def taken(self, job_id: str) -> bool:
        """Whether another process took ``job_id`` over while this one ran it."""
        return job_id in self._taken

    # -- writing -----------------------------------------------------------------------------
    def update(self, job_id: str, **values: Any) -> bool:
        """Store ``values`` on the job's row, in a transaction of its own, if this process
        still owns it (or nobody does); whether it did."""
        table = self._table
        with self._sessions() as session:
            n = conditional_update(session, table, table.id == job_id,
                                   (table.owner == self.owner) | table.owner.is_(None),
                                   **values)
            session.commit()
        return n > 0

    def mine(self, job_id: str) -> bool:
        """Whether this process still owns ``job_id`` (checked before a job's last writes)."""
        with self._sessions() as session:
            owner = session.scalar(select(self._table.owner).where(self._table.id == job_id))
        return owner == self.owner

    def hand_back(self, job_id: str, **values: Any) -> None:
        """Queue the job again for the next process to resume (a server stopping mid-job)."""
        self.update(job_id, status="queued", owner=None, heartbeat_at=None, attempts=0,
                    message=HANDED_BACK, **values)

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

    # -- stopping ----------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the job in flight to stop at its next checkpoint; don't wait."""
        self._stopping.set()
        for halt in list(self._halts.values()):
            halt.set()
        self._wake.set()

    def shutdown(self) -> None:
        """Stop after the current step of the job in flight, hand it back, wait."""
        self.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._poller is not None:
            self._poller.join(timeout=10)
        if (claimed := self._running) is not None:  # claimed, then cancelled before it ran
            self.hand_back(claimed)
