"""The evaluator's pages: question sets, evaluation runs (started here, followed live, their
HTML report inside the page), comparisons of two runs, and the prompt library (zones, the
gate, promotion with the gate check shown before confirming, rollback).

Every page calls the same services as the JSON routes (``app.api.routes.evals`` and
``prompts``) with the same roles: evaluators read, upload, start runs and move versions
between exploration and pilot; promotion and rollback are the admin's. The rules stay in the
services: a promotion is decided by ``PromptStore.promote``, the per-bound check shown on the
confirm page is ``eval.gates.gate_failures`` itself.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.evaluation.records import EvalRunOverview, QuestionSet, UnreadableSet
from app.prompt_library.records import PromptDetail
from app.web.rendering import N_, render
from app.web.session import FormUser, PageUser, with_role
from app.wiring import Services
from eval.gates import gate_failures
from eval.runner import RunConfig
from eval.sets_format import load_set
from prompts.zones import MovableZone

router = APIRouter(include_in_schema=False)
MAX_SET_CHARS = 200_000  # as ``SetUpload.jsonl`` of the JSON API
# what a run listing shows of a summary, when the run measured it
KEY_METRICS = ("hit_at_k", "recall_at_k", "mrr_at_10", "groundedness", "refusal_accuracy")

# ids the templates translate from data (run states, zones, set origins)
DATA_MESSAGES = (
    N_("queued"), N_("running"), N_("succeeded"), N_("failed"), N_("interrupted"),
    N_("exploration"), N_("pilot"), N_("production"), N_("built-in"), N_("uploaded"),
    N_("seed"), N_("promote"), N_("rollback"),
)


def _evaluator(user: Principal) -> Principal:
    return with_role(user, "evaluator")


def _admin(user: Principal) -> Principal:
    return with_role(user, "admin")


def _page(request: Request, template: str, user: Principal, **context: Any) -> HTMLResponse:
    return render(request, f"evaluation/{template}", user=user, **context)


# -- question sets -------------------------------------------------------------------------
def _sets_page(request: Request, services: Services, user: Principal, *,
               status_code: int = 200, **context: Any) -> HTMLResponse:
    sets = services.evals.visible_sets(readable=services.access.readable(user))
    return _page(request, "sets.html", user, sets=sets, status_code=status_code, **context)


def line_error(name: str, message: str) -> tuple[int | None, str]:
    """The line number and the problem of a set the service refused (``name:3: ...``)."""
    found = re.match(rf"{re.escape(name)}:(\d+): (.*)\Z", message, re.DOTALL)
    return (int(found[1]), found[2]) if found else (None, message)


@router.get("/eval/sets", response_class=HTMLResponse)
def sets_page(request: Request, services: ServicesDep, user: PageUser) -> HTMLResponse:
    return _sets_page(request, services, _evaluator(user))


@router.post("/eval/sets", response_class=HTMLResponse, response_model=None)
async def upload_set(request: Request, services: ServicesDep, user: FormUser,
                     name: Annotated[str, Form(max_length=64)],
                     jsonl: Annotated[str, Form(max_length=MAX_SET_CHARS)] = "",
                     file: Annotated[UploadFile | None, File()] = None,
                     ) -> HTMLResponse | RedirectResponse:
    """Store a set; a malformed one is shown again with the line that is wrong."""
    evaluator = _evaluator(user)
    text = jsonl
    if file is not None and file.filename:
        raw = await file.read(MAX_SET_CHARS * 4 + 1)
        text = raw.decode("utf-8", errors="replace")
        if len(text) > MAX_SET_CHARS:
            return _sets_page(request, services, evaluator, status_code=413, name=name,
                              jsonl="", error_line=None,
                              error=N_("The file is too large for one set."))
    try:
        stored = await run_in_threadpool(services.evals.upload_set, evaluator, name, text,
                                         readable=services.access.readable(evaluator))
    except (InvalidInput, Conflict, NotFound) as exc:
        line, problem = line_error(name, exc.message)
        return _sets_page(request, services, evaluator, status_code=exc.status, name=name,
                          jsonl=text, error_line=line, error=problem)
    return RedirectResponse(f"/eval/sets/{stored.name}?uploaded=1", status_code=303)


@router.get("/eval/sets/{name}", response_class=HTMLResponse)
def set_page(name: str, request: Request, services: ServicesDep, user: PageUser,
             uploaded: bool = False) -> HTMLResponse:
    evaluator = _evaluator(user)
    # a set over a collection they may not read is "not found", exactly like a missing one
    listed = services.evals.visible_set(name, readable=services.access.readable(evaluator))
    error = listed.error if isinstance(listed, UnreadableSet) else None
    questions = load_set(services.evals.set_path(name)) if error is None else []
    return _page(request, "set.html", evaluator, set=listed, questions=questions, error=error,
                 uploaded=uploaded)


# -- runs ----------------------------------------------------------------------------------
def _refs(services: Services) -> list[str]:
    """What a run may evaluate: a prompt id (its production version) or any version."""
    refs: list[str] = []
    for entry in services.prompts.catalogue():
        refs.append(entry.id)
        refs += [v.ref for v in entry.versions]
    return refs


@router.get("/eval", response_class=HTMLResponse)
def runs_page(request: Request, services: ServicesDep, user: PageUser) -> HTMLResponse:
    evaluator = _evaluator(user)
    readable = services.access.readable(evaluator)
    runs = services.evals.runs(readable=readable)
    usable = [s for s in services.evals.visible_sets(readable=readable)
              if isinstance(s, QuestionSet)]
    return _page(request, "runs.html", evaluator, runs=runs, sets=usable,
                 refs=_refs(services), key_metrics=KEY_METRICS)


@router.post("/eval/runs")
async def start_run(services: ServicesDep, user: FormUser,
                    set_name: Annotated[str, Form(alias="set", max_length=64)],
                    prompt: Annotated[str, Form(max_length=80)] = "answer",
                    k: Annotated[int, Form(ge=1, le=20)] = 5,
                    retrieval_only: Annotated[bool, Form()] = False) -> RedirectResponse:
    evaluator = _evaluator(user)
    run = await run_in_threadpool(
        services.evals.start, evaluator, set_name,
        RunConfig(prompt=prompt, k=k, retrieval_only=retrieval_only),
        readable=services.access.readable(evaluator))
    return RedirectResponse(f"/eval/runs/{run.id}", status_code=303)


@router.get("/eval/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request, services: ServicesDep,
             user: PageUser) -> HTMLResponse:
    evaluator = _evaluator(user)
    run = services.evals.overview(run_id, readable=services.access.readable(evaluator))
    active = run.status in ("queued", "running")
    return _page(request, "run.html", evaluator, run=run, active=active,
                 scripts=["/static/eval.js"] if active else [])


# -- comparing -----------------------------------------------------------------------------
@router.get("/eval/compare", response_class=HTMLResponse)
def compare_page(request: Request, services: ServicesDep, user: PageUser,
                 a: Annotated[str, Query(max_length=32)] = "",
                 b: Annotated[str, Query(max_length=32)] = "") -> HTMLResponse:
    evaluator = _evaluator(user)
    readable = services.access.readable(evaluator)
    finished = [r for r in services.evals.runs(readable=readable) if r.status == "succeeded"]
    comparison, error = None, None
    if a and b:
        try:
            comparison = services.evals.compare(a, b, readable=readable)
        except (InvalidInput, NotFound) as exc:
            error = exc.message
    return _page(request, "compare.html", evaluator, runs=finished, a=a, b=b,
                 comparison=comparison, error=error)


# -- prompts -------------------------------------------------------------------------------
def bound_checks(gate: dict[str, Any], summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each bound of ``gate`` with the run's value and whether ``gate_failures`` passes it."""
    checks = []
    for side in ("min", "max"):
        for metric, bound in gate.get(side, {}).items():
            checks.append({"metric": metric, "side": side, "bound": bound,
                           "value": summary.get(metric),
                           "passed": not gate_failures({side: {metric: bound}}, summary)})
    return checks


def _last_gate_run(version: PromptDetail, runs: list[EvalRunOverview]) -> EvalRunOverview | None:
    """The newest finished run of this version on its gate set (runs come newest first)."""
    return next((r for r in runs if r.prompt == version.ref and r.status == "succeeded"
                 and r.set_name == version.gate.get("set")), None)


@router.get("/eval/prompts", response_class=HTMLResponse)
def prompts_page(request: Request, services: ServicesDep, user: PageUser) -> HTMLResponse:
    evaluator = _evaluator(user)
    runs = services.evals.runs(readable=services.access.readable(evaluator), limit=1000)
    prompts = []
    for entry in services.prompts.catalogue():
        versions = []
        for v in entry.versions:
            detail = services.prompts.show(v.ref)
            last = _last_gate_run(detail, runs)
            versions.append({"detail": detail, "last": last,
                             "failures": gate_failures(detail.gate, last.summary)
                             if last is not None else []})
        history = services.prompts.show(entry.versions[-1].ref).history if entry.versions \
            else []
        prompts.append({"entry": entry, "versions": versions, "history": history})
    return _page(request, "prompts.html", evaluator, prompts=prompts)


@router.post("/eval/prompts/{ref}/zone")
async def set_zone(ref: str, services: ServicesDep, user: FormUser,
                   zone: Annotated[MovableZone, Form()]) -> RedirectResponse:
    await run_in_threadpool(services.prompts.set_zone, _evaluator(user), ref, zone)
    return RedirectResponse(f"/eval/prompts#{ref.partition('@')[0]}", status_code=303)


@router.get("/eval/prompts/{ref}/promote", response_class=HTMLResponse)
def promote_page(ref: str, request: Request, services: ServicesDep, user: PageUser,
                 run: Annotated[str, Query(max_length=32)] = "") -> HTMLResponse:
    """Pick a finished run of this version, then see every gate bound against it."""
    admin = _admin(user)
    version = services.prompts.show(ref)
    readable = services.access.readable(admin)
    candidates = [r for r in services.evals.runs(readable=readable, limit=1000)
                  if r.prompt == version.ref and r.status == "succeeded"]
    chosen = services.evals.overview(run, readable=readable) if run else None
    checks = bound_checks(version.gate, chosen.summary) if chosen is not None else []
    failures = gate_failures(version.gate, chosen.summary) if chosen is not None else []
    return _page(request, "promote.html", admin, version=version, candidates=candidates,
                 run=chosen, checks=checks, failures=failures,
                 can_confirm=chosen is not None and bool(version.gate) and not failures)


@router.post("/eval/prompts/{ref}/promote")
async def promote(ref: str, services: ServicesDep, user: FormUser,
                  run_id: Annotated[str, Form(max_length=32)]) -> RedirectResponse:
    """What ``POST /v1/prompts/{ref}/promote`` does: the store decides."""
    admin = _admin(user)
    run = services.evals.overview(run_id, readable=services.access.readable(admin))
    gate_set = services.prompts.show(ref).gate.get("set", "")
    await run_in_threadpool(services.prompts.promote, admin, ref, run,
                            gate_set_hash=services.evals.current_hash(gate_set))
    return RedirectResponse(f"/eval/prompts#{ref.partition('@')[0]}", status_code=303)


@router.get("/eval/prompts/{prompt_id}/rollback", response_class=HTMLResponse)
def rollback_page(prompt_id: str, request: Request, services: ServicesDep,
                  user: PageUser) -> HTMLResponse:
    admin = _admin(user)
    current = services.prompts.show(prompt_id)
    last = next((h for h in reversed(current.history) if h.action == "promote"), None)
    return _page(request, "rollback.html", admin, current=current, last=last)


@router.post("/eval/prompts/{prompt_id}/rollback")
async def rollback(prompt_id: str, services: ServicesDep, user: FormUser) -> RedirectResponse:
    await run_in_threadpool(services.prompts.rollback, _admin(user), prompt_id)
    return RedirectResponse(f"/eval/prompts#{prompt_id}", status_code=303)
