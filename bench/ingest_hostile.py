"""Peak memory of ingesting a hostile folder beside good files: is it bounded by the batch,
not by the input? Target: the whole process tree stays under 2 GB.

The folder is demo/kb plus the hostile corpus of tests/ingest/hostile.py, generated here
(nothing large is committed): a zip-bomb DOCX (1.1 GB inflated), a 24 MB "word" without a
space, a 50,000-page PDF, 12 MB of ordinary paragraphs, a Markdown file whose parse outgrows the
parse worker's memory limit, 100,000 nested HTML elements, random high bytes named ``.md`` and a
name that is not UTF-8. ``vraagbaak ingest`` runs on it as a subprocess under the default
settings; its process tree (the CLI, the forkserver, the parse worker) is sampled from /proc
every 50 ms, and the figures are the peak of the tree's summed RSS (shared pages counted once
per process, so it errs high), the peak of each member, the kernel's own ``ru_maxrss`` of the
reaped children (the largest single process), wall time, and what became of each file.

``python -m bench.ingest_hostile`` (``--quick``: a 3,000-page PDF and a 3 MB word).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import DEMO_KB, ROOT, WORK, fresh_dir, parser, print_table, save_results
from bench.proctree import descendants, rss_bytes

LIMIT_MB = 2048
SAMPLE_EVERY_S = 0.05
MB = 1 << 20


def write_hostile(folder: Path, *, quick: bool) -> dict[str, str]:
    """The hostile files, written into ``folder``: name in the report -> what it is."""
    from tests.ingest.hostile import (
        many_pages_pdf,
        no_space_word,
        non_utf8_name,
        random_high_bytes,
        too_much_text,
        zip_bomb_docx,
    )

    folder.mkdir(parents=True, exist_ok=True)
    zip_bomb_docx(folder / "bomb.docx")
    no_space_word(folder / "word.txt", megabytes=3 if quick else 24)
    many_pages_pdf(folder / "manual.pdf", 3000 if quick else 50_000)
    too_much_text(folder / "long.txt", paragraphs=20_000 if quick else 200_000)
    (folder / "hungry.md").write_text(  # about 15 s, then past the 1 GiB parse limit
        "# Hungry\n\n" + "- item with *emphasis* and `code`\n" * (100_000 if quick else 400_000))
    (folder / "deep.html").write_text("<html><body>" + "<div>" * 100_000 + "deep"
                                      + "</div>" * 100_000 + "</body></html>")
    random_high_bytes(folder / "noise.md")
    non_utf8_name(folder, "# Cafe notes\n\nThe espresso machine descales every Friday.\n")
    return {"bomb.docx": "zip-bomb DOCX, 1.1 GB inflated",
            "word.txt": f"{3 if quick else 24} MB without a space",
            "manual.pdf": f"{3000 if quick else 50_000:,}-page PDF",
            "long.txt": f"{20_000 if quick else 200_000:,} paragraphs",
            "hungry.md": "Markdown whose parse outgrows the memory limit",
            "deep.html": "100,000 nested elements",
            "noise.md": "random high bytes",
            "caf%E9-notes.md": "name not valid UTF-8"}


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self._pid = pid
        self._done = threading.Event()
        self.peak_tree = 0
        self.peak_parent = 0
        self.peak_child = 0
        self.peak_processes = 0
        self.samples = 0

    def run(self) -> None:
        while not self._done.wait(SAMPLE_EVERY_S):
            parent = rss_bytes(self._pid)
            children = [rss_bytes(p) for p in descendants(self._pid)]
            self.peak_tree = max(self.peak_tree, parent + sum(children))
            self.peak_parent = max(self.peak_parent, parent)
            self.peak_child = max(self.peak_child, *children, 0)
            self.peak_processes = max(self.peak_processes, 1 + len(children))
            self.samples += 1

    def stop(self) -> None:
        self._done.set()
        self.join()


_SKIPPED = re.compile(r"^  skipped (?P<path>.+?): (?P<reason>.+)$")
_PARTLY = re.compile(r"^  (?P<path>.+?): indexed in part: (?P<reason>.+)$")
_SUMMARY = re.compile(r"(?P<files>\d+) files: (?P<added>\d+) added, .*?(?P<skipped>\d+) skipped; "
                      r"(?P<embedded>\d+) chunks embedded, (?P<chunks>\d+) in the index")


def ingest(folder: Path, data: Path) -> dict[str, Any]:
    """Run ``vraagbaak ingest`` on ``folder`` and measure it."""
    env = {**os.environ, "VRAAGBAAK_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "400"}  # rich: one line per file
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from app.cli.main import main; main()", "ingest", str(folder),
         "--collection", "hostile"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"ingest exited {proc.returncode}: {err.strip()[-2000:]}")
    children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    lines = out.splitlines()
    summary = next((m.groupdict() for line in lines if (m := _SUMMARY.search(line))), {})
    skipped = {m["path"]: m["reason"] for line in lines if (m := _SKIPPED.match(line))}
    partly: dict[str, list[str]] = {}
    for line in lines:
        if m := _PARTLY.match(line):
            partly.setdefault(m["path"], []).append(m["reason"])
    return {"wall_s": round(wall, 1),
            "peak_tree_rss_mb": round(sampler.peak_tree / MB),
            "peak_cli_rss_mb": round(sampler.peak_parent / MB),
            "peak_child_rss_mb": round(sampler.peak_child / MB),
            "ru_maxrss_children_mb": round(children_maxrss / MB),
            "processes_max": sampler.peak_processes, "samples": sampler.samples,
            "summary": {k: int(v) for k, v in summary.items()},
            "skipped": skipped, "partly": partly}


def main() -> None:
    p = parser(__doc__ or "")
    args = p.parse_args()
    work = fresh_dir(WORK / "ingest_hostile")
    folder = work / "folder"
    shutil.copytree(DEMO_KB, folder / "good")
    started = time.perf_counter()
    hostile = write_hostile(folder / "hostile", quick=args.quick)
    generate_s = round(time.perf_counter() - started, 1)
    size_mb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6
    files = sum(1 for f in folder.rglob("*") if f.is_file())
    print(f"folder: {files} files, {size_mb:.0f} MB on disk ({len(hostile)} hostile, generated "
          f"in {generate_s} s); ingesting ...", flush=True)
    figures = ingest(folder, work / "data")
    rows = []
    for name, what in hostile.items():
        rel = f"hostile/{name}"
        if rel in figures["skipped"]:
            outcome, reason = "skipped", figures["skipped"][rel]
        elif rel in figures["partly"]:
            outcome, reason = "indexed in part", "; ".join(figures["partly"][rel])
        else:
            outcome, reason = "indexed", ""
        rows.append({"file": name, "what": what, "outcome": outcome, "reason": reason})
    good_skipped = sorted(k for k in figures["skipped"] if k.startswith("good/"))
    print_table("what became of each hostile file", rows)
    s = figures["summary"]
    under = figures["peak_tree_rss_mb"] < LIMIT_MB
    print_table("ingest of the hostile folder (vraagbaak ingest, default limits)", [
        {"figure": "peak RSS, whole process tree (MB)", "value": figures["peak_tree_rss_mb"],
         "note": f"under {LIMIT_MB} MB: {'yes' if under else 'NO'}"},
        {"figure": "peak RSS, the CLI process (MB)", "value": figures["peak_cli_rss_mb"],
         "note": ""},
        {"figure": "peak RSS, a parse process (MB)", "value": figures["peak_child_rss_mb"],
         "note": f"ru_maxrss of reaped children {figures['ru_maxrss_children_mb']} MB"},
        {"figure": "wall time (s)", "value": figures["wall_s"],
         "note": "model load included"},
        {"figure": "files: total | added | skipped",
         "value": f"{s.get('files')} | {s.get('added')} | {s.get('skipped')}",
         "note": f"good files skipped: {len(good_skipped)}"},
        {"figure": "chunks in the index", "value": s.get("chunks"), "note": ""},
    ])
    save_results("ingest_hostile", {**figures, "files": rows, "folder_mb": round(size_mb),
                                    "limit_mb": LIMIT_MB, "under_limit": under,
                                    "good_skipped": good_skipped},
                 quick=args.quick, seed=args.seed)
    sys.exit(0 if under and not good_skipped else 1)


if __name__ == "__main__":
    main()
