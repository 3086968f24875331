"""Background re-index jobs with progress stored in SQL, readable by any process.

Any process sharing the database may run a queued re-index (``app.core.background``): one at
a time per process, since embedding already uses every core. Two syncs of one collection would
race on its rows, so a second request for a collection with a queued or running job gets 409
instead of a duplicate. A job whose process died is taken over by another (or by the same
server once it is back) and resumes where it stopped, because a sync keeps the batches it
committed; a server shutting down stops its job, mid-parse if need be, and hands it back.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.background import ACTIVE, BackgroundJobs
from app.core.errors import Conflict, NotFound
from app.core.settings import JobSettings
from app.core.tables import utcnow
from app.knowledge.indexing import Indexer, SyncReport
from app.knowledge.job_records import Job, JobProgress, SkippedFile, SyncSummary
from app.knowledge.tables import Job as JobRow
from ingest.loaders.worker import Cancelled


class JobRunner(BackgroundJobs):
    """Queues re-indexes of collections and runs them, one at a time, on its worker thread."""

    def __init__(self, sessions: sessionmaker[Session], indexer: Indexer,
                 audit: AuditLog,
                 succeeded: Callable[[str, str, str], None] | None = None,
                 timing: JobSettings | None = None) -> None:
        super().__init__(sessions, JobRow, name="ingest", label="re-index", timing=timing)
        self._indexer = indexer
        self._audit = audit
        # (job id, collection, actor) after each successful sync; must not raise
        self._succeeded = succeeded

    def start_reindex(self, collection: str, *, actor: str) -> Job:
        """Queue a re-index of ``collection`` (409 while one is queued or running)."""
        with self._sessions() as session:
            running = _active(session, collection)
            if running is not None:
                raise Conflict(f"collection '{collection}' is already being re-indexed "
                               f"(job {running})", code="job_running")
            job = JobRow(id=uuid.uuid4().hex, collection=collection, requested_by=actor)
            session.add(job)
            session.commit()
        self._audit.record(actor, "reindex_started", collection, job_id=job.id)
        self.submit()
        return self.get(job.id)

    def execute(self, job_id: str, stop: threading.Event, previous: str | None) -> None:
        """Run a job this process claimed (``app.core.background`` calls it)."""
        self.run(job_id, stop=stop, previous=previous)

    def run(self, job_id: str, *, stop: threading.Event | None = None,
            previous: str | None = None) -> SyncReport | None:
        """Run a claimed job to its end in this thread; ``previous``: the process it was
        taken over from, if it was."""
        with self._sessions() as session:
            job = session.get(JobRow, job_id)
            assert job is not None
            collection, actor = job.collection, job.requested_by or "system"
            started = job.started_at or utcnow()
        if not self.update(job_id, status="running", started_at=started):
            return None  # another process took it meanwhile
        if previous is not None:
            self._audit.record("system", "reindex_taken_over", collection, job_id=job_id,
                               previous=previous, owner=self.owner)
        stop = stop or self._stopping
        write = self.progress(job_id)
        seen = SyncReport()  # the sync's last progress, for a sync that then fails

        def progress(report: SyncReport) -> None:
            nonlocal seen
            seen = report
            write(files_total=report.files_total, files_done=report.files_done,
                  chunks=report.chunks_embedded, errors=list(report.errors))

        try:
            report = self._indexer.sync(collection, progress, stop=stop)
        except Cancelled:
            if not self.taken(job_id):  # taken over: the new owner writes from now on
                self._audit.record(actor, "reindex_handed_back", collection, job_id=job_id,
                                   files_done=seen.files_done)
                self.hand_back(job_id, files_done=seen.files_done, errors=list(seen.errors))
            return None
        except Exception as exc:
            if not self.mine(job_id):
                return None
            message = self.failure(job_id, exc)
            # the audit line first: whoever sees the job finished finds it in the trail
            self._audit.record(actor, "reindex_finished", collection, job_id=job_id,
                               status="failed", message=message)
            # the files skipped before the failure, even if the throttled progress missed them
            self.update(job_id, status="failed", message=message, files_done=seen.files_done,
                        errors=list(seen.errors), finished_at=utcnow())
            return None
        if not self.mine(job_id):  # it stalled past stale_s: the process that took it over
            return None            # reports the end
        self._audit.record(actor, "reindex_finished", collection, job_id=job_id,
                           status="succeeded", **report.summary())
        if self._succeeded is not None:  # before the job reads as done: its effects are in
            self._succeeded(job_id, collection, actor)
        self.update(job_id, status="succeeded", files_total=report.files_total,
                    files_done=report.files_done, chunks=report.chunks_embedded,
                    errors=list(report.errors), result=report.summary(),
                    finished_at=utcnow(), message="done")
        return report

    def get(self, job_id: str) -> Job:
        """A job as it is now (any process may ask: the row is the truth)."""
        with self._sessions() as session:
            job = session.get(JobRow, job_id)
        if job is None:
            raise NotFound("job not found", code="job_not_found")
        return self._view(job)

    def recent(self, collection: str, *, limit: int = 10) -> list[Job]:
        """The collection's latest ``limit`` re-indexes, newest first."""
        with self._sessions() as session:
            rows = session.scalars(select(JobRow).where(JobRow.collection == collection)
                                   .order_by(JobRow.created_at.desc(), JobRow.id)
                                   .limit(limit)).all()
        return [self._view(job) for job in rows]

    def active(self, collection: str) -> str | None:
        """The id of the collection's queued or running re-index, if there is one."""
        with self._sessions() as session:
            return _active(session, collection)

    @staticmethod
    def _view(job: JobRow) -> Job:
        return Job(
            id=job.id, kind=job.kind, collection=job.collection,
            requested_by=job.requested_by, status=job.status,
            progress=JobProgress(files_done=job.files_done, files_total=job.files_total,
                                 chunks_embedded=job.chunks, errors=len(job.errors)),
            result=SyncSummary.model_validate(job.result) if job.result else None,
            errors=[SkippedFile.model_validate(e) for e in job.errors],
            message=job.message, runner=job.owner, attempts=job.attempts,
            heartbeat_at=job.heartbeat_at.isoformat() if job.heartbeat_at else None,
            created_at=job.created_at.isoformat(),
            started_at=job.started_at.isoformat() if job.started_at else None,
            finished_at=job.finished_at.isoformat() if job.finished_at else None,
        )


def _active(session: Session, collection: str) -> str | None:
    return session.scalars(select(JobRow.id).where(
        JobRow.collection == collection, JobRow.status.in_(ACTIVE))).first()
