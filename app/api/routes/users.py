"""Admin: users, teams and anyone's API tokens.

A ``User`` record carries its database id for the services; the id is excluded from its
serialisation, so no response here shows it.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Admin, ServicesDep
from app.api.schemas.auth import TokenList, TokenRequest
from app.api.schemas.errors import JSON_BODY, WITH_ROLE, errors
from app.api.schemas.rules import Id, Name
from app.api.schemas.users import TeamCreate, TeamList, UserCreate, UserList, UserUpdate
from app.identity.records import NewToken, Team, Token, User

router = APIRouter(prefix="/v1/admin", tags=["admin: users"], responses=WITH_ROLE)


@router.get("/users")
def list_users(services: ServicesDep, _admin: Admin) -> UserList:
    return UserList(users=services.users.all())


@router.post("/users", status_code=201, responses=JSON_BODY | errors(404, 409))
def create_user(body: UserCreate, services: ServicesDep, admin: Admin) -> User:
    user = services.users.create(body.username, roles=body.roles, teams=body.teams,
                                 password=body.password, display_name=body.display_name)
    services.audit.record(admin.actor, "user_created", body.username, roles=user.roles,
                          teams=user.teams, sign_in=user.password_set)
    return user


@router.get("/users/{username}", responses=errors(404, 422))
def get_user(username: Name, services: ServicesDep, _admin: Admin) -> User:
    return services.users.get(username)


@router.patch("/users/{username}", responses=JSON_BODY | errors(404))
def update_user(username: Name, body: UserUpdate, services: ServicesDep, admin: Admin) -> User:
    user = services.users.update(username, roles=body.roles, teams=body.teams,
                                 active=body.active, password=body.password,
                                 display_name=body.display_name)
    if body.active is False:
        services.identity.tokens.revoke_all(user.id)
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    services.audit.record(admin.actor, "user_changed", username, **changes,
                          credentials_reset=body.password is not None)
    return user


@router.get("/teams")
def list_teams(services: ServicesDep, _admin: Admin) -> TeamList:
    return TeamList(teams=services.users.teams())


@router.post("/teams", status_code=201, responses=JSON_BODY | errors(409))
def create_team(body: TeamCreate, services: ServicesDep, admin: Admin) -> Team:
    team = services.users.create_team(body.name)
    services.audit.record(admin.actor, "team_created", body.name)
    return team


@router.get("/users/{username}/tokens", responses=errors(404, 422))
def user_tokens(username: Name, services: ServicesDep, _admin: Admin) -> TokenList:
    user = services.users.get(username)
    return TokenList(tokens=services.identity.tokens.list(user.id))


@router.post("/users/{username}/tokens", status_code=201, responses=JSON_BODY | errors(404))
def create_user_token(username: Name, body: TokenRequest, services: ServicesDep,
                      admin: Admin) -> NewToken:
    """A token for a user or service account; the token is in this response only."""
    return services.identity.create_token(
        admin, username, name=body.name,
        expires_days=body.expires_days or services.settings.auth.token_days)


@router.delete("/tokens/{token_id}", responses=errors(404, 422))
def revoke_token(token_id: Id, services: ServicesDep, admin: Admin) -> Token:
    return services.identity.revoke_token(admin, token_id, own_only=False)
