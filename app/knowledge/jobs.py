"""Background re-index jobs with progress stored in SQL, readable by any process.

One ingestion thread per process: embedding already uses every core, and two syncs of one
collection would race on its rows, so a second request for a collection with a queued or
running job gets 409 instead of a duplicate.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.errors import Conflict, NotFound, VraagbaakError
from app.core.tables import utcnow
from app.knowledge.indexing import Indexer, SyncReport
from app.knowledge.tables import Job
from ingest.scanning import RootError

log = logging.getLogger("vraagbaak.jobs")
ACTIVE = ("queued", "running")


class JobRunner:
    def __init__(self, sessions: sessionmaker[Session], indexer: Indexer,
                 audit: AuditLog) -> None:
        self._sessions = sessions
        self._indexer = indexer
        self._audit = audit
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    def recover(self) -> int:
        """Mark jobs a dead process left running as interrupted; the next sync resumes them."""
        with self._sessions() as session:
            n = session.execute(
                update(Job).where(Job.status.in_(ACTIVE)).values(
                    status="interrupted", message="the server stopped during this job; "
                    "the next re-index resumes where it left off", finished_at=utcnow())
            ).rowcount  # type: ignore[attr-defined]
            session.commit()
        return int(n or 0)

    def start_reindex(self, collection: str, *, actor: str) -> dict[str, Any]:
        with self._sessions() as session:
            running = session.scalars(
                select(Job).where(Job.collection == collection, Job.status.in_(ACTIVE))
            ).first()
            if running is not None:
                raise Conflict(f"collection '{collection}' is already being re-indexed "
                               f"(job {running.id})", code="job_running")
            job = Job(id=uuid.uuid4().hex, collection=collection, requested_by=actor)
            session.add(job)
            session.commit()
        self._audit.record(actor, "reindex_started", collection, job_id=job.id)
        self._pool.submit(self.run, job.id)
        return self.get(job.id)

    def run(self, job_id: str) -> SyncReport | None:
        """Run a job to completion in this thread (the pool calls it; tests may too)."""
        with self._sessions() as session:
            job = session.get(Job, job_id)
            assert job is not None
            job.status, job.started_at = "running", utcnow()
            session.commit()
            collection, actor = job.collection, job.requested_by or "system"
        last = 0.0

        def progress(report: SyncReport) -> None:
            nonlocal last
            if time.monotonic() - last < 0.5:
                return
            last = time.monotonic()
            self._update(job_id, files_total=report.files_total, files_done=report.files_done,
                         chunks=report.chunks_embedded, errors=list(report.errors))

        try:
            report = self._indexer.sync(collection, progress)
        except (VraagbaakError, RootError) as exc:
            self._update(job_id, status="failed", message=str(exc), finished_at=utcnow())
            self._audit.record(actor, "reindex_finished", collection, job_id=job_id,
                               status="failed", message=str(exc))
            return None
        except Exception as exc:
            log.exception("re-index job %s failed", job_id)
            self._update(job_id, status="failed", finished_at=utcnow(),
                         message=f"re-index failed ({type(exc).__name__}); see the server log")
            self._audit.record(actor, "reindex_finished", collection, job_id=job_id,
                               status="failed", message=type(exc).__name__)
            return None
        self._update(job_id, status="succeeded", files_total=report.files_total,
                     files_done=report.files_done, chunks=report.chunks_embedded,
                     errors=list(report.errors), result=report.summary(),
                     finished_at=utcnow(), message="done")
        self._audit.record(actor, "reindex_finished", collection, job_id=job_id,
                           status="succeeded", **report.summary())
        return report

    def _update(self, job_id: str, **values: Any) -> None:
        with self._sessions() as session:
            session.execute(update(Job).where(Job.id == job_id).values(**values))
            session.commit()

    def get(self, job_id: str) -> dict[str, Any]:
        with self._sessions() as session:
            job = session.get(Job, job_id)
        if job is None:
            raise NotFound("job not found", code="job_not_found")
        return {
            "id": job.id,
            "kind": job.kind,
            "collection": job.collection,
            "requested_by": job.requested_by,
            "status": job.status,
            "progress": {"files_done": job.files_done, "files_total": job.files_total,
                         "chunks_embedded": job.chunks, "errors": len(job.errors)},
            "result": job.result,
            "errors": job.errors,
            "message": job.message,
            "created_at": job.created_at.isoformat(),
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        }

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
