"""Re-index jobs on the shared background machinery (``app.core.background``): recovery after a
dead process, the messages a failed job keeps, and throttled progress writes. Evaluation runs
use the same base; their recovery is checked here too, since it is the same code path."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from app.core.background import ProgressWriter
from app.evaluation.tables import EvalRun as EvalRunRow
from app.knowledge.job_records import Job
from app.knowledge.tables import Job as JobRow
from app.wiring import Services


def finished(services: Services, job_id: str, timeout: float = 20) -> Job:
    deadline = time.monotonic() + timeout
    while (job := services.jobs.get(job_id)).status in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def test_recover_marks_what_a_dead_process_left_running_as_interrupted(
        indexed: Services) -> None:
    with indexed.sessions() as session:
        session.add_all([JobRow(id="queued", collection="kb", status="queued"),
                         JobRow(id="running", collection="kb", status="running"),
                         JobRow(id="done", collection="kb", status="succeeded", message="done"),
                         EvalRunRow(id="run", created_by="eva", status="running",
                                    set_name="tiny", set_hash="0" * 64, prompt="answer@1",
                                    model_id="fake", config={})])
        session.commit()
    assert indexed.jobs.recover() == 2
    assert indexed.jobs.recover() == 0  # nothing is left to recover
    for job_id in ("queued", "running"):
        job = indexed.jobs.get(job_id)
        assert job.status == "interrupted" and job.finished_at is not None
        assert "the next re-index resumes" in job.message
    assert indexed.jobs.get("done").status == "succeeded"
    assert indexed.evals.recover() == 1
    with indexed.sessions() as session:
        run = session.get(EvalRunRow, "run")
        assert run is not None
        assert (run.status, run.message) == ("interrupted", "the server stopped during this run")


def test_a_reindex_of_a_vanished_folder_fails_with_the_domain_message(
        indexed: Services, kb: Path) -> None:
    shutil.rmtree(kb)
    job = finished(indexed, indexed.jobs.start_reindex("kb", actor="admin").id)
    assert job.status == "failed" and job.result is None
    assert job.message == "collection folder does not exist or is not a directory"
    audit = indexed.audit.latest("reindex_finished")
    assert audit is not None and audit["details"]["message"] == job.message


def test_a_bug_in_a_reindex_keeps_only_its_type(indexed: Services,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("/srv/secret/path exploded")

    monkeypatch.setattr(indexed.indexer, "sync", broken)
    job = finished(indexed, indexed.jobs.start_reindex("kb", actor="admin").id)
    assert job.status == "failed"
    assert job.message == "re-index failed (RuntimeError); see the server log"


def test_a_finished_job_reports_its_summary_and_skipped_files(indexed: Services,
                                                             kb: Path) -> None:
    (kb / "empty.md").write_text("")
    job = finished(indexed, indexed.jobs.start_reindex("kb", actor="admin").id)
    assert job.status == "succeeded" and job.message == "done"
    assert job.result is not None and job.result.unchanged == 3 and job.result.skipped == 1
    assert [(e.path, e.reason) for e in job.errors] == [("empty.md", "empty file")]
    assert job.progress.files_done == job.progress.files_total == 3


def test_progress_writes_are_throttled_but_the_last_is_forced() -> None:
    written: list[int] = []
    write = ProgressWriter(lambda done: written.append(done), every=60)
    for done in range(1, 6):
        write(done=done, force=done == 5)
    assert written == [1, 5]  # the first at once, then nothing for a minute, then the last


def test_a_job_that_fails_late_still_lists_the_files_it_skipped(
        indexed: Services, kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (kb / "junk.md").write_bytes(b"\x00\x01binary")

    def no_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(indexed.indexer, "_ensure_snapshot", no_disk)
    job = finished(indexed, indexed.jobs.start_reindex("kb", actor="admin").id)
    assert job.status == "failed"
    assert [(e.path, e.reason) for e in job.errors] == [("junk.md", "binary content, not text")]
    assert job.progress.files_done == 4
