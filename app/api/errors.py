"""Map every failure to ``{"error": {"code", "message"}}`` with a 4xx/5xx status (declared in
``/openapi.json`` as ``app.api.schemas.errors.ErrorBody``).

Validation messages name the field and the rule, never echo the input (a 20 kB question
should not come back in the error) and never include a stack trace or a server path. Errors of
the layers below the app (a missing model, an unusable folder, an unreadable snapshot) become
domain errors through ``app.core.errors.translate``, the one mapping the CLI uses too; only a
bug is a 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from app.api.request_ids import request_id
from app.core.errors import LOWER_LAYER_ERRORS, Busy, Unauthorized, VraagbaakError, translate

log = logging.getLogger("vraagbaak.api")
METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one error body; ``request_id`` names the request in the server log."""
    detail = {"code": code, "message": message}
    rid = request_id()
    if rid is not None:
        detail["request_id"] = rid
    return {"error": detail}


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method the path takes, asked of the router itself: Starlette's own 405 names
    only the first route it met, and FastAPI makes one route a method."""
    routes = request.app.router.routes
    return ", ".join(method for method in METHODS if any(
        route.matches({**request.scope, "method": method})[0] is Match.FULL
        for route in routes))


def install(app: FastAPI) -> None:
    @app.exception_handler(VraagbaakError)
    async def domain_error(_request: Request, exc: VraagbaakError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
        if isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}
        return error_response(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON")
        parts = []
        for e in errors[:3]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else str(e.get("msg")))
        return error_response(422, "invalid_request", "; ".join(parts))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return error_response(exc.status_code, code, str(exc.detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error; see the server log")

    async def lower_layer_error(request: Request, exc: Exception) -> JSONResponse:
        domain = translate(exc)
        if domain is None:  # LOWER_LAYER_ERRORS are exactly what translate maps
            return await unexpected(request, exc)
        # the detail (a model path, say) is for the operator's log, not for the caller
        log.warning("%s: %s (%s)", domain.code, exc, type(exc).__name__)
        return await domain_error(request, domain)

    for kind in LOWER_LAYER_ERRORS:
        app.add_exception_handler(kind, lower_layer_error)
