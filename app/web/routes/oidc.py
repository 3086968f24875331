"""Single sign-on pages: ``/signin/oidc`` sends the browser to the OIDC provider with a fresh
flow (state, nonce, PKCE verifier) in a short-lived cookie; the provider sends it back to
``/signin/oidc/callback``, which finishes the sign-in (``app.identity.oidc``) and opens the
usual session. Both are 404 while ``settings.oidc`` is not configured.

The flow cookie is ``SameSite=Lax``: the provider's redirect back is a cross-site navigation,
which a Strict cookie would not survive. For the same reason the callback does not redirect
onwards: the session cookie is Strict, and a redirect that ends a chain begun at the provider
would arrive without it. It answers a page that moves on by itself (a meta refresh is a
navigation of our own page, so the cookie goes along), with a link for the reader.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.core.errors import NotFound, VraagbaakError
from app.identity.oidc import SingleSignOn
from app.identity.oidc_tokens import FLOW_SECONDS, Flow
from app.web.rendering import render
from app.web.routes.signin import set_session_cookies
from app.web.session import safe_next

router = APIRouter(include_in_schema=False)
FLOW_COOKIE = "vraagbaak_oidc_flow"
FLOW_PATH = "/signin/oidc"
Param = Annotated[str, Query(max_length=4096)]


def _sso(services: ServicesDep) -> SingleSignOn:
    if services.sso is None:
        raise NotFound("page not found", code="not_found")
    return services.sso


def _redirect_uri(request: Request, sso: SingleSignOn) -> str:
    return sso.settings.redirect_url or str(request.url_for("oidc_callback"))


def _refused(request: Request, sso: SingleSignOn, exc: VraagbaakError, next: str) -> Response:
    response = render(request, "signin/form.html", status_code=exc.status, failed=exc.code,
                      sso_name=sso.name, next=safe_next(next))
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


@router.get("/signin/oidc", response_model=None)
async def oidc_start(request: Request, services: ServicesDep, next: Param = "/") -> Response:
    sso = _sso(services)
    try:
        url, flow = await run_in_threadpool(sso.begin, _redirect_uri(request, sso),
                                            safe_next(next))
    except VraagbaakError as exc:
        return _refused(request, sso, exc, next)
    response = RedirectResponse(url, status_code=303)
    settings = services.settings
    response.set_cookie(FLOW_COOKIE, flow.cookie(), max_age=FLOW_SECONDS, path=FLOW_PATH,
                        httponly=True, samesite="lax",
                        secure=settings.auth.cookie_secure or settings.environment
                        == "production")
    return response


@router.get("/signin/oidc/callback", name="oidc_callback", response_model=None)
async def oidc_callback(request: Request, services: ServicesDep, code: Param = "",
                        state: Param = "", error: Param = "") -> Response:
    sso = _sso(services)
    flow = Flow.from_cookie(request.cookies.get(FLOW_COOKIE))
    client = request.client.host if request.client else ""
    try:
        signed_in, target = await run_in_threadpool(
            lambda: sso.complete(flow, state=state, code=code, error=error,
                                 redirect_uri=_redirect_uri(request, sso), client=client))
    except VraagbaakError as exc:
        return _refused(request, sso, exc, flow.next if flow else "/")
    response: HTMLResponse = render(request, "signin/continue.html", next=safe_next(target))
    set_session_cookies(response, services.settings, signed_in)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response
