"""Shared dependencies as ``Annotated`` aliases.

``current_user`` is the one dependency that resolves who is calling: an API token in
``Authorization: Bearer``, or the sign-in session cookie (which must echo its CSRF token in
``X-CSRF-Token`` to change anything). It hands the raw credential to the identity service and
gets a ``Principal`` back, so another sign-in method (OIDC) changes that service, not the routes.

``Readable`` is computed from the database on every request: a revoked grant is obeyed by the
next request. Routes pass it to retrieval, which requires it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.core.errors import Forbidden, Unauthorized
from app.core.principal import Principal
from app.identity.tables import Role
from app.wiring import Services

SESSION_COOKIE = "vraagbaak_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="A personal API token (vbk_...).")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                       description="The session cookie set by POST /v1/auth/login.")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_user(
    request: Request,
    services: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    identity = services.identity
    if bearer is not None:
        return await run_in_threadpool(identity.from_token, bearer.credentials)
    if cookie:
        return await run_in_threadpool(
            identity.from_session, cookie, csrf=request.headers.get(CSRF_HEADER),
            changes_state=request.method not in SAFE_METHODS)
    raise Unauthorized("sign in or send an API token (Authorization: Bearer vbk_...)")


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through callers holding ``role`` (admins hold every role)."""

    def check(user: CurrentUser) -> Principal:
        if not user.has(role):
            raise Forbidden(f"this needs the {role} role", code="missing_role")
        return user

    return check


Agent = Annotated[Principal, Depends(require("agent"))]
Admin = Annotated[Principal, Depends(require("admin"))]


def readable_collections(services: ServicesDep, user: CurrentUser) -> frozenset[str]:
    return services.access.readable(user)


Readable = Annotated[frozenset[str], Depends(readable_collections)]


def chat_quota(services: ServicesDep, user: Agent) -> Principal:
    """Count one question against the caller's credential (429 + Retry-After when over)."""
    services.limits.hit("chat", user.credential_id or user.actor)
    return user


Asker = Annotated[Principal, Depends(chat_quota)]
