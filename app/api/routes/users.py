"""Admin: users, teams and anyone's API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import Admin, ServicesDep
from app.api.schemas.auth import TokenRequest
from app.api.schemas.users import TeamCreate, UserCreate, UserUpdate

router = APIRouter(prefix="/v1/admin", tags=["admin: users"])


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "id"}


@router.get("/users")
def list_users(services: ServicesDep, _admin: Admin) -> dict[str, Any]:
    return {"users": [_public(u) for u in services.users.all()]}


@router.post("/users", status_code=201)
def create_user(body: UserCreate, services: ServicesDep, admin: Admin) -> dict[str, Any]:
    user = services.users.create(body.username, roles=body.roles, teams=body.teams,
                                 password=body.password, display_name=body.display_name)
    services.audit.record(admin.actor, "user_created", body.username, roles=user["roles"],
                          teams=user["teams"], sign_in=user["password_set"])
    return _public(user)


@router.get("/users/{username}")
def get_user(username: str, services: ServicesDep, _admin: Admin) -> dict[str, Any]:
    return _public(services.users.get(username))


@router.patch("/users/{username}")
def update_user(username: str, body: UserUpdate, services: ServicesDep,
                admin: Admin) -> dict[str, Any]:
    user = services.users.update(username, roles=body.roles, teams=body.teams,
                                 active=body.active, password=body.password,
                                 display_name=body.display_name)
    if body.active is False:
        services.identity.tokens.revoke_all(user["id"])
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    services.audit.record(admin.actor, "user_changed", username, **changes,
                          credentials_reset=body.password is not None)
    return _public(user)


@router.get("/teams")
def list_teams(services: ServicesDep, _admin: Admin) -> dict[str, Any]:
    return {"teams": services.users.teams()}


@router.post("/teams", status_code=201)
def create_team(body: TeamCreate, services: ServicesDep, admin: Admin) -> dict[str, Any]:
    team = services.users.create_team(body.name)
    services.audit.record(admin.actor, "team_created", body.name)
    return team


@router.get("/users/{username}/tokens")
def user_tokens(username: str, services: ServicesDep, _admin: Admin) -> dict[str, Any]:
    user = services.users.get(username)
    return {"tokens": services.identity.tokens.list(user["id"])}


@router.post("/users/{username}/tokens", status_code=201)
def create_user_token(username: str, body: TokenRequest, services: ServicesDep,
                      admin: Admin) -> dict[str, Any]:
    """A token for a user or service account; the token is in this response only."""
    token, view = services.identity.create_token(
        admin, username, name=body.name,
        expires_days=body.expires_days or services.settings.auth.token_days)
    return view | {"token": token}


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: str, services: ServicesDep, admin: Admin) -> dict[str, Any]:
    return services.identity.revoke_token(admin, token_id, own_only=False)
