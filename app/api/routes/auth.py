"""Sign-in for the web pages, and the caller's own account and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import SESSION_COOKIE, CurrentUser, Readable, ServicesDep
from app.api.schemas.auth import LoginRequest, TokenList, TokenRequest
from app.api.schemas.errors import JSON_BODY, SIGNED_IN, errors
from app.api.schemas.rules import Id
from app.identity.records import Me, NewToken, SignIn, Token

router = APIRouter(prefix="/v1", tags=["auth"])


@router.post("/auth/login", responses=JSON_BODY | errors(401, 429))
async def login(body: LoginRequest, request: Request, response: Response,
                services: ServicesDep) -> SignIn:
    """Password sign-in: sets an HttpOnly session cookie and returns the CSRF token that
    state-changing requests made with the cookie must send as ``X-CSRF-Token``."""
    client = request.client.host if request.client else ""
    signed_in = await run_in_threadpool(
        services.identity.login, body.username, body.password, client=client)
    settings = services.settings
    response.set_cookie(
        SESSION_COOKIE, signed_in.session_secret.get_secret_value(), httponly=True,
        samesite="strict", path="/",
        secure=settings.auth.cookie_secure or settings.environment == "production",
        max_age=int(settings.auth.session_hours * 3600))
    return signed_in


@router.post("/auth/logout", status_code=204, responses=SIGNED_IN)
def logout(response: Response, services: ServicesDep, user: CurrentUser) -> Response:
    services.identity.logout(user)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", responses=SIGNED_IN)
def me(user: CurrentUser, readable: Readable) -> Me:
    """Who the caller is, how they signed in, and which collections they may read."""
    return Me.of(user, readable)


@router.get("/me/tokens", responses=SIGNED_IN)
def my_tokens(services: ServicesDep, user: CurrentUser) -> TokenList:
    assert user.user_id is not None
    return TokenList(tokens=services.identity.tokens.list(user.user_id))


@router.post("/me/tokens", status_code=201, responses=SIGNED_IN | JSON_BODY)
def create_my_token(body: TokenRequest, services: ServicesDep, user: CurrentUser) -> NewToken:
    """A new personal API token. The token is in this response only; it is stored hashed."""
    return services.identity.create_token(
        user, user.username, name=body.name,
        expires_days=body.expires_days or services.settings.auth.token_days)


@router.delete("/me/tokens/{token_id}", responses=SIGNED_IN | errors(404, 422))
def revoke_my_token(token_id: Id, services: ServicesDep, user: CurrentUser) -> Token:
    return services.identity.revoke_token(user, token_id, own_only=True)
