"""Kill -9 a re-index at random moments, many times in a row, and check what survives.

Each round changes the folder (adds, removes, renames and edits files), starts
``vraagbaak ingest`` in a process group of its own and SIGKILLs the group (the ingest, its
forkserver and its parse worker) at a seeded random moment: any time in the run, or keyed on
what the run is doing on disk (a snapshot being written as ``<id>.partial``, just renamed, the
``CURRENT`` pointer just switched), so the snapshot switch is hit rather than hoped for. A run
that ends before its moment is a completed run and is checked like the last one.

After every kill (``serving_problems``):

* ``CURRENT`` names a complete snapshot, the one from before the run or one this run wrote,
  that loads under the collection's model, with exactly one FAISS vector and one BM25 document
  per chunk id and no chunk id twice;
* a snapshot first seen serving holds exactly the chunk rows in SQL, vector for vector (a sync
  changes no chunk after it writes its snapshot), and the old one was checked the same way
  when it first served;
* a search through the app's own ``SearchService`` answers from that snapshot.

While each run goes, a reader thread loads whatever ``CURRENT`` names every 50 ms, as a server
process starting at that moment would: no load may fail.

After the loop one run goes to the end, and SQL and the index must agree exactly
(``consistency_problems``): ``CURRENT`` is the snapshot SQL names, built from the current
content version; its chunk ids are the collection's chunk rows, each once, each with its
document and the same vector as in SQL; every document's chunks are numbered 0..n-1 and
counted right; the documents are the folder's files with their current hashes. One more run
must then find nothing to do.

``python -m bench.kill_loop`` runs 50 kills on SQLite and 50 on PostgreSQL (when it is
reachable); ``tests/test_kill_loop.py`` runs a few of each.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, text

from app.core.settings import Settings
from app.wiring import Services, build_services
from ingest.snapshots import Snapshot, SnapshotMeta, current_snapshot_id

ROOT = Path(__file__).resolve().parent.parent
DEMO_KB = ROOT / "demo" / "kb"
PROBE_FILE = "it/vpn-troubleshooting.md"  # never removed: the search probe must find it
PROBE = "VPN error NWL-VPN-809"
TRIGGERS = ("any moment", "snapshot write", "after rename", "after switch")
TRIGGER_WEIGHTS = (4, 2, 2, 2)
RUN_TIMEOUT_S = 600.0
READ_EVERY_S = 0.05

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Target:
    """Where one loop runs: a data directory, a folder, and SQLite (``database_url`` empty)
    or a PostgreSQL URL."""

    data_dir: Path
    kb: Path
    database_url: str = ""
    collection: str = "kb"
    batch_chunks: int = 16  # small batches: many commits to be killed between

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def snapshots(self) -> Path:
        return self.index_dir / self.collection / "snapshots"

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url, warm_up=False)

    def env(self) -> dict[str, str]:
        return {**os.environ, "VRAAGBAAK_DATA_DIR": str(self.data_dir),
                "VRAAGBAAK_DATABASE_URL": self.database_url,
                "VRAAGBAAK_INGEST__BATCH_CHUNKS": str(self.batch_chunks),
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def start_ingest(target: Target, log: Path) -> subprocess.Popen[bytes]:
    """``vraagbaak ingest`` of the target's folder, in its own process group (so one
    ``killpg`` takes its forkserver and parse worker too), stderr to ``log``."""
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-c", "from app.cli.main import main; main()", "ingest",
             str(target.kb), "--collection", target.collection],
            cwd=ROOT, env=target.env(), stdout=subprocess.DEVNULL, stderr=err,
            start_new_session=True)


# -- what is on disk and in SQL ------------------------------------------------------------------
@dataclass(frozen=True)
class State:
    current: str | None
    complete: frozenset[str]
    partial: frozenset[str]
    content_version: int | None = None
    sql_snapshot: str | None = None
    snapshot_version: int | None = None


def disk_state(target: Target) -> State:
    try:
        names = os.listdir(target.snapshots)
    except FileNotFoundError:
        names = []
    return State(current_snapshot_id(target.index_dir, target.collection),
                 frozenset(n for n in names if not n.endswith(".partial")),
                 frozenset(n for n in names if n.endswith(".partial")))


def observe(target: Target, engine: Engine) -> State:
    disk = disk_state(target)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT content_version, snapshot_id, snapshot_version "
                                "FROM collections WHERE name = :n"),
                           {"n": target.collection}).first()
    if row is None:
        return disk
    return State(disk.current, disk.complete, disk.partial, int(row[0]), row[1], int(row[2]))


def phase(before: State, after: State) -> str:
    """Where in the sync a kill landed, read from what it left behind."""
    if after.current != before.current:
        return ("switched, SQL behind" if after.sql_snapshot != after.current
                else "switched, SQL updated")
    if after.complete - before.complete:
        return "renamed, not switched"
    if after.partial - before.partial:
        return "writing snapshot"
    if after.content_version != before.content_version:
        return "storing batches"
    return "before first commit"


@dataclass
class SqlContent:
    chunks: dict[str, tuple[int, int, bytes]]  # chunk id -> (document id, ord, embedding)
    documents: dict[int, tuple[str, str, int]]  # document id -> (path, sha256, chunk_count)
    orphans: list[str]  # chunk ids without a document of this collection


def sql_content(target: Target, engine: Engine) -> SqlContent:
    with engine.connect() as conn:
        cid = conn.execute(text("SELECT id FROM collections WHERE name = :n"),
                           {"n": target.collection}).scalar_one()
        docs = {int(r[0]): (r[1], r[2], int(r[3])) for r in conn.execute(text(
            "SELECT id, path, sha256, chunk_count FROM documents WHERE collection_id = :c"),
            {"c": cid})}
        chunks: dict[str, tuple[int, int, bytes]] = {}
        orphans: list[str] = []
        for r in conn.execute(text(
                "SELECT c.id, c.document_id, c.ord, c.embedding, d.collection_id FROM chunks c "
                "LEFT JOIN documents d ON d.id = c.document_id WHERE c.collection_id = :c"),
                {"c": cid}):
            chunks[r[0]] = (int(r[1]), int(r[2]), bytes(r[3]))
            if r[4] != cid:
                orphans.append(r[0])
    return SqlContent(chunks, docs, orphans)


def folder_files(kb: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file in the folder."""
    return {p.relative_to(kb).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(kb.rglob("*")) if p.is_file()}


# -- checks --------------------------------------------------------------------------------------
@dataclass
class Loaded:
    meta: SnapshotMeta
    chunk_ids: list[str]
    vectors: Vectors | None  # only for a deep check


def check_snapshot(target: Target, snapshot_id: str, model: str, dimension: int, *,
                   deep: bool) -> tuple[Loaded | None, list[str]]:
    """Load a snapshot as a server would, and check its parts agree with each other."""
    try:
        snap = Snapshot.load(target.index_dir, target.collection, snapshot_id,
                             embedding_model=model, dimension=dimension)
    except Exception as exc:
        return None, [f"snapshot {snapshot_id} does not load ({type(exc).__name__}: {exc})"]
    ids = snap.chunk_ids
    problems = []
    if len(set(ids)) != len(ids):
        problems.append(f"snapshot {snapshot_id}: {len(ids) - len(set(ids))} chunk ids twice")
    if snap.meta.chunk_count != len(ids):
        problems.append(f"snapshot {snapshot_id}: meta says {snap.meta.chunk_count} chunks, "
                        f"rows.json has {len(ids)}")
    vectors = None
    if deep:
        path = target.snapshots / snapshot_id
        try:
            dense = faiss.read_index(str(path / "dense.faiss"))
            bm25_docs = int(bm25s.BM25.load(str(path / "bm25")).scores["num_docs"])
        except Exception as exc:
            return None, [f"snapshot {snapshot_id} vanished while read ({exc})"]
        if dense.ntotal != len(ids):
            problems.append(f"snapshot {snapshot_id}: {dense.ntotal} vectors for {len(ids)} ids")
        else:
            vectors = dense.reconstruct_n(0, dense.ntotal) if len(ids) else np.zeros(
                (0, dimension), dtype=np.float32)
        if bm25_docs != max(len(ids), 1):  # an empty index keeps one placeholder row
            problems.append(f"snapshot {snapshot_id}: {bm25_docs} BM25 docs for {len(ids)} ids")
    return Loaded(snap.meta, ids, vectors), problems


def rows_match(loaded: Loaded, sql: SqlContent) -> list[str]:
    """The snapshot holds exactly the chunk rows, vector for vector."""
    problems = []
    in_index, in_sql = set(loaded.chunk_ids), set(sql.chunks)
    if missing := in_sql - in_index:
        problems.append(f"{len(missing)} chunk rows not in the index (lost), e.g. "
                        f"{sorted(missing)[0]}")
    if extra := in_index - in_sql:
        problems.append(f"{len(extra)} index rows without their chunk row, e.g. "
                        f"{sorted(extra)[0]}")
    if loaded.vectors is not None:
        differ = sum(1 for i, cid in enumerate(loaded.chunk_ids) if cid in sql.chunks and not
                     np.array_equal(np.frombuffer(sql.chunks[cid][2], dtype=np.float32),
                                    loaded.vectors[i]))
        if differ:
            problems.append(f"{differ} vectors differ between the index and SQL")
    return problems


def consistency_problems(target: Target, engine: Engine, model: str,
                         dimension: int) -> list[str]:
    """Everything that must hold once a sync has run to its end (module docstring)."""
    state = observe(target, engine)
    if state.current is None:
        return ["no CURRENT snapshot"]
    problems = []
    if state.current != state.sql_snapshot:
        problems.append(f"CURRENT is {state.current} but SQL names {state.sql_snapshot}")
    if state.snapshot_version != state.content_version:
        problems.append(f"snapshot version {state.snapshot_version} behind content version "
                        f"{state.content_version}")
    loaded, found = check_snapshot(target, state.current, model, dimension, deep=True)
    problems += found
    if loaded is None:
        return problems
    if loaded.meta.content_version != state.content_version:
        problems.append(f"snapshot built from content version {loaded.meta.content_version}, "
                        f"SQL is at {state.content_version}")
    sql = sql_content(target, engine)
    problems += rows_match(loaded, sql)
    if sql.orphans:
        problems.append(f"{len(sql.orphans)} chunk rows without their document")
    ords: dict[int, list[int]] = {}
    for doc_id, ord_, _ in sql.chunks.values():
        ords.setdefault(doc_id, []).append(ord_)
    for doc_id, (path, _, count) in sql.documents.items():
        if sorted(ords.get(doc_id, [])) != list(range(count)):
            problems.append(f"document {path}: chunk_count {count}, chunk ords "
                            f"{sorted(ords.get(doc_id, []))[:8]}")
    indexed = {path: sha for path, sha, _ in sql.documents.values()}
    files = folder_files(target.kb)
    if lost := files.keys() - indexed.keys():
        problems.append(f"{len(lost)} files not indexed, e.g. {sorted(lost)[0]}")
    if stale := indexed.keys() - files.keys():
        problems.append(f"{len(stale)} documents of files no longer there, e.g. "
                        f"{sorted(stale)[0]}")
    if changed := [p for p in files.keys() & indexed.keys() if files[p] != indexed[p]]:
        problems.append(f"{len(changed)} documents of an older version, e.g. {changed[0]}")
    return problems


class Reader(threading.Thread):
    """Loads whatever ``CURRENT`` names, over and over, while a run goes."""

    def __init__(self, target: Target, model: str, dimension: int) -> None:
        super().__init__(daemon=True, name="snapshot-reader")
        self._target, self._model, self._dimension = target, model, dimension
        self._done = threading.Event()
        self.loads = 0
        self.problems: list[str] = []

    def run(self) -> None:
        while not self._done.wait(READ_EVERY_S):
            sid = current_snapshot_id(self._target.index_dir, self._target.collection)
            if sid is None:
                self.problems.append("no CURRENT while a run was going")
                continue
            _, found = check_snapshot(self._target, sid, self._model, self._dimension,
                                      deep=False)
            self.loads += 1
            self.problems += [f"while running: {p}" for p in found]

    def stop(self) -> None:
        self._done.set()
        self.join()


# -- the folder ----------------------------------------------------------------------------------
def _pool() -> list[str]:
    return [p.relative_to(DEMO_KB).as_posix() for p in sorted(DEMO_KB.rglob("*")) if p.is_file()]


def seed_folder(kb: Path) -> None:
    """The first folder: it/ and support/ of the demo collection."""
    for rel in _pool():
        if rel.startswith(("it/", "support/")):
            (kb / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(DEMO_KB / rel, kb / rel)


def mutate_folder(kb: Path, rng: random.Random, round_no: int) -> list[str]:
    """Add, remove, rename and edit a few files (never the probe's); what was done."""
    done: list[str] = []
    present = sorted(p.relative_to(kb).as_posix() for p in kb.rglob("*") if p.is_file())
    movable = [p for p in present if p != PROBE_FILE]
    absent = [p for p in _pool() if p not in present]
    for rel in rng.sample(absent, min(len(absent), rng.randint(0, 4))):
        (kb / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(DEMO_KB / rel, kb / rel)
        done.append(f"+{rel}")
    for rel in rng.sample(movable, min(len(movable), rng.randint(0, 2))):
        if rng.random() < 0.3:
            target = kb / rel
            renamed = target.with_name(f"{target.stem}-r{round_no}{target.suffix}")
            target.rename(renamed)
            done.append(f"{rel}->{renamed.name}")
        else:
            (kb / rel).unlink()
            done.append(f"-{rel}")
    editable = [p for p in present if p.endswith((".md", ".txt")) and (kb / p).exists()]
    for rel in rng.sample(editable, min(len(editable), rng.randint(0 if done else 1, 2))):
        with (kb / rel).open("a") as f:
            f.write(f"\n\nNote added in round {round_no}: kill loop marker kl{round_no}x.\n")
        done.append(f"~{rel}")
    return done


# -- the loop ------------------------------------------------------------------------------------
@dataclass
class Round:
    n: int
    trigger: str
    delay_ms: float
    outcome: str  # "killed" or "finished"
    phase: str
    served: str  # "old" or "new" snapshot after the kill
    changes: int
    problems: list[str] = field(default_factory=list)


@dataclass
class LoopResult:
    backend: str
    rounds: list[Round]
    converged: bool
    final_problems: list[str]
    reader_loads: int
    reader_problems: list[str]
    wall_s: float

    @property
    def kills(self) -> int:
        return sum(1 for r in self.rounds if r.outcome == "killed")

    @property
    def mismatches(self) -> list[str]:
        return ([f"round {r.n}: {p}" for r in self.rounds for p in r.problems]
                + self.final_problems + self.reader_problems)

    def summary(self) -> dict[str, Any]:
        return {
            "backend": self.backend, "kills": self.kills,
            "completed_runs": sum(1 for r in self.rounds if r.outcome == "finished"),
            "phases": dict(Counter(r.phase for r in self.rounds if r.outcome == "killed")),
            "triggers": dict(Counter(r.trigger for r in self.rounds)),
            "converged": self.converged, "mismatches": self.mismatches,
            "reader_loads": self.reader_loads, "wall_s": round(self.wall_s, 1),
        }


class KillLoop:
    """One loop over one target; ``run`` does it all, the steps are public for tests."""

    def __init__(self, target: Target, *, seed: int,
                 say: Callable[[str], None] = lambda _line: None) -> None:
        self.target = target
        self.rng = random.Random(seed)
        self.say = say
        self.log = target.data_dir.parent / f"ingest-{target.data_dir.name}.log"
        self.services: Services | None = None
        self.model, self.dimension = "", 0
        self.verified: set[str] = set()  # snapshots checked against SQL when first serving
        self.run_s = 5.0  # how long an incremental run takes (measured in setup)
        self.write_s = 0.2  # from a snapshot's .partial appearing to its rename
        self.reader_loads = 0
        self.reader_problems: list[str] = []
        self.final_problems: list[str] = []

    @property
    def engine(self) -> Engine:
        assert self.services is not None
        return self.services.engine

    def close(self) -> None:
        if self.services is not None:
            self.services.close()
            self.services = None

    # one run, watched
    def _run(self, stop_at: Callable[[subprocess.Popen[bytes], State], bool] | None = None,
             delay_s: float = 0.0) -> tuple[str, dict[str, float]]:
        """Start an ingest; if ``stop_at`` (a watcher returning True at its moment) is given,
        kill the group ``delay_s`` after that moment. ("killed" | "finished", timeline)."""
        before = disk_state(self.target)
        reader = Reader(self.target, self.model, self.dimension) if self.model else None
        if reader:
            reader.start()
        started = time.monotonic()
        proc = start_ingest(self.target, self.log)
        timeline: dict[str, float] = {}
        try:
            if stop_at is None:
                proc.wait(timeout=RUN_TIMEOUT_S)
            elif stop_at(proc, before):
                try:
                    proc.wait(timeout=delay_s)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=RUN_TIMEOUT_S)
            timeline["exit"] = time.monotonic() - started
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if reader:
                reader.stop()
                self.reader_loads += reader.loads
                self.reader_problems += reader.problems
        if proc.returncode == -signal.SIGKILL:
            return "killed", timeline
        if proc.returncode != 0:
            tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"ingest exited {proc.returncode}: {' | '.join(tail)}")
        return "finished", timeline

    def _timed_run(self) -> dict[str, float]:
        """A run to the end, noting when its snapshot's .partial appeared and was renamed."""
        marks: dict[str, float] = {}
        started = time.monotonic()

        def watch(proc: subprocess.Popen[bytes], before: State) -> bool:
            while proc.poll() is None:
                now = disk_state(self.target)
                if "partial" not in marks and now.partial - before.partial:
                    marks["partial"] = time.monotonic() - started
                if "partial" in marks and now.complete - before.complete:
                    marks["renamed"] = time.monotonic() - started
                    break
                time.sleep(0.001)
            return False

        _, timeline = self._run(watch)
        return {**marks, **timeline}

    def setup(self) -> None:
        """The first folder, indexed to the end; then one incremental run, timed."""
        self.target.kb.mkdir(parents=True, exist_ok=True)
        seed_folder(self.target.kb)
        self._run()
        self.services = build_services(self.target.settings())
        self.model = self.services.embedder.model_id
        self.dimension = self.services.embedder.dimension
        problems = consistency_problems(self.target, self.engine, self.model, self.dimension)
        if problems:
            raise RuntimeError(f"the first run is already inconsistent: {problems}")
        mutate_folder(self.target.kb, self.rng, 0)
        marks = self._timed_run()
        self.run_s = marks["exit"]
        if "partial" in marks and "renamed" in marks:
            self.write_s = max(marks["renamed"] - marks["partial"], 0.005)
        problems = consistency_problems(self.target, self.engine, self.model, self.dimension)
        if problems:
            raise RuntimeError(f"an incremental run without a kill is inconsistent: {problems}")
        self.verified.add(str(disk_state(self.target).current))

    def _moment(self) -> tuple[str, float]:
        trigger = self.rng.choices(TRIGGERS, weights=TRIGGER_WEIGHTS)[0]
        if trigger == "any moment":
            return trigger, self.rng.uniform(0.0, 1.1) * self.run_s
        if trigger == "snapshot write":
            return trigger, self.rng.uniform(0.0, self.write_s)
        # the rename -> switch -> SQL commit windows last a few milliseconds: kill at once,
        # or a fraction of a millisecond later
        return trigger, self.rng.uniform(0.0, 0.001)

    def _watcher(self, trigger: str) -> Callable[[subprocess.Popen[bytes], State], bool]:
        def watch(proc: subprocess.Popen[bytes], before: State) -> bool:
            if trigger == "any moment":
                return True
            writing = False
            while proc.poll() is None:
                now = disk_state(self.target)
                writing = writing or bool(now.partial - before.partial)
                if ((trigger == "snapshot write" and writing)
                        or (trigger == "after rename" and now.complete - before.complete)
                        or (trigger == "after switch" and now.current != before.current)):
                    return True
                if not writing:  # once the snapshot is being written, look without pause
                    time.sleep(0.001)
            return False

        return watch

    def round(self, n: int) -> Round:
        """Change the folder, run, kill at a random moment, check what serves."""
        changes = mutate_folder(self.target.kb, self.rng, n)
        before = observe(self.target, self.engine)
        trigger, delay = self._moment()
        outcome, _ = self._run(self._watcher(trigger), delay)
        after = observe(self.target, self.engine)
        result = Round(n, trigger, round(delay * 1000, 1), outcome,
                       phase(before, after) if outcome == "killed" else "-",
                       "old" if after.current == before.current else "new", len(changes))
        if outcome == "finished":
            result.problems = consistency_problems(self.target, self.engine, self.model,
                                                   self.dimension)
            if not result.problems:
                self.verified.add(str(after.current))
        else:
            result.problems = self.serving_problems(before, after)
        return result

    def serving_problems(self, before: State, after: State) -> list[str]:
        """What must hold right after a kill (module docstring)."""
        if after.current is None:
            return ["no CURRENT after the kill"]
        if after.current not in after.complete:
            return [f"CURRENT names {after.current}, which is not a complete snapshot"]
        loaded, problems = check_snapshot(self.target, after.current, self.model,
                                          self.dimension, deep=True)
        if loaded is None:
            return problems
        if after.current not in self.verified:
            if after.current == before.current:
                problems.append(f"the old snapshot {after.current} was never checked")
            else:  # first seen serving: built from SQL as it is now
                found = rows_match(loaded, sql_content(self.target, self.engine))
                problems += [f"new snapshot: {p}" for p in found]
                if not found:
                    self.verified.add(after.current)
        assert self.services is not None
        try:
            result = self.services.search.search(PROBE, [self.target.collection],
                                                 allowed={self.target.collection})
        except Exception as exc:
            return [*problems, f"search failed after the kill ({type(exc).__name__}: {exc})"]
        if result.snapshot_ids.get(self.target.collection) != after.current:
            problems.append(f"search served {result.snapshot_ids} instead of {after.current}")
        if not result.hits or result.hits[0].document != PROBE_FILE:
            problems.append(f"search for {PROBE!r} found "
                            f"{[h.document for h in result.hits[:3]]}, not {PROBE_FILE}")
        if strays := {h.chunk_id for h in result.hits} - set(loaded.chunk_ids):
            problems.append(f"search returned {len(strays)} chunks not in the snapshot")
        return problems

    def finish(self) -> bool:
        """Run to the end, check SQL against the index, then run again: nothing to do."""
        self._run()
        self.final_problems = consistency_problems(self.target, self.engine, self.model,
                                                   self.dimension)
        settled = observe(self.target, self.engine)
        self._run()
        again = observe(self.target, self.engine)
        if (again.current, again.content_version) != (settled.current, settled.content_version):
            self.final_problems.append("a run over an unchanged folder changed the index")
        return not self.final_problems

    def run(self, kills: int, backend: str, max_rounds: int | None = None) -> LoopResult:
        """Rounds until ``kills`` kills (or ``max_rounds`` rounds), then ``finish``."""
        started = time.monotonic()
        self.setup()
        rounds: list[Round] = []
        limit = max_rounds or 3 * kills + 5
        while sum(r.outcome == "killed" for r in rounds) < kills and len(rounds) < limit:
            r = self.round(len(rounds) + 1)
            rounds.append(r)
            self.say(f"  round {r.n:3d}  {r.trigger:<14} +{r.delay_ms:8.1f} ms  {r.outcome:<8} "
                     f"{r.phase:<22} serves {r.served}  {r.changes} changes"
                     + (f"  PROBLEMS: {r.problems}" if r.problems else ""))
        converged = self.finish()
        return LoopResult(backend, rounds, converged, self.final_problems, self.reader_loads,
                          self.reader_problems, time.monotonic() - started)


@contextmanager
def target_on(backend: str, workdir: Path) -> Iterator[Target]:
    """A fresh target under ``workdir``: SQLite, or a scratch PostgreSQL database."""
    from app.core.db import create_scratch_database, drop_scratch_database

    data, kb = workdir / f"data-{backend}", workdir / f"kb-{backend}"
    for path in (data, kb):
        shutil.rmtree(path, ignore_errors=True)
    if backend == "sqlite":
        yield Target(data, kb)
        return
    url, name = create_scratch_database()
    try:
        yield Target(data, kb, database_url=url)
    finally:
        drop_scratch_database(name)


def kill_loop(backend: str, workdir: Path, *, kills: int, seed: int,
              say: Callable[[str], None] = lambda _line: None) -> LoopResult:
    with target_on(backend, workdir) as target:
        loop = KillLoop(target, seed=seed, say=say)
        try:
            return loop.run(kills, backend)
        finally:
            loop.close()


def main() -> None:
    from app.core.db import postgres_reachable
    from bench.common import WORK, parser, print_table, save_results, warn_if_busy

    p = parser(__doc__ or "")
    p.add_argument("--kills", type=int, default=50, help="kills per backend (default 50)")
    p.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres or both")
    args = p.parse_args()
    kills = 5 if args.quick else args.kills
    warn_if_busy()
    results: dict[str, Any] = {}
    rows = []
    for backend in [b for b in args.backends.split(",") if b]:
        if backend == "postgres" and not postgres_reachable():
            print("PostgreSQL at 127.0.0.1:5432 is not reachable: skipped", flush=True)
            continue
        print(f"\n== {kills} kills on {backend} (seed {args.seed}) ==", flush=True)
        result = kill_loop(backend, WORK / "kill_loop", kills=kills, seed=args.seed,
                           say=lambda line: print(line, flush=True))
        s = result.summary()
        results[backend] = {**s, "rounds": [vars(r) for r in result.rounds]}
        rows.append({"backend": backend, "kills": s["kills"],
                     "completed runs": s["completed_runs"],
                     "phases hit": ", ".join(f"{k} {v}" for k, v in sorted(s["phases"].items())),
                     "reader loads": s["reader_loads"],
                     "converged": "yes" if s["converged"] else "NO",
                     "mismatches": len(s["mismatches"]), "wall s": s["wall_s"]})
        for m in s["mismatches"]:
            print(f"  MISMATCH {m}", flush=True)
    print_table("kill -9 loop", rows)
    save_results("kill_loop", results, quick=args.quick, seed=args.seed)
    bad = any(r["mismatches"] or not r["converged"] for r in results.values())
    sys.exit(1 if bad or not results else 0)


if __name__ == "__main__":
    main()
