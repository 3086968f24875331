"""Kill an ingest mid-way (SIGKILL, real models): the previous snapshot keeps serving and the
next run finishes the job. Many kills at random moments: tests/test_kill_loop.py."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.settings import Settings
from app.wiring import build_services
from bench.kill_loop import Target, consistency_problems
from ingest.snapshots import current_snapshot_id
from tests.conftest import DEMO_KB

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _ingest(kb: Path, data: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "VRAAGBAAK_DATA_DIR": str(data), "VRAAGBAAK_INGEST__BATCH_CHUNKS": "16",
           "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-c", "from app.cli.main import main; main()",
                             "ingest", str(kb), "--collection", "demo"],
                            cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def _documents(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_killed_ingest_leaves_old_snapshot_and_next_run_finishes(tmp_path: Path) -> None:
    kb, data = tmp_path / "kb", tmp_path / "data"
    shutil.copytree(DEMO_KB / "it", kb / "it")
    first = _ingest(kb, data)
    _out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    old = current_snapshot_id(data / "index", "demo")
    before = _documents(data / "vraagbaak.db")
    for folder in ("support", "security", "hr-it", "onboarding"):
        shutil.copytree(DEMO_KB / folder, kb / folder)

    victim = _ingest(kb, data)
    deadline = time.monotonic() + 240
    while _documents(data / "vraagbaak.db") == before and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)  # the ingest and its PDF worker, like a service stop
    victim.communicate(timeout=30)
    killed_at = _documents(data / "vraagbaak.db")
    assert before < killed_at  # some batches were committed before the kill
    assert current_snapshot_id(data / "index", "demo") == old  # the old snapshot still serves

    services = build_services(Settings(data_dir=data))
    try:
        hits = services.search.search("VPN error NWL-VPN-809", ["demo"], allowed={"demo"}).hits
        assert hits and hits[0].document.startswith("it/")
        report = services.indexer.sync("demo")
        # SQL and the index agree exactly: no chunk lost, doubled or left without its row
        assert consistency_problems(Target(data, kb, collection="demo"), services.engine,
                                    services.embedder.model_id,
                                    services.embedder.dimension) == []
    finally:
        services.close()
    assert report.snapshot_rebuilt and report.snapshot_id != old
    assert report.errors == []
    assert report.unchanged >= killed_at  # files finished before the kill were not redone
    assert _documents(data / "vraagbaak.db") == sum(1 for p in kb.rglob("*") if p.is_file())
