"""The prompt library: versions, zones, eval-gated promotion and one-step rollback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.api.deps import Admin, CurrentUser, ServicesDep, require
from app.api.schemas.errors import JSON_BODY, SIGNED_IN, errors
from app.api.schemas.prompts import (
    PromoteRequest,
    PromptCatalogue,
    PromptVersionRequest,
    ZoneRequest,
)
from app.api.schemas.rules import PromptRef, VersionRef
from app.core.principal import Principal
from app.prompt_library.records import PromptDetail, PromptVersion

router = APIRouter(prefix="/v1/prompts", tags=["prompts"], responses=SIGNED_IN)
Evaluator = Annotated[Principal, Depends(require("evaluator"))]


@router.get("")
def catalogue(services: ServicesDep, _user: CurrentUser) -> PromptCatalogue:
    """Every prompt id with its versions, zones and the version in production."""
    return PromptCatalogue(prompts=services.prompts.catalogue())


@router.get("/{ref}", responses=errors(404, 422))
def show(ref: PromptRef, services: ServicesDep, _user: CurrentUser) -> PromptDetail:
    """``answer`` (the production version) or ``answer@2``: template, gate, history."""
    return services.prompts.show(ref)


@router.post("/{prompt_id}/versions", status_code=201, responses=errors(403, 404, 409) | JSON_BODY)
def new_version(prompt_id: PromptRef, body: PromptVersionRequest, services: ServicesDep,
                evaluator: Evaluator) -> PromptVersion:
    """A new version, in the exploration zone (never overwrites an old one)."""
    return services.prompts.new_version(
        evaluator, prompt_id, system=body.system, user=body.user,
        context_item=body.context_item, stop=body.stop, description=body.description,
        change_note=body.change_note, gate=body.gate_dict())


@router.post("/{ref}/zone", responses=errors(403, 404, 409) | JSON_BODY)
def set_zone(ref: VersionRef, body: ZoneRequest, services: ServicesDep,
             evaluator: Evaluator) -> PromptDetail:
    """Move a version between exploration and pilot (agents may opt into pilot versions)."""
    return services.prompts.set_zone(evaluator, ref, body.zone)


@router.post("/{ref}/promote", responses=errors(403, 404, 409) | JSON_BODY)
def promote(ref: VersionRef, body: PromoteRequest, services: ServicesDep,
            admin: Admin) -> PromptDetail:
    """Make a version the production one: needs a finished run of it on its gate set that
    meets the gate; the admin's call is the approval, and the run id is recorded."""
    run = services.evals.overview(body.run_id, readable=services.access.readable(admin))
    gate_set = services.prompts.show(ref).gate.get("set", "")
    return services.prompts.promote(admin, ref, run,
                                    gate_set_hash=services.evals.current_hash(gate_set))


@router.post("/{prompt_id}/rollback", responses=errors(403, 404, 409, 422))
def rollback(prompt_id: PromptRef, services: ServicesDep, admin: Admin) -> PromptDetail:
    """Restore the production version from before the last promotion."""
    return services.prompts.rollback(admin, prompt_id)
