"""Time every HTTP request and count it by route template, method and status.

The route label is the template the request matched (``/v1/answers/{answer_id}``), never the
raw path, so a scan of random URLs adds one series (``unmatched``), not one per URL. The time
runs until the last byte of the response: a streamed answer counts until its stream ends.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import Metrics


def route_of(scope: Scope) -> str:
    """The matched route's template; the routers write the route into the (shared) scope."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope["path"].startswith("/static/"):
        return "/static"
    return "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = getattr(scope.get("app"), "state", None)
        metrics: Metrics | None = getattr(getattr(services, "services", None), "metrics", None)
        if scope["type"] != "http" or metrics is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before it answers

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            metrics.observe_request(route_of(scope), scope["method"], status,
                                    time.perf_counter() - started)
