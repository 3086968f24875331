"""The admin's pages for people: users (create, edit, disable in one click), teams, and
the tokens of any user.

Same service calls and audit entries as the JSON routes; see ``app.web.routes.admin``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.core.errors import InvalidInput, NotFound, VraagbaakError
from app.core.principal import Principal
from app.identity.tables import ROLES
from app.web.rendering import render
from app.web.routes.admin import (
    Names,
    Text,
    admin_only,
    see_other,
)
from app.web.session import FormUser, PageUser
from app.wiring import Services

router = APIRouter(include_in_schema=False)


# -- users, teams and tokens -------------------------------------------------------------------

def _users_page(request: Request, services: Services, user: Principal, *,
                status_code: int = 200, error: str = "", team_error: str = "",
                form: dict[str, Any] | None = None) -> HTMLResponse:
    return render(request, "admin/users.html", user=user, status_code=status_code,
                  users=services.users.all(), teams=services.users.teams(), roles=ROLES,
                  error=error, team_error=team_error,
                  form=form or {"roles": ["agent"], "teams": []})


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, services: ServicesDep, user: PageUser) -> HTMLResponse:
    return _users_page(request, services, admin_only(user))


def _create_user(services: Services, admin: Principal, username: str, roles: list[str],
                 teams: list[str], password: str | None, display_name: str) -> None:
    created = services.users.create(username, roles=roles, teams=teams, password=password,
                                    display_name=display_name)
    services.audit.record(admin.actor, "user_created", username, roles=created.roles,
                          teams=created.teams, sign_in=created.password_set)


@router.post("/admin/users", response_model=None)
async def create_user(request: Request, services: ServicesDep, user: FormUser,
                      username: Annotated[str, Form(max_length=64)],
                      display_name: Text = "",
                      password: Annotated[str, Form(max_length=1024)] = "",
                      roles: Names = None,
                      teams: Names = None) -> HTMLResponse | RedirectResponse:
    admin = admin_only(user)
    try:
        await run_in_threadpool(_create_user, services, admin, username, roles or [],
                                teams or [], password or None, display_name)
    except VraagbaakError as exc:
        form = {"username": username, "display_name": display_name, "roles": roles or [],
                "teams": teams or []}
        return _users_page(request, services, admin, status_code=exc.status,
                           error=exc.message, form=form)
    return see_other("/admin/users")


def _set_active(services: Services, admin: Principal, username: str, active: bool) -> None:
    """As ``PATCH /v1/admin/users/{username}`` with ``active``: disabling revokes every
    token of the user."""
    changed = services.users.update(username, active=active)
    if not active:
        services.identity.tokens.revoke_all(changed.id)
    services.audit.record(admin.actor, "user_changed", username, active=active,
                          credentials_reset=False)


@router.post("/admin/users/{username}/active")
async def set_active(username: str, services: ServicesDep, user: FormUser,
                     active: Annotated[bool, Form()],
                     back: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    await run_in_threadpool(_set_active, services, admin_only(user), username, active)
    return see_other(f"/admin/users/{quote(username, safe='')}" if back == "user"
                      else "/admin/users")


def _user_page(request: Request, services: Services, admin: Principal, username: str, *,
               status_code: int = 200, error: str = "", new_token: str = "") -> HTMLResponse:
    shown = services.users.get(username)
    return render(request, "admin/user.html", user=admin, status_code=status_code,
                  shown=shown, tokens=services.identity.tokens.list(shown.id), roles=ROLES,
                  teams=[t.name for t in services.users.teams()], error=error,
                  new_token=new_token)


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(username: str, request: Request, services: ServicesDep,
              user: PageUser) -> HTMLResponse:
    return _user_page(request, services, admin_only(user), username)


def _update_user(services: Services, admin: Principal, username: str, roles: list[str],
                 teams: list[str], display_name: str) -> None:
    services.users.update(username, roles=roles, teams=teams, display_name=display_name)
    services.audit.record(admin.actor, "user_changed", username, roles=roles, teams=teams,
                          display_name=display_name, credentials_reset=False)


@router.post("/admin/users/{username}", response_model=None)
async def update_user(username: str, request: Request, services: ServicesDep, user: FormUser,
                      display_name: Text = "", roles: Names = None,
                      teams: Names = None) -> HTMLResponse | RedirectResponse:
    admin = admin_only(user)
    try:
        await run_in_threadpool(_update_user, services, admin, username, roles or [],
                                teams or [], display_name)
    except (InvalidInput, NotFound) as exc:
        services.users.get(username)  # an unknown user is a 404 page, not a form error
        return _user_page(request, services, admin, username, status_code=exc.status,
                          error=exc.message)
    return see_other(f"/admin/users/{quote(username, safe='')}")


@router.post("/admin/users/{username}/tokens", response_class=HTMLResponse)
async def create_user_token(username: str, request: Request, services: ServicesDep,
                            user: FormUser, name: Annotated[str, Form(max_length=100)] = "",
                            ) -> HTMLResponse:
    admin = admin_only(user)
    try:
        created = await run_in_threadpool(
            services.identity.create_token, admin, username, name=name,
            expires_days=services.settings.auth.token_days)
    except VraagbaakError as exc:
        services.users.get(username)
        return _user_page(request, services, admin, username, status_code=exc.status,
                          error=exc.message)
    return _user_page(request, services, admin, username, new_token=created.token)


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(token_id: str, services: ServicesDep, user: FormUser,
                       username: Annotated[str, Form(max_length=64)]) -> RedirectResponse:
    await run_in_threadpool(services.identity.revoke_token, admin_only(user), token_id,
                            own_only=False)
    return see_other(f"/admin/users/{quote(username, safe='')}")


def _create_team(services: Services, admin: Principal, name: str) -> None:
    services.users.create_team(name)
    services.audit.record(admin.actor, "team_created", name)


@router.post("/admin/teams", response_model=None)
async def create_team(request: Request, services: ServicesDep, user: FormUser,
                      name: Annotated[str, Form(max_length=64)],
                      ) -> HTMLResponse | RedirectResponse:
    admin = admin_only(user)
    try:
        await run_in_threadpool(_create_team, services, admin, name)
    except VraagbaakError as exc:
        return _users_page(request, services, admin, status_code=exc.status,
                           team_error=exc.message)
    return see_other("/admin/users#teams")


