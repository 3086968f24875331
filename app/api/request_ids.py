"""A request id for every HTTP request: taken from the load balancer's ``X-Request-ID`` when it
sent a sane one, made up otherwise; echoed in the response header, put in every error body
(``error.request_id``) and on every log line written while the request runs. A person who
reports "I got an error" can then quote the id and the operator finds the log lines.

The id lives in a context variable: the exception handlers, the streaming generators and the
log filter run in the request's context and read it; nothing passes it around by hand.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
# what a proxy may hand us: short, no spaces or control characters (it goes into log lines)
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")

current: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id() -> str | None:
    """The id of the request being served, or None outside one."""
    return current.get()


class RequestIds:
    """Outermost middleware: every response, even one another middleware made, carries the
    id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER.encode(), b"").decode("latin-1")
        rid = given if _SANE.match(given) else uuid.uuid4().hex
        token = current.set(rid)

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != HEADER.encode()]
                message["headers"] = [*headers, (HEADER.encode(), rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, with_header)
        finally:
            current.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record ("-" outside a request), for any formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get() or "-"
        return True
