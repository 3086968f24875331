"""The production shape with real processes: two ``vraagbaak serve`` replicas on one PostgreSQL
database and one data directory, one inference server, rate limits in Redis.

* a sign-in limit counts the attempts made at either replica (shared through Redis);
* a re-index started through replica A is answered from replica B, with the LLM of the
  inference server;
* the replica running a re-index is killed with SIGKILL mid-job, and the other one takes the job
  over and finishes it: every file indexed once, the takeover in the audit trail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from app.audit.tables import AuditEntry
from app.core.settings import Settings
from app.knowledge.tables import Collection, Document
from app.knowledge.tables import Job as JobRow
from app.wiring import build_services
from bench.processes import free_port, start_inference_server, start_vraagbaak
from tests.access import bearer, make_user
from tests.conftest import write_kb

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BIG_FILES = 240  # a re-index of a few seconds with the real embedder on one thread
LOGIN_LIMIT = 4


def _big_kb(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(BIG_FILES):
        words = " ".join(f"word{(i * 7 + j) % 997}" for j in range(90))
        (root / f"note-{i:03d}.md").write_text(
            f"# Note {i}\n\nRoom R-{i:03d} has desk code DESK-{i:03d}-OK. {words}\n")
    return root


@dataclass
class Replicas:
    urls: list[str]
    procs: list[subprocess.Popen[bytes]]
    admin: dict[str, str]
    agent: dict[str, str]
    database_url: str
    logs: list[Path]

    def job(self, url: str, job_id: str) -> dict[str, Any]:
        got = httpx.get(f"{url}/v1/admin/jobs/{job_id}", headers=self.admin, timeout=10)
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body

    def owner_pid(self, job_id: str) -> int | None:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                owner = conn.scalar(select(JobRow.owner).where(JobRow.id == job_id))
        finally:
            engine.dispose()
        return int(owner.split(":")[1]) if owner else None


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    from tests.conftest import create_pg_database, drop_pg_database

    root = tmp_path_factory.mktemp("replicas")
    database_url, name = create_pg_database()
    data = root / "data"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        seed = build_services(Settings(data_dir=data, database_url=database_url,
                                       warm_up=False))
        try:
            seed.collections.upsert("kb", write_kb(root / "kb"), "en")
            seed.collections.upsert("big", _big_kb(root / "big"), "en")
            for collection in ("kb", "big"):
                seed.access.set_grants(collection, everyone=True)
            admin = bearer(make_user(seed, "admin", ["admin"]))
            agent = bearer(make_user(seed, "agent", ["agent"], password="agent-password-1"))
        finally:
            seed.close()
        llm_port = free_port()
        procs.append(start_inference_server(llm_port, root / "llm.log"))
        env = {"VRAAGBAAK_DATABASE_URL": database_url, "VRAAGBAAK_DATA_DIR": str(data),
               "VRAAGBAAK_WARM_UP": "false", "VRAAGBAAK_LLM__BACKEND": "openai",
               "VRAAGBAAK_LLM__BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
               "VRAAGBAAK_LLM__MODEL": "smollm2",
               "VRAAGBAAK_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/14",
               "VRAAGBAAK_AUTH__LOGIN_RATE": f"{LOGIN_LIMIT}/minute",
               "VRAAGBAAK_JOBS__HEARTBEAT_S": "0.5", "VRAAGBAAK_JOBS__STALE_S": "5",
               "VRAAGBAAK_INGEST__BATCH_CHUNKS": "16"}
        urls, logs = [], []
        for replica in ("a", "b"):
            port = free_port()
            logs.append(root / f"serve-{replica}.log")
            procs.append(start_vraagbaak(port, logs[-1], env))
            urls.append(f"http://127.0.0.1:{port}")
        yield Replicas(urls, procs[1:], admin, agent, database_url, logs)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        drop_pg_database(name)


def test_a_sign_in_limit_counts_attempts_at_either_replica(replicas: Replicas) -> None:
    user = f"nobody-{uuid.uuid4().hex[:8]}"  # a fresh window in the shared Redis
    codes = []
    for i in range(LOGIN_LIMIT + 2):
        url = replicas.urls[i % 2]  # alternate: each replica alone sees half the attempts
        got = httpx.post(f"{url}/v1/auth/login", json={"username": user, "password": "wrong"},
                         timeout=10)
        codes.append(got.status_code)
    # per-process windows would allow 2 x LOGIN_LIMIT; the shared one allows LOGIN_LIMIT
    assert codes == [401] * LOGIN_LIMIT + [429, 429], codes


def test_a_reindex_started_at_one_replica_is_answered_by_the_other(replicas: Replicas) -> None:
    a, b = replicas.urls
    started = httpx.post(f"{a}/v1/admin/collections/kb/reindex", headers=replicas.admin,
                         timeout=10)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    deadline = time.monotonic() + 120
    while (job := replicas.job(b, job_id))["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    assert job["status"] == "succeeded", job
    deadline = time.monotonic() + 30  # B notices the new snapshot (CURRENT) within seconds
    while True:
        found = httpx.get(f"{b}/v1/search", headers=replicas.agent, timeout=30,
                          params={"q": "VPN error NWL-VPN-809", "collection": "kb"})
        assert found.status_code == 200, found.text
        if found.json()["results"]:
            break
        assert time.monotonic() < deadline, found.json()
        time.sleep(0.5)
    answer = httpx.post(f"{b}/v1/chat", headers=replicas.agent, timeout=180,
                        json={"question": "What does VPN error NWL-VPN-809 mean?",
                              "collections": ["kb"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body["refused"], body
    assert "vpn.md" in {c["document"] for c in body["citations"]}
    assert body["model"] == "openai:smollm2"  # answered by the inference server


def test_a_replica_killed_mid_reindex_has_its_job_finished_by_the_other(
        replicas: Replicas) -> None:
    a = replicas.urls[0]
    started = httpx.post(f"{a}/v1/admin/collections/big/reindex", headers=replicas.admin,
                         timeout=10)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    deadline = time.monotonic() + 120
    while True:  # wait until some batches are committed, then kill whoever runs it
        job = replicas.job(a, job_id)
        if job["status"] == "running" and job["progress"]["files_done"] >= 32:
            break
        assert job["status"] in ("queued", "running"), job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    pid = replicas.owner_pid(job_id)
    victim = next(p for p in replicas.procs if p.pid == pid)
    survivor = replicas.urls[1 - replicas.procs.index(victim)]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    done_at_kill = job["progress"]["files_done"]

    deadline = time.monotonic() + 180
    while (job := replicas.job(survivor, job_id))["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    assert job["status"] == "succeeded", job
    assert replicas.owner_pid(job_id) == next(
        p.pid for p in replicas.procs if p is not victim)
    # resumed, not redone: what the killed replica committed is unchanged for the survivor
    assert job["result"]["unchanged"] >= 16, (done_at_kill, job["result"])
    assert job["result"]["added"] + job["result"]["unchanged"] == BIG_FILES
    engine = create_engine(replicas.database_url)
    try:
        with engine.connect() as conn:
            big = conn.scalar(select(Collection.id).where(Collection.name == "big"))
            documents = conn.scalar(select(func.count()).select_from(Document)
                                    .where(Document.collection_id == big))
            taken = conn.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "reindex_taken_over", AuditEntry.target == "big"))
    finally:
        engine.dispose()
    assert documents == BIG_FILES
    assert taken == 1
    found = httpx.get(f"{survivor}/v1/search", headers=replicas.agent, timeout=30,
                      params={"q": "desk code DESK-239-OK", "collection": "big"})
    assert found.status_code == 200 and found.json()["results"], found.text
