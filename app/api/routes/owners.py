"""``/v1/admin/collections/{name}/owners``: who owns a collection or its folders (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api.deps import Admin, ServicesDep
from app.api.schemas.errors import JSON_BODY, WITH_ROLE, errors
from app.api.schemas.knowledge import OwnerRequest
from app.api.schemas.rules import Name
from app.knowledge_issues.records import Owner

router = APIRouter(prefix="/v1/admin/collections", tags=["admin"], responses=WITH_ROLE)
OwnerId = Annotated[int, Path(ge=1, le=2**31 - 1, description="As the owner list shows it.")]


@router.get("/{name}/owners", responses=errors(404, 422))
def owners(name: Name, services: ServicesDep, _admin: Admin) -> list[Owner]:
    """The collection's owners, by folder ("" is the whole collection)."""
    return services.owners.of(name)


@router.post("/{name}/owners", status_code=201, responses=JSON_BODY | errors(404, 409))
def add_owner(name: Name, body: OwnerRequest, services: ServicesDep, admin: Admin) -> Owner:
    """Make a user or a team an owner; knowledge issues on its documents go to them."""
    return services.owners.add(name, admin, user=body.user, team=body.team, folder=body.folder)


@router.delete("/{name}/owners/{owner_id}", status_code=204, responses=errors(404, 422))
def remove_owner(name: Name, owner_id: OwnerId, services: ServicesDep,
                 admin: Admin) -> Response:
    services.owners.remove(name, admin, owner_id)
    return Response(status_code=204)
