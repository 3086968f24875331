"""Shared benchmark plumbing: work directory, argument parsing, tables, JSON results, RSS,
and running a measurement in a fresh child process (so peak RSS and model loads are its own)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
DEMO_KB = ROOT / "demo" / "kb"
DEMO_SET = ROOT / "eval" / "sets" / "demo.jsonl"
T = TypeVar("T")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    p.add_argument("--seed", type=int, default=1234, help="random seed (default 1234)")
    return p


def warn_if_busy() -> None:
    """Timings on two cores are only meaningful on an otherwise idle machine."""
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"WARNING: 1-minute load average is {load:.2f}: other work is running and the "
              "timings will be noisy (torch and llama.cpp both use every core).", flush=True)


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else 0.0


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def timed(n: int, fn: Callable[[], Any], digits: int = 3) -> dict[str, float]:
    """p50 and p95 milliseconds of ``n`` calls of ``fn``."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(ms_since(start))
    return {"p50_ms": round(pct(samples, 50), digits), "p95_ms": round(pct(samples, 95), digits)}


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def run_isolated(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in a fresh spawned process and return its (picklable) result."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return "-" if value is None else str(value)


def print_table(title: str, rows: Sequence[dict[str, Any]]) -> None:
    """Print rows (dicts with the same keys) as an aligned text table."""
    print(f"\n== {title} ==")
    if not rows:
        print("(no rows)")
        return
    cols = list(rows[0])
    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    numeric = [all(isinstance(r.get(c), int | float) or r.get(c) is None for r in rows)
               for c in cols]  # numbers right-aligned, text left-aligned
    print("  ".join(c.rjust(w) if n else c.ljust(w)
                    for c, w, n in zip(cols, widths, numeric, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) if n else v.ljust(w)
                        for v, w, n in zip(row, widths, numeric, strict=True)))


def save_results(name: str, figures: dict[str, Any], *, quick: bool, seed: int) -> Path:
    """Write ``bench/.work/results-<name>.json`` with the figures and the run's context."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"results-{name}.json"
    doc = {"benchmark": name, "quick": quick, "seed": seed,
           "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform(),
                       "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
           "figures": figures}
    path.write_text(json.dumps(doc, indent=2, default=str))
    print(f"\nfigures written to {path.relative_to(ROOT)}")
    return path
