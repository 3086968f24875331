"""Re-index jobs on the shared background machinery (``app.core.background``): claiming by one
process, takeover from a dead one, the messages a failed job keeps, and throttled progress
writes. Evaluation runs use the same base; their claiming is checked here too, since it is the
same code path (their resuming is in tests/app/evaluation/test_runs.py)."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from app.core.background import Claim, ProgressWriter
from app.core.settings import JobSettings
from app.core.tables import utcnow
from app.evaluation.tables import EvalRun as EvalRunRow
from app.knowledge.job_records import Job
from app.knowledge.jobs import JobRunner
from app.knowledge.tables import Job as JobRow
from app.wiring import Services


def finished(services: Services, job_id: str, timeout: float = 20) -> Job:
    deadline = time.monotonic() + timeout
    while (job := services.jobs.get(job_id)).status in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def _second_process(services: Services, **timing: float) -> JobRunner:
    """Another server on the same database (its own owner name, poller and worker)."""
    return JobRunner(services.sessions, services.indexer, services.audit,
                     timing=JobSettings(**{"heartbeat_s": 0.2, "stale_s": 2, **timing}))


def _row(services: Services, job_id: str) -> JobRow:
    with services.sessions() as session:
        row = session.get(JobRow, job_id)
        assert row is not None
        return row


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_queued_job_is_claimed_by_exactly_one_process(indexed: Services) -> None:
    with indexed.sessions() as session:
        session.add(JobRow(id="queued", collection="kb", status="queued"))
        session.commit()
    other = _second_process(indexed)
    try:
        claim = indexed.jobs.claim_next()
        assert claim is not None and claim.job_id == "queued" and claim.previous is None
        assert other.claim_next() is None  # owned and heartbeating: not the other's to take
        row = _row(indexed, "queued")
        assert (row.owner, row.attempts) == (indexed.jobs.owner, 1)
        assert other.update("queued", message="not mine") is False  # writes need ownership
    finally:
        other.shutdown()


def test_a_job_whose_process_stopped_heartbeating_is_taken_over_and_finished(
        indexed: Services, kb: Path) -> None:
    (kb / "extra.md").write_text("# Badges\n\nBadge readers are rebooted at 06:00.\n")
    stale = utcnow() - timedelta(seconds=60)
    with indexed.sessions() as session:
        session.add_all([
            JobRow(id="orphan", collection="kb", status="running", owner="elsewhere:7:abc",
                   heartbeat_at=stale, attempts=1, requested_by="admin"),
            JobRow(id="alive", collection="kb2", status="running", owner="elsewhere:8:def",
                   heartbeat_at=utcnow() + timedelta(hours=1), attempts=1)])
        session.commit()
    other = _second_process(indexed)
    try:
        other.start_polling()
        job = finished(indexed, "orphan")
        assert job.status == "succeeded" and job.result is not None and job.result.added == 1
        assert _row(indexed, "orphan").owner == other.owner
        assert (job.runner, job.attempts) == (other.owner, 2)  # what the admin's page shows
        assert job.heartbeat_at is not None
        assert _row(indexed, "alive").owner == "elsewhere:8:def"  # a live process keeps its job
        taken = indexed.audit.latest("reindex_taken_over")
        assert taken is not None and taken["details"]["previous"] == "elsewhere:7:abc"
    finally:
        other.shutdown()


def test_a_job_of_a_process_of_this_host_that_is_gone_is_taken_at_once(
        indexed: Services) -> None:
    owner = f"{socket.gethostname()}:{_dead_pid()}:abc"
    with indexed.sessions() as session:  # heartbeating a moment ago, but its process is gone
        session.add(JobRow(id="orphan", collection="kb", status="running", owner=owner,
                           heartbeat_at=utcnow(), attempts=1))
        session.commit()
    claim = indexed.jobs.claim_next()
    assert claim is not None and claim.previous == owner


def test_a_job_that_stopped_its_processes_too_often_is_failed_not_taken_again(
        indexed: Services) -> None:
    with indexed.sessions() as session:
        session.add(JobRow(id="poison", collection="kb", status="running", owner="x:1:a",
                           heartbeat_at=utcnow() - timedelta(minutes=5), attempts=3))
        session.commit()
    assert indexed.jobs.claim_next() is None
    job = indexed.jobs.get("poison")
    assert job.status == "failed" and "stopped 3 times" in job.message


def test_a_process_that_lost_its_job_stops_it_and_writes_nothing_more(
        indexed: Services) -> None:
    with indexed.sessions() as session:
        session.add(JobRow(id="job", collection="kb", status="queued"))
        session.commit()
    stalled = _second_process(indexed, stale_s=0.5)
    assert stalled.claim_next() is not None
    time.sleep(0.6)  # it stalled: no heartbeat for longer than stale_s
    other = _second_process(indexed, stale_s=0.5)
    try:
        assert (claim := other.claim_next()) is not None and claim.previous == stalled.owner
        assert stalled.mine("job") is False
        assert stalled.update("job", status="failed") is False
        assert indexed.jobs.get("job").status == "queued"
    finally:
        stalled.shutdown()
        other.shutdown()


def test_a_database_outage_is_logged_when_it_starts_and_when_it_ends(
        indexed: Services, kb: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    poller = _second_process(indexed, heartbeat_s=0.02)
    real, failures = poller.claim_next, iter(range(10))

    def flaky() -> Claim | None:
        if next(failures, None) is not None:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return real()

    monkeypatch.setattr(poller, "claim_next", flaky)
    with indexed.sessions() as session:
        session.add(JobRow(id="later", collection="kb", status="queued", requested_by="admin"))
        session.commit()
    try:
        with caplog.at_level(logging.WARNING, logger="app.core.background"):
            poller.start_polling()
            assert finished(indexed, "later").status == "succeeded"  # claimed once it was back
        said = [r.getMessage() for r in caplog.records]
        assert said == ["re-index poller: database unavailable, retrying every 0.02 s",
                        "re-index poller: database reachable again"]
    finally:
        poller.shutdown()


def _abandoned_run(services: Services, run_id: str, attempts: int) -> EvalRunRow:
    """A run whose process ("x:1:a") stopped heartbeating five minutes ago, started before
    runs recorded who started them (``started_as`` empty)."""
    with services.sessions() as session:
        session.add(EvalRunRow(id=run_id, created_by="eva", status="running", set_name="tiny",
                               set_hash="0" * 64, prompt="answer@1", model_id="fake",
                               config={}, owner="x:1:a", attempts=attempts,
                               heartbeat_at=utcnow() - timedelta(minutes=5)))
        session.commit()
    return _run(services, run_id)


def _run(services: Services, run_id: str) -> EvalRunRow:
    with services.sessions() as session:
        run = session.get(EvalRunRow, run_id)
        assert run is not None
        return run


def test_an_evaluation_run_is_claimed_like_a_reindex(indexed: Services) -> None:
    _abandoned_run(indexed, "run", attempts=3)
    assert indexed.evals.claim_next() is None
    assert _run(indexed, "run").status == "failed"


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


def test_a_run_from_before_runs_recorded_their_starter_is_failed_not_run_as_nobody(
        indexed: Services) -> None:
    _abandoned_run(indexed, "old", attempts=1)
    claim = indexed.evals.claim_next()
    assert claim is not None and claim.previous == "x:1:a"
    indexed.evals.execute("old", threading.Event(), claim.previous)
    run = _run(indexed, "old")
    assert run.status == "failed" and "older version" in run.message
