"""Evaluators: question sets, evaluation runs with progress, reports and comparisons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from app.api.deps import Readable, ServicesDep, require
from app.api.schemas.errors import JSON_BODY, PARAMETERS, WITH_ROLE, errors
from app.api.schemas.evals import EvalRunRequest, RunList, SetList, SetUpload
from app.api.schemas.rules import Id
from app.core.errors import NotFound
from app.core.principal import Principal
from app.evaluation.records import Comparison, EvalRun, UploadedSet
from eval.runner import RunConfig

router = APIRouter(prefix="/v1/eval", tags=["evaluation"], responses=WITH_ROLE)
Evaluator = Annotated[Principal, Depends(require("evaluator"))]


@router.get("/sets")
def sets(services: ServicesDep, _evaluator: Evaluator, readable: Readable) -> SetList:
    """Built-in and uploaded sets whose questions name only collections you may read."""
    return SetList(sets=services.evals.visible_sets(readable=readable))


@router.post("/sets", status_code=201, responses=JSON_BODY | errors(404, 409))
def upload_set(body: SetUpload, services: ServicesDep, evaluator: Evaluator,
               readable: Readable) -> UploadedSet:
    """Add a question set; a malformed one is refused with the line number, before any run,
    and so is one naming a collection you may not read."""
    return services.evals.upload_set(evaluator, body.name, body.jsonl, readable=readable)


@router.post("/runs", status_code=202, responses=JSON_BODY | errors(404, 503))
def start_run(body: EvalRunRequest, services: ServicesDep, evaluator: Evaluator,
              readable: Readable, response: Response) -> EvalRun:
    """Start a run in the background; poll ``GET /v1/eval/runs/{id}`` (the ``Location``) for
    progress."""
    if body.model is not None and body.model not in services.settings.eval_models:
        # a name looked up in the server's list, like a set or a prompt: not there is 404
        raise NotFound("that model is not one of the server's eval_models",
                       code="model_not_allowed")
    run = services.evals.start(evaluator, body.set, RunConfig(
        prompt=body.prompt, model=body.model, k=body.k, retrieval_only=body.retrieval_only),
        readable=readable)
    response.headers["Location"] = f"/v1/eval/runs/{run.id}"
    return run


@router.get("/runs", responses=PARAMETERS)
def runs(services: ServicesDep, _evaluator: Evaluator, readable: Readable,
         limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> RunList:
    """Recent runs over collections you may read."""
    return RunList(runs=services.evals.runs(readable=readable, limit=limit))


@router.get("/runs/{run_id}", responses=errors(404, 422))
def run(run_id: Id, services: ServicesDep, _evaluator: Evaluator,
        readable: Readable) -> EvalRun:
    """Status, progress, settings, summary and per-question results (JSON report)."""
    return services.evals.get(run_id, readable=readable)


@router.get("/runs/{run_id}/report", response_class=HTMLResponse,
            responses=errors(401, 403, 404, 422, beside=HTMLResponse))
def report(run_id: Id, services: ServicesDep, _evaluator: Evaluator,
           readable: Readable) -> HTMLResponse:
    """A self-contained HTML page: summary, charts, every question with its failed checks."""
    return HTMLResponse(services.evals.report(run_id, readable=readable))


COMPARE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}},
          "description": "JSON, or with html=true a self-contained page."},
    **errors(404, 422),
}


@router.get("/compare", response_model=Comparison, responses=COMPARE_RESPONSES)
def compare(services: ServicesDep, _evaluator: Evaluator, readable: Readable,
            a: Annotated[str, Query(max_length=32, description="Baseline run.")],
            b: Annotated[str, Query(max_length=32, description="Candidate run.")],
            html: bool = False) -> Comparison | HTMLResponse:
    """Per-question wins and losses of B against A, and per metric whether the difference is
    beyond noise (paired bootstrap)."""
    if html:
        return HTMLResponse(services.evals.compare_html(a, b, readable=readable))
    return services.evals.compare(a, b, readable=readable)
