"""Who is reading a page: the sign-in session cookie, checked on every request.

A page request without a valid session is sent to the sign-in form (303, with where it wanted
to go). A form post must carry the session's CSRF token in the ``csrf_token`` field; the
identity service checks it against the session's stored hash, exactly as it checks the
``X-CSRF-Token`` header of the JSON API.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.api.deps import SESSION_COOKIE, ServicesDep
from app.core.errors import NotFound, VraagbaakError
from app.core.principal import Principal


class SignInRequired(Exception):
    """Raised by a page dependency; the web error handler turns it into a redirect."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.location = "/signin" + (f"?next={quote(next_path)}" if next_path != "/" else "")


async def page_user(request: Request, services: ServicesDep) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SignInRequired(request.url.path)
    try:
        return await run_in_threadpool(services.identity.from_session, cookie, csrf=None,
                                       changes_state=False)
    except VraagbaakError:
        raise SignInRequired(request.url.path) from None


PageUser = Annotated[Principal, Depends(page_user)]


async def form_user(request: Request, services: ServicesDep) -> Principal:
    """The signed-in user of a form post, with its CSRF token checked."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SignInRequired("/")
    form = await request.form()
    csrf = form.get("csrf_token")
    return await run_in_threadpool(services.identity.from_session, cookie,
                                   csrf=csrf if isinstance(csrf, str) else None,
                                   changes_state=True)


FormUser = Annotated[Principal, Depends(form_user)]


def safe_next(target: str | None) -> str:
    """Only a path on this site: ``//evil.example`` or ``https://...`` becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def with_role(user: Principal, role: str) -> Principal:
    """``user`` if they have ``role``; otherwise the page does not exist for them (404)."""
    if not user.has(role):
        raise NotFound("page not found", code="not_found")
    return user
