"""Failures on a page are pages: a signed-out reader is sent to the sign-in form, a domain
error (not found, forbidden, busy) is shown in words with its status. The JSON API under
``/v1`` keeps its ``{"error": {...}}`` bodies: this wraps the API's handlers, it does not
replace them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from app.api.request_ids import request_id
from app.core.errors import VraagbaakError
from app.web.rendering import render
from app.web.security import API_PREFIXES
from app.web.session import SignInRequired

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


def install(app: FastAPI) -> None:
    """Call after ``app.api.errors.install``: page requests get HTML, the rest what they had."""

    async def sign_in(request: Request, exc: Exception) -> Response:
        return RedirectResponse(cast(SignInRequired, exc).location, status_code=303)

    app.add_exception_handler(SignInRequired, sign_in)
    for kind in (VraagbaakError, HTTPException, RequestValidationError):
        api_handler = cast(Handler, app.exception_handlers[kind])

        async def page_or_api(request: Request, exc: Exception,
                              api_handler: Handler = api_handler) -> Response:
            if not _is_page(request):
                return await api_handler(request, exc)
            if isinstance(exc, VraagbaakError):
                status, message = exc.status, exc.message
            elif isinstance(exc, HTTPException):
                status, message = exc.status_code, str(exc.detail)
            else:
                status, message = 422, "the form is incomplete or a value is not allowed"
            return render(request, "error.html", status_code=status, status=status,
                          message=message, request_id=request_id())

        app.add_exception_handler(kind, page_or_api)
