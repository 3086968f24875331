"""Evaluation runs as background jobs: resolve the set and the prompt version, run every
question, store the results with everything needed to reproduce them, report and compare.

A run records the set's name and SHA-256, the resolved prompt version (``answer`` becomes
``answer@3``), the model id, the index snapshot of every collection the set uses and the
retrieval settings. Any process sharing the database may run a queued run, one at a time per
process (``app.core.background``: it shares the cores and the LLM with chat); while the LLM
queue is full, the run waits instead of failing. The results so far are stored as it goes, so
a server stopping mid-run hands it back after the question in flight, and a process taking
over a run whose server died resumes it after the last stored result, as its evaluator.

Who sees what: a run only by readers of every collection it used, a set only by readers of
every collection its questions name (``app.evaluation.set_files``); anything else is "not
found", never "forbidden".
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from collections.abc import Collection as Names
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, sessionmaker

from app.answering.llm_worker import LLMWorker
from app.answering.service import AnswerService, with_worker
from app.audit.log import AuditLog
from app.core.background import BackgroundJobs
from app.core.errors import Busy, Conflict, InvalidInput, NotFound
from app.core.names import NAME
from app.core.principal import Principal
from app.core.settings import Settings
from app.core.tables import utcnow
from app.evaluation.records import (
    Comparison,
    EvalRun,
    EvalRunOverview,
    Origin,
    QuestionSet,
    RunProgress,
    RunSettings,
    UnreadableSet,
    UploadedSet,
)
from app.evaluation.runner import run_question
from app.evaluation.set_files import describe, named_collections, visible
from app.evaluation.tables import EvalRun as EvalRunRow
from app.knowledge.search import SearchService
from app.knowledge.tables import Collection
from app.prompt_library.store import PromptStore
from eval.compare import compare as compare_runs
from eval.reports import compare_html, run_html
from eval.runner import RunConfig, set_hash, summarise
from eval.sets_format import EvalQuestion, SetFormatError, dump_set, load_set, parse_lines
from models.errors import ModelError
from models.llm import LLMProtocol
from prompts.zones import ZONES

BUILT_IN = Path(__file__).resolve().parents[2] / "eval" / "sets"


class EvalRunService(BackgroundJobs):
    """Question sets, and evaluation runs over them: started here, run on the worker thread
    (or in the caller's, for the CLI), then read, reported and compared."""

    def __init__(self, sessions: sessionmaker[Session], search: SearchService,
                 answers: AnswerService, prompts: PromptStore, audit: AuditLog,
                 settings: Settings, llm_factory: Callable[[str], LLMProtocol]) -> None:
        super().__init__(sessions, EvalRunRow, name="eval", label="evaluation run",
                         timing=settings.jobs)
        self._progress: Callable[[int, int], None] | None = None  # the CLI's progress bar
        self._search = search
        self._answers = answers
        self._prompts = prompts
        self._audit = audit
        self._settings = settings
        self._llm_factory = llm_factory
        self._uploaded = settings.data_dir / "eval-sets"

    # -- sets ----------------------------------------------------------------------------
    def current_hash(self, name: str) -> str | None:
        """The SHA-256 of the set named ``name`` as it is now (None if there is none)."""
        try:
            return set_hash(self.set_path(name))
        except (NotFound, InvalidInput):
            return None

    def set_path(self, name: str) -> Path:
        """The file of the set named ``name``: built-in sets first, then uploaded ones."""
        if not _is_set_name(name):
            raise InvalidInput("set names are lower-case letters, digits, - and _",
                               code="invalid_set_name")
        for folder in (BUILT_IN, self._uploaded):
            if (folder / f"{name}.jsonl").is_file():
                return folder / f"{name}.jsonl"
        raise _set_not_found(name)

    def sets(self) -> list[QuestionSet | UnreadableSet]:
        """Every built-in and uploaded set, whoever may read its collections: the operator's
        view (``vraagbaak eval sets``). Whatever answers a signed-in caller uses
        ``visible_sets``."""
        return [listed for listed, _named in self._catalogue()]

    def visible_sets(self, *, readable: Names[str]) -> list[QuestionSet | UnreadableSet]:
        """The sets whose questions name only collections in ``readable``
        (``app.evaluation.set_files``); one that no longer parses is listed with the reason."""
        return [listed for listed, named in self._catalogue() if visible(named, readable)]

    def visible_set(self, name: str, *, readable: Names[str]) -> QuestionSet | UnreadableSet:
        """One set, if the caller may see it; one they may not is ``set_not_found``, exactly
        like a set that does not exist (and so is a name no set can have)."""
        if not _is_set_name(name):
            raise _set_not_found(name)
        path = self.set_path(name)
        listed, named = describe(path, "built-in" if path.parent == BUILT_IN else "uploaded")
        if not visible(named, readable):
            raise _set_not_found(name)
        return listed

    def _catalogue(self) -> Iterator[tuple[QuestionSet | UnreadableSet, frozenset[str] | None]]:
        folders: tuple[tuple[Origin, Path], ...] = (("built-in", BUILT_IN),
                                                    ("uploaded", self._uploaded))
        for origin, folder in folders:
            for path in sorted(folder.glob("*.jsonl")):
                yield describe(path, origin)

    def upload_set(self, actor: Principal, name: str, text: str, *,
                   readable: Names[str] | None = None) -> UploadedSet:
        """Store a new set after validating every line (errors name the line). Given the
        uploader's ``readable`` collections (the HTTP API and pages do), a set naming another
        collection is refused as that collection not found: it would be stored, yet hidden
        from its own uploader."""
        if not _is_set_name(name):
            raise InvalidInput("set names are lower-case letters, digits, - and _",
                               code="invalid_set_name")
        if (BUILT_IN / f"{name}.jsonl").is_file() or (self._uploaded / f"{name}.jsonl").is_file():
            # sets never change under a name: runs and prompt gates refer to them by name
            raise Conflict(f"a set named '{name}' exists; sets are never overwritten, pick "
                           "another name", code="set_exists")
        try:
            questions = parse_lines(text.splitlines(), source=name)
        except SetFormatError as exc:
            raise InvalidInput(str(exc), code="invalid_set") from None
        if not questions:
            raise InvalidInput("the set has no questions", code="invalid_set")
        if readable is not None:
            for collection in sorted(named_collections(questions)):
                if collection not in readable:
                    raise NotFound(f"collection '{collection}' not found",
                                   code="collection_not_found")
        self._uploaded.mkdir(parents=True, exist_ok=True)
        path = self._uploaded / f"{name}.jsonl"
        dump_set(questions, path)
        self._audit.record(actor.actor, "eval_set_uploaded", name, questions=len(questions),
                           sha256=set_hash(path))
        return UploadedSet(name=name, questions=len(questions), sha256=set_hash(path))

    # -- runs ----------------------------------------------------------------------------
    def start(self, evaluator: Principal, set_name: str, config: RunConfig, *,
              readable: Names[str], wait: bool = False,
              progress: Callable[[int, int], None] | None = None) -> EvalRun:
        """Queue a run (``wait``: run it here and return when done, for the CLI)."""
        # a set they may not see is not found, before anything else is looked at
        if isinstance(listed := self.visible_set(set_name, readable=readable), UnreadableSet):
            raise InvalidInput(listed.error, code="invalid_set")
        path = self.set_path(set_name)
        questions = load_set(path)
        needed = sorted(named_collections(questions))
        template = self._prompts.get(config.prompt, zones=ZONES)
        try:  # the caller named this model: a missing one is their input's fault
            llm = self._llm_factory(config.model) if config.model else None
        except ModelError as exc:
            raise InvalidInput(str(exc), code="model_not_found") from None
        model_id = llm.model_id if llm is not None else self._answers.model_id
        _close(llm)  # it only checked the name: whichever process runs the run makes its own
        settings = RunSettings(prompt=template.ref, model=config.model, k=config.k,
                               retrieval_only=config.retrieval_only,
                               retrieval=self._settings.retrieval.model_dump())
        started_as = {"user_id": evaluator.user_id, "username": evaluator.username,
                      "roles": sorted(evaluator.roles), "teams": sorted(evaluator.teams),
                      "via": evaluator.via, "readable": sorted(readable)}
        with self._sessions() as session:
            snapshots = dict(session.execute(select(Collection.name, Collection.snapshot_id)
                                             .where(Collection.name.in_(needed))).all())
            values = dict(id=uuid.uuid4().hex, created_by=evaluator.actor,
                          set_name=set_name, set_hash=set_hash(path), prompt=template.ref,
                          model_id=model_id, config=settings.model_dump(),
                          snapshot_ids=snapshots, questions_total=len(questions),
                          started_as=started_as)
            # the CLI runs its own run in its own thread; a server's run is any process's
            run = EvalRunRow(**(self.own(**values) if wait else values))
            session.add(run)
            session.commit()
        self._audit.record(evaluator.actor, "eval_run_started", run.id, set=set_name,
                           prompt=template.ref, model=model_id, k=config.k,
                           retrieval_only=config.retrieval_only)
        if wait:
            self._progress = progress
            try:
                self.run_owned(run.id)
            finally:
                self._progress = None
        else:
            self.submit()
        return self.get(run.id, readable=readable)

    def execute(self, job_id: str, stop: threading.Event, previous: str | None) -> None:
        """Run (or resume) a run this process claimed, as the evaluator who started it, from
        the question after the last result it stored."""
        with self._sessions() as session:
            row = session.get(EvalRunRow, job_id)
            assert row is not None
            done, stored = list(row.results), dict(row.config)
            expected, set_name, who = row.set_hash, row.set_name, dict(row.started_as)
        if previous is not None:
            self._audit.record("system", "eval_run_taken_over", job_id, previous=previous,
                               owner=self.owner, done=len(done))
        try:
            if not who:
                raise InvalidInput("this run was started by an older version, which did not "
                                   "record who started it; start it again", code="invalid_run")
            config = RunSettings.model_validate(stored)
            path = self.set_path(set_name)
            if set_hash(path) != expected:
                raise InvalidInput(f"the set '{set_name}' changed since the run started",
                                   code="invalid_set")
            questions = load_set(path)
            llm = self._llm_factory(config.model) if config.model else None
        except Exception as exc:
            self.update(job_id, status="failed", finished_at=utcnow(), started_as={},
                        message=self.failure(job_id, exc))
            return
        evaluator = Principal(user_id=who.get("user_id"), username=who.get("username", "?"),
                              roles=frozenset(who.get("roles", ())),
                              teams=frozenset(who.get("teams", ())), via=who.get("via", "cli"))
        resolved = RunConfig(prompt=config.prompt, model=config.model, k=config.k,
                             retrieval_only=config.retrieval_only)
        self._run(job_id, questions, resolved, evaluator, frozenset(who.get("readable", ())),
                  llm, done, stop)

    def _run(self, run_id: str, questions: list[EvalQuestion], config: RunConfig,
             evaluator: Principal, allowed: frozenset[str], llm: LLMProtocol | None,
             rows: list[dict[str, Any]], stop: threading.Event) -> None:
        worker = LLMWorker(llm, queue_size=1) if llm is not None and not config.retrieval_only \
            else None
        answers = self._answers if worker is None else with_worker(self._answers, worker)
        if worker is not None:
            worker.start()
        if not self.update(run_id, status="running"):
            return  # another process took it meanwhile
        write = self.progress(run_id)
        progress = self._progress
        try:
            for i in range(len(rows) + 1, len(questions) + 1):
                if stop.is_set():
                    if not self.taken(run_id):  # taken over: the new owner writes from now on
                        self.hand_back(run_id, results=rows, questions_done=len(rows))
                    return
                rows.append(self._patiently(partial(
                    run_question, questions[i - 1], config, search=self._search,
                    answers=answers, evaluator=evaluator, allowed=allowed)))
                if progress is not None:
                    progress(i, len(questions))
                # the results so far too: a process taking the run over resumes after them
                write(force=i == len(questions), questions_done=i, results=rows)
            if not self.mine(run_id):  # it stalled past stale_s: the new owner reports
                return
            summary = summarise(rows, config)
            # the audit line first: whoever sees the run finished finds it in the trail
            self._audit.record(evaluator.actor, "eval_run_finished", run_id, status="succeeded",
                               summary=summary)
            # who started it was kept only so that another process could resume it as them
            self.update(run_id, status="succeeded", results=rows, summary=summary,
                        finished_at=utcnow(), message="done", started_as={})
        except Exception as exc:
            if not self.mine(run_id):
                return
            message = self.failure(run_id, exc)
            self._audit.record(evaluator.actor, "eval_run_finished", run_id, status="failed",
                               message=message)
            self.update(run_id, status="failed", results=rows, finished_at=utcnow(),
                        message=message, started_as={})
        finally:
            if worker is not None:
                worker.stop()
            _close(llm)

    @staticmethod
    def _patiently(step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Chat comes first: while the LLM queue is full, wait and try again."""
        for _ in range(600):
            try:
                return step()
            except Busy as exc:
                time.sleep(min(exc.retry_after, 5))
        return step()

    def get(self, run_id: str, *, readable: Names[str]) -> EvalRun:
        """A run, if the caller may read every collection it used: its results quote them."""
        row = self._row(run_id, readable)
        return EvalRun(**_overview(row).model_dump(), results=row.results)

    def overview(self, run_id: str, *, readable: Names[str]) -> EvalRunOverview:
        """A run without its results (what a promotion or ``eval show`` needs)."""
        return _overview(self._row(run_id, readable))

    def runs(self, *, readable: Names[str], limit: int = 100) -> list[EvalRunOverview]:
        """Recent runs, newest first, over collections the caller may read."""
        with self._sessions() as session:
            # the per-question results can be megabytes a run: a listing never loads them
            rows = session.scalars(select(EvalRunRow).options(defer(EvalRunRow.results))
                                   .order_by(EvalRunRow.created_at.desc())).all()
        mine = [r for r in rows if set(r.snapshot_ids) <= set(readable)]
        return [_overview(r) for r in mine[:limit]]

    def report(self, run_id: str, *, readable: Names[str]) -> str:
        """The run's self-contained HTML page."""
        return run_html(self.get(run_id, readable=readable).model_dump())

    def compare(self, run_a: str, run_b: str, *, readable: Names[str]) -> Comparison:
        """B against baseline A; both must have succeeded."""
        a, b = self.get(run_a, readable=readable), self.get(run_b, readable=readable)
        for run in (a, b):
            if run.status != "succeeded":
                raise InvalidInput(f"run {run.id} is {run.status}", code="run_not_done")
        return Comparison.model_validate(compare_runs(a.model_dump(), b.model_dump()))

    def compare_html(self, run_a: str, run_b: str, *, readable: Names[str]) -> str:
        """``compare`` as a self-contained HTML page."""
        return compare_html(self.compare(run_a, run_b, readable=readable).model_dump())

    def _row(self, run_id: str, readable: Names[str]) -> EvalRunRow:
        with self._sessions() as session:
            run = session.get(EvalRunRow, run_id)
        if run is None or not set(run.snapshot_ids) <= set(readable):
            raise NotFound("evaluation run not found", code="run_not_found")
        return run


def _close(llm: LLMProtocol | None) -> None:
    """Release a run's own LLM (the openai backend holds an HTTP client; llama.cpp's loads
    lazily and has nothing to close)."""
    close = getattr(llm, "close", None)
    if callable(close):
        close()


def _is_set_name(name: str) -> bool:
    # fullmatch: NAME ends in "$", which re.match lets match before a final newline
    return NAME.fullmatch(name) is not None


def _set_not_found(name: str) -> NotFound:
    return NotFound(f"question set '{name}' not found", code="set_not_found")


def _overview(run: EvalRunRow) -> EvalRunOverview:
    return EvalRunOverview(
        id=run.id, status=run.status, set_name=run.set_name, set_hash=run.set_hash,
        prompt=run.prompt, model_id=run.model_id,
        config=RunSettings.model_validate(run.config), snapshot_ids=run.snapshot_ids,
        progress=RunProgress(done=run.questions_done, total=run.questions_total),
        summary=run.summary, message=run.message, created_by=run.created_by,
        created_at=run.created_at.isoformat(),
        finished_at=run.finished_at.isoformat() if run.finished_at else None)
