"""Stopping mid-parse: a stop event kills the parse child at once, a re-index job stops and
is handed back for the next server, and a real ``vraagbaak serve`` given SIGTERM while a
re-index parses a huge PDF exits within seconds and leaves no process behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.settings import IngestSettings, Settings
from app.wiring import Services, build_services
from bench.proctree import alive, descendants
from ingest.loaders import DocumentLoader, ParseLimits
from ingest.loaders.worker import Cancelled
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import bearer, make_user
from tests.conftest import write_kb
from tests.ingest.hostile import many_pages_pdf

ROOT = Path(__file__).resolve().parent.parent
SLOW_MARKDOWN = "# Slow\n\n" + "- item with *emphasis* and `code`\n" * 50_000  # ~5 s to parse


def _set_later(event: threading.Event, delay_s: float) -> None:
    threading.Timer(delay_s, event.set).start()


def test_a_stop_kills_the_parse_in_flight(tmp_path: Path) -> None:
    (tmp_path / "slow.md").write_text(SLOW_MARKDOWN)
    stop = threading.Event()
    before = {child.pid for child in multiprocessing.active_children()}
    with DocumentLoader(ParseLimits(timeout_s=60), stop=stop) as loader:
        _set_later(stop, 0.5)
        started = time.monotonic()
        with pytest.raises(Cancelled):
            loader.load(tmp_path / "slow.md")
        assert time.monotonic() - started < 2.0  # not the 5 s parse, nor the 60 s limit
        assert {child.pid for child in multiprocessing.active_children()} <= before  # killed
        with pytest.raises(Cancelled):  # and nothing more is parsed once stopped
            loader.load(tmp_path / "slow.md")


def test_without_a_stop_the_same_parse_finishes(tmp_path: Path) -> None:
    (tmp_path / "slow.md").write_text(SLOW_MARKDOWN)
    with DocumentLoader(ParseLimits(timeout_s=60), stop=threading.Event()) as loader:
        assert loader.load(tmp_path / "slow.md").title == "Slow"


def test_a_parent_killed_outright_leaves_no_parse_running(tmp_path: Path) -> None:
    (tmp_path / "slow.md").write_text(SLOW_MARKDOWN)
    script = ("from pathlib import Path\nfrom ingest.loaders import DocumentLoader, ParseLimits\n"
              "if __name__ == '__main__':\n"
              "    with DocumentLoader(ParseLimits(timeout_s=60)) as loader:\n"
              f"        loader.load(Path({str(tmp_path / 'slow.md')!r}))\n")
    (tmp_path / "parent.py").write_text(script)
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 30
        # the resource tracker, the forkserver and the worker
        while len(children := descendants(parent.pid)) < 3:
            assert parent.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)
        parent.kill()  # SIGKILL to the parent alone: no cleanup runs in it
        parent.wait()
        deadline = time.monotonic() + 2  # the parse itself has seconds to go
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in children if alive(pid)]
    finally:
        for pid in descendants(parent.pid) if parent.poll() is None else []:
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def slow_kb_services(tmp_path: Path) -> Iterator[Services]:
    kb = write_kb(tmp_path / "kb")
    (kb / "0-slow.md").write_text(SLOW_MARKDOWN)  # sorted first: parsed while we stop
    settings = Settings(data_dir=tmp_path / "data", warm_up=False,
                        ingest=IngestSettings(parse_timeout_s=60))
    services = build_services(settings, embedder=FakeEmbedder(), llm=FakeLLM())
    services.collections.upsert("kb", kb, "en")
    yield services
    services.close()


def test_shutdown_mid_parse_hands_the_job_back_at_once(slow_kb_services: Services) -> None:
    services = slow_kb_services
    job = services.jobs.start_reindex("kb", actor="admin")
    deadline = time.monotonic() + 30
    while services.jobs.get(job.id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # well inside the slow file's parse
    started = time.monotonic()
    services.close()
    assert time.monotonic() - started < 3.0
    stopped = services.jobs.get(job.id)
    # queued again with no owner: the next server (another replica, or this one restarted)
    # claims it and resumes it
    assert stopped.status == "queued" and "resumes" in stopped.message
    assert stopped.errors == []  # the file whose parse was stopped is not blamed for it
    assert services.collections.list(readable={"kb"})[0].documents == 0  # nothing half-done


# -- a real server ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_sigterm_mid_parse_stops_the_server_and_its_parse_child(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb")
    # 30,000 pages with the page limit lifted: about 25 s of pypdf text extraction
    many_pages_pdf(kb / "0-huge.pdf", 30_000)
    data = tmp_path / "data"
    seed = build_services(Settings(data_dir=data, warm_up=False), embedder=FakeEmbedder(),
                          llm=FakeLLM())
    try:
        seed.collections.upsert("kb", kb, "en")
        token = make_user(seed, "admin", ["admin"])
    finally:
        seed.close()
    port = _free_port()
    env = {**os.environ, "VRAAGBAAK_DATA_DIR": str(data), "VRAAGBAAK_WARM_UP": "false",
           "VRAAGBAAK_INGEST__MAX_PDF_PAGES": "100000",
           "VRAAGBAAK_INGEST__PARSE_TIMEOUT_S": "300", "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-c", "from app.cli.main import main; main()", "serve",
         "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        started = httpx.post(f"{url}/v1/admin/collections/kb/reindex", headers=bearer(token))
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        deadline = time.monotonic() + 60
        while True:  # the job runs and a parse child works on the huge PDF
            job = httpx.get(f"{url}/v1/admin/jobs/{job_id}", headers=bearer(token)).json()
            children = descendants(server.pid)
            if job["status"] == "running" and len(children) >= 2:  # forkserver + worker
                break
            assert time.monotonic() < deadline, (job, children)
            time.sleep(0.1)
        time.sleep(2.0)
        job = httpx.get(f"{url}/v1/admin/jobs/{job_id}", headers=bearer(token)).json()
        assert job["progress"]["files_done"] == 0  # still parsing the first file
        children = descendants(server.pid)

        sigterm_at = time.monotonic()
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=60)
        took = time.monotonic() - sigterm_at
        assert took < 10.0, (took, err)  # the parse alone would have taken about 25 s more
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert server.returncode in (0, -signal.SIGTERM), err
        assert "Application shutdown complete" in err
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in children if alive(pid)]  # no parse child left behind
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.communicate()

    after = build_services(Settings(data_dir=data, warm_up=False), embedder=FakeEmbedder(),
                           llm=FakeLLM())
    try:
        stopped = after.jobs.get(job_id)
    finally:
        after.close()
    # handed back for the next server to resume, not blamed on the file being parsed
    assert stopped.status == "queued" and "resumes" in stopped.message
    assert stopped.errors == []
