"""Sign-in and sign-out, and ``/``: the sign-in form when signed out, else the reader's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import SESSION_COOKIE, ServicesDep
from app.core.errors import RateLimited, Unauthorized
from app.core.principal import Principal
from app.core.settings import Settings
from app.identity.records import SignIn
from app.web.i18n import LANG_COOKIE, LOCALES
from app.web.rendering import CSRF_COOKIE, render
from app.web.session import FormUser, PageUser, safe_next
from app.wiring import Services

router = APIRouter(include_in_schema=False)


def home_of(user: Principal) -> str:
    """The page a role starts on."""
    for role, page in (("agent", "/ask"), ("reviewer", "/review"), ("admin", "/admin"),
                       ("evaluator", "/eval")):
        if user.has(role):
            return page
    return "/account"


@router.get("/")
def home(user: PageUser) -> RedirectResponse:
    return RedirectResponse(home_of(user), status_code=303)


def sso_name(services: Services) -> str | None:
    """The provider the sign-in page offers a button for, if single sign-on is configured."""
    return services.sso.name if services.sso is not None else None


def set_session_cookies(response: Response, settings: Settings, signed_in: SignIn) -> None:
    """The session and CSRF cookies of a fresh sign-in (password or single sign-on)."""
    secure = settings.auth.cookie_secure or settings.environment == "production"
    max_age = int(settings.auth.session_hours * 3600)
    for name, value in ((SESSION_COOKIE, signed_in.session_secret.get_secret_value()),
                        (CSRF_COOKIE, signed_in.csrf_token)):
        response.set_cookie(name, value, httponly=True, samesite="strict", path="/",
                            secure=secure, max_age=max_age)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, services: ServicesDep, next: str = "/") -> HTMLResponse:
    return render(request, "signin/form.html", next=safe_next(next), sso_name=sso_name(services))


@router.post("/signin", response_model=None)
async def signin(request: Request, services: ServicesDep,
                 username: Annotated[str, Form(max_length=64)],
                 password: Annotated[str, Form(max_length=1024)],
                 next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    client = request.client.host if request.client else ""
    try:
        signed_in = await run_in_threadpool(services.identity.login, username, password,
                                            client=client)
    except (Unauthorized, RateLimited) as exc:
        status = 429 if isinstance(exc, RateLimited) else 401
        return render(request, "signin/form.html", status_code=status, next=safe_next(next),
                      username=username, failed=exc.code, sso_name=sso_name(services))
    target = safe_next(next)
    response = RedirectResponse(target if target != "/" else "/", status_code=303)
    set_session_cookies(response, services.settings, signed_in)
    return response


@router.post("/signout")
async def signout(services: ServicesDep, user: FormUser) -> RedirectResponse:
    await run_in_threadpool(services.identity.logout, user)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.post("/language")
async def language(request: Request,
                   lang: Annotated[str, Form(max_length=8)],
                   next: Annotated[str, Form(max_length=2000)] = "/") -> RedirectResponse:
    """The reader's own choice of language; it wins over the browser's."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LOCALES:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", path="/",
                            max_age=365 * 24 * 3600)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, services: ServicesDep, user: PageUser) -> HTMLResponse:
    assert user.user_id is not None
    tokens = services.identity.tokens.list(user.user_id)
    return render(request, "signin/account.html", user=user, tokens=tokens,
                  expires_at=services.identity.tokens.session_expiry(user.credential_id))


@router.post("/account/tokens", response_class=HTMLResponse)
async def create_token(request: Request, services: ServicesDep, user: FormUser) -> HTMLResponse:
    form = await request.form()
    name = str(form.get("name") or "")[:100]
    created = await run_in_threadpool(
        services.identity.create_token, user, user.username, name=name,
        expires_days=services.settings.auth.token_days)
    assert user.user_id is not None
    return render(request, "signin/account.html", user=user, new_token=created.token,
                  tokens=services.identity.tokens.list(user.user_id),
                  expires_at=services.identity.tokens.session_expiry(user.credential_id))


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(token_id: str, services: ServicesDep, user: FormUser) -> RedirectResponse:
    await run_in_threadpool(services.identity.revoke_token, user, token_id, own_only=True)
    return RedirectResponse("/account", status_code=303)
