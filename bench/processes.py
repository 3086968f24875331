"""Real processes the system tests and benchmarks start: llama.cpp's OpenAI-compatible server
with the shipped GGUF (``python -m models.inference_server``) and ``vraagbaak serve``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(proc: subprocess.Popen[bytes], url: str, log: Path, what: str,
          timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"{what} did not come up in {timeout:.0f} s: {log.read_text()[-2000:]}")


def start_inference_server(port: int, log: Path, threads: int = 1) -> subprocess.Popen[bytes]:
    """The inference server on ``port``, answering as model ``smollm2``; ready when returned."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "models.inference_server", "--model", "smollm2",
             "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
             "--n_threads", str(threads), "--n_threads_batch", str(threads),
             "--n_ctx", "4096", "--verbose", "False"],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    _wait(proc, f"http://127.0.0.1:{port}/v1/models", log, "the inference server", 90)
    return proc


def start_vraagbaak(port: int, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``vraagbaak serve`` on ``port`` with ``VRAAGBAAK_*`` settings ``env``; ready (/readyz)
    when returned. Its own session, so a test can kill it without touching pytest."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from app.cli.main import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1", **env}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    _wait(proc, f"http://127.0.0.1:{port}/readyz", log, "vraagbaak serve", 180)
    return proc
