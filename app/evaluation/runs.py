"""Evaluation runs as background jobs: resolve the set and the prompt version, run every
question, store the results with everything needed to reproduce them, report and compare.

A run records the set's name and SHA-256, the resolved prompt version (``answer`` becomes
``answer@3``), the model id, the index snapshot of every collection the set uses and the
retrieval settings. One run executes at a time per process (it shares the cores and the LLM
with chat); while the LLM queue is full, the run waits instead of failing.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Collection as Names
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer, sessionmaker

from app.answering.llm_worker import LLMWorker
from app.answering.service import AnswerService, with_worker
from app.audit.log import AuditLog
from app.core.errors import Busy, Conflict, InvalidInput, NotFound, VraagbaakError
from app.core.names import NAME
from app.core.principal import Principal
from app.core.settings import Settings
from app.core.tables import utcnow
from app.evaluation.runner import ANY_ZONE, run_question
from app.evaluation.tables import EvalRun
from app.knowledge.search import SearchService
from app.knowledge.tables import Collection
from app.prompt_library.store import PromptStore
from eval.compare import compare
from eval.reports import compare_html, run_html
from eval.runner import RunConfig, set_hash, summarise
from eval.sets_format import EvalQuestion, SetFormatError, dump_set, load_set, parse_lines
from models.errors import ModelError
from models.llm import LLMProtocol

log = logging.getLogger("vraagbaak.eval")
BUILT_IN = Path(__file__).resolve().parents[2] / "eval" / "sets"
ACTIVE = ("queued", "running")


class EvalRunService:
    def __init__(self, sessions: sessionmaker[Session], search: SearchService,
                 answers: AnswerService, prompts: PromptStore, audit: AuditLog,
                 settings: Settings, llm_factory: Callable[[str], LLMProtocol]) -> None:
        self._sessions = sessions
        self._search = search
        self._answers = answers
        self._prompts = prompts
        self._audit = audit
        self._settings = settings
        self._llm_factory = llm_factory
        self._uploaded = settings.data_dir / "eval-sets"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eval")
        self._stopping = threading.Event()  # set on shutdown: a run stops between questions

    # -- sets ----------------------------------------------------------------------------
    def current_hash(self, name: str) -> str | None:
        """The SHA-256 of the set named ``name`` as it is now (None if there is none)."""
        try:
            return set_hash(self.set_path(name))
        except (NotFound, InvalidInput):
            return None

    def set_path(self, name: str) -> Path:
        if not NAME.match(name):
            raise InvalidInput("set names are lower-case letters, digits, - and _",
                               code="invalid_set_name")
        for folder in (BUILT_IN, self._uploaded):
            if (folder / f"{name}.jsonl").is_file():
                return folder / f"{name}.jsonl"
        raise NotFound(f"question set '{name}' not found", code="set_not_found")

    def sets(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for origin, folder in (("built-in", BUILT_IN), ("uploaded", self._uploaded)):
            for path in sorted(folder.glob("*.jsonl")):
                try:
                    questions = load_set(path)
                except SetFormatError as exc:
                    out.append({"name": path.stem, "origin": origin, "error": str(exc)})
                    continue
                out.append({"name": path.stem, "origin": origin, "questions": len(questions),
                            "must_refuse": sum(q.must_refuse for q in questions),
                            "sha256": set_hash(path)})
        return out

    def upload_set(self, actor: Principal, name: str, text: str) -> dict[str, Any]:
        """Store a new set after validating every line (errors name the line)."""
        if not NAME.match(name):
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
        self._uploaded.mkdir(parents=True, exist_ok=True)
        path = self._uploaded / f"{name}.jsonl"
        dump_set(questions, path)
        self._audit.record(actor.actor, "eval_set_uploaded", name, questions=len(questions),
                           sha256=set_hash(path))
        return {"name": name, "questions": len(questions), "sha256": set_hash(path)}

    # -- runs ----------------------------------------------------------------------------
    def start(self, evaluator: Principal, set_name: str, config: RunConfig, *,
              readable: Names[str], wait: bool = False,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Queue a run (``wait``: run it here and return when done, for the CLI)."""
        path = self.set_path(set_name)
        try:
            questions = load_set(path)
        except SetFormatError as exc:
            raise InvalidInput(str(exc), code="invalid_set") from None
        needed = sorted({c for q in questions for c in q.collections})
        for name in needed:
            if name not in readable:
                raise NotFound(f"collection '{name}' not found", code="collection_not_found")
        template = self._prompts.get(config.prompt, zones=ANY_ZONE)
        try:
            llm = self._llm_factory(config.model) if config.model else None
        except ModelError as exc:
            raise InvalidInput(str(exc), code="model_not_found") from None
        model_id = llm.model_id if llm is not None else self._answers.model_id
        with self._sessions() as session:
            snapshots = dict(session.execute(select(Collection.name, Collection.snapshot_id)
                                             .where(Collection.name.in_(needed))).all())
            run = EvalRun(id=uuid.uuid4().hex, created_by=evaluator.actor, set_name=set_name,
                          set_hash=set_hash(path), prompt=template.ref, model_id=model_id,
                          config=config.as_dict() | {
                              "prompt": template.ref,
                              "retrieval": self._settings.retrieval.model_dump()},
                          snapshot_ids=snapshots, questions_total=len(questions))
            session.add(run)
            session.commit()
        self._audit.record(evaluator.actor, "eval_run_started", run.id, set=set_name,
                           prompt=template.ref, model=model_id, k=config.k,
                           retrieval_only=config.retrieval_only)
        resolved = RunConfig(prompt=template.ref, model=config.model, k=config.k,
                             retrieval_only=config.retrieval_only)
        job = (run.id, questions, resolved, evaluator, frozenset(readable), llm, progress)
        if wait:
            self._execute(*job)
        else:
            self._pool.submit(self._execute, *job)
        return self.get(run.id, readable=readable)

    def _execute(self, run_id: str, questions: list[EvalQuestion], config: RunConfig,
                 evaluator: Principal, allowed: frozenset[str], llm: LLMProtocol | None,
                 progress: Callable[[int, int], None] | None) -> None:
        worker = LLMWorker(llm, queue_size=1) if llm is not None and not config.retrieval_only \
            else None
        answers = self._answers if worker is None else with_worker(self._answers, worker)
        if worker is not None:
            worker.start()
        self._update(run_id, status="running")
        rows: list[dict[str, Any]] = []
        last = 0.0
        try:
            for i, q in enumerate(questions, start=1):
                if self._stopping.is_set():
                    self._update(run_id, status="interrupted", results=rows,
                                 finished_at=utcnow(), message="the server stopped during "
                                 f"this run, after {i - 1} of {len(questions)} questions")
                    return
                rows.append(self._patiently(lambda q=q: run_question(  # type: ignore[misc]
                    q, config, search=self._search, answers=answers, evaluator=evaluator,
                    allowed=allowed)))
                if progress is not None:
                    progress(i, len(questions))
                if time.monotonic() - last > 0.5 or i == len(questions):
                    last = time.monotonic()
                    self._update(run_id, questions_done=i)
            summary = summarise(rows, config)
            self._update(run_id, status="succeeded", results=rows, summary=summary,
                         finished_at=utcnow(), message="done")
            self._audit.record(evaluator.actor, "eval_run_finished", run_id, status="succeeded",
                               summary=summary)
        except Exception as exc:
            if not isinstance(exc, VraagbaakError | ModelError):
                log.exception("evaluation run %s failed", run_id)
            message = getattr(exc, "message", None) or (
                str(exc) if isinstance(exc, ModelError) else f"{type(exc).__name__}; see the log")
            self._update(run_id, status="failed", results=rows, finished_at=utcnow(),
                         message=message)
            self._audit.record(evaluator.actor, "eval_run_finished", run_id, status="failed",
                               message=message)
        finally:
            if worker is not None:
                worker.stop()

    @staticmethod
    def _patiently(step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Chat comes first: while the LLM queue is full, wait and try again."""
        for _ in range(600):
            try:
                return step()
            except Busy as exc:
                time.sleep(min(exc.retry_after, 5))
        return step()

    def _update(self, run_id: str, **values: Any) -> None:
        with self._sessions() as session:
            session.execute(update(EvalRun).where(EvalRun.id == run_id).values(**values))
            session.commit()

    def recover(self) -> int:
        with self._sessions() as session:
            n = session.execute(update(EvalRun).where(EvalRun.status.in_(ACTIVE)).values(
                status="interrupted", message="the server stopped during this run",
                finished_at=utcnow())).rowcount  # type: ignore[attr-defined]
            session.commit()
        return int(n or 0)

    def get(self, run_id: str, *, readable: Names[str], results: bool = True
            ) -> dict[str, Any]:
        """A run, if the caller may read every collection it used: its results quote them."""
        with self._sessions() as session:
            run = session.get(EvalRun, run_id)
        if run is None or not set(run.snapshot_ids) <= set(readable):
            raise NotFound("evaluation run not found", code="run_not_found")
        return view(run, results=results)

    def runs(self, *, readable: Names[str], limit: int = 100) -> list[dict[str, Any]]:
        with self._sessions() as session:
            # the per-question results can be megabytes a run: a listing never loads them
            rows = session.scalars(select(EvalRun).options(defer(EvalRun.results))
                                   .order_by(EvalRun.created_at.desc())).all()
        mine = [r for r in rows if set(r.snapshot_ids) <= set(readable)]
        return [view(r, results=False) for r in mine[:limit]]

    def report(self, run_id: str, *, readable: Names[str]) -> str:
        return run_html(self.get(run_id, readable=readable))

    def compare(self, run_a: str, run_b: str, *, readable: Names[str], html: bool = False
                ) -> dict[str, Any] | str:
        a, b = self.get(run_a, readable=readable), self.get(run_b, readable=readable)
        for run in (a, b):
            if run["status"] != "succeeded":
                raise InvalidInput(f"run {run['id']} is {run['status']}", code="run_not_done")
        result = compare(a, b)
        return compare_html(result) if html else result

    def shutdown(self) -> None:
        """Stop after the current question (a full run can take many minutes)."""
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


def view(run: EvalRun, *, results: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": run.id, "status": run.status, "set_name": run.set_name,
        "set_hash": run.set_hash, "prompt": run.prompt, "model_id": run.model_id,
        "config": run.config, "snapshot_ids": run.snapshot_ids,
        "progress": {"done": run.questions_done, "total": run.questions_total},
        "summary": run.summary, "message": run.message, "created_by": run.created_by,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
    if results:
        data["results"] = run.results
    return data
