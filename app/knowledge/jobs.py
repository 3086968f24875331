"""Background re-index jobs with progress stored in SQL, readable by any process.

One ingestion thread per process (``app.core.background``): embedding already uses every core,
and two syncs of one collection would race on its rows, so a second request for a collection
with a queued or running job gets 409 instead of a duplicate. A job a dead process left behind
is marked interrupted at start-up; the next re-index resumes where it stopped, because a sync
keeps the batches it committed. A server shutting down stops its job the same way, mid-parse
if need be, and marks it interrupted itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.background import ACTIVE, BackgroundJobs
from app.core.errors import Conflict, NotFound
from app.core.tables import utcnow
from app.knowledge.indexing import Indexer, SyncReport
from app.knowledge.job_records import Job, JobProgress, SkippedFile, SyncSummary
from app.knowledge.tables import Job as JobRow
from ingest.loaders.worker import Cancelled


class JobRunner(BackgroundJobs):
    """Queues re-indexes of collections and runs them, one at a time, on its worker thread."""

    def __init__(self, sessions: sessionmaker[Session], indexer: Indexer,
                 audit: AuditLog,
                 succeeded: Callable[[str, str, str], None] | None = None) -> None:
        super().__init__(sessions, JobRow, name="ingest", label="re-index",
                         interrupted="the server stopped during this job; the next re-index "
                                     "resumes where it left off")
        self._indexer = indexer
        self._audit = audit
        # (job id, collection, actor) after each successful sync; must not raise
        self._succeeded = succeeded

    def start_reindex(self, collection: str, *, actor: str) -> Job:
        """Queue a re-index of ``collection`` (409 while one is queued or running)."""
        with self._sessions() as session:
            running = session.scalars(
                select(JobRow).where(JobRow.collection == collection, JobRow.status.in_(ACTIVE))
            ).first()
            if running is not None:
                raise Conflict(f"collection '{collection}' is already being re-indexed "
                               f"(job {running.id})", code="job_running")
            job = JobRow(id=uuid.uuid4().hex, collection=collection, requested_by=actor)
            session.add(job)
            session.commit()
        self._audit.record(actor, "reindex_started", collection, job_id=job.id)
        self.submit(self.run, job.id)
        return self.get(job.id)

    def run(self, job_id: str) -> SyncReport | None:
        """Run a job to completion in this thread (the pool calls it; tests may too)."""
        with self._sessions() as session:
            job = session.get(JobRow, job_id)
            assert job is not None
            job.status, job.started_at = "running", utcnow()
            session.commit()
            collection, actor = job.collection, job.requested_by or "system"
        write = self.progress(job_id)
        seen = SyncReport()  # the sync's last progress, for a sync that then fails

        def progress(report: SyncReport) -> None:
            nonlocal seen
            seen = report
            write(files_total=report.files_total, files_done=report.files_done,
                  chunks=report.chunks_embedded, errors=list(report.errors))

        try:
            report = self._indexer.sync(collection, progress, stop=self._stopping)
        except Cancelled:
            self._audit.record(actor, "reindex_finished", collection, job_id=job_id,
                               status="interrupted", message=self._interrupted)
            self.update(job_id, status="interrupted", message=self._interrupted,
                        files_done=seen.files_done, errors=list(seen.errors),
                        finished_at=utcnow())
            return None
        except Exception as exc:
            message = self.failure(job_id, exc)
            # the audit line first: whoever sees the job finished finds it in the trail
            self._audit.record(actor, "reindex_finished", collection, job_id=job_id,
                               status="failed", message=message)
            # the files skipped before the failure, even if the throttled progress missed them
            self.update(job_id, status="failed", message=message, files_done=seen.files_done,
                        errors=list(seen.errors), finished_at=utcnow())
            return None
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
        return Job(
            id=job.id, kind=job.kind, collection=job.collection,
            requested_by=job.requested_by, status=job.status,
            progress=JobProgress(files_done=job.files_done, files_total=job.files_total,
                                 chunks_embedded=job.chunks, errors=len(job.errors)),
            result=SyncSummary.model_validate(job.result) if job.result else None,
            errors=[SkippedFile.model_validate(e) for e in job.errors],
            message=job.message,
            created_at=job.created_at.isoformat(),
            started_at=job.started_at.isoformat() if job.started_at else None,
            finished_at=job.finished_at.isoformat() if job.finished_at else None,
        )
