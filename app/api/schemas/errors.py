"""The one error body of the API, ``{"error": {"code", "message"}}``, and the ``responses=``
entries that declare it, so ``/openapi.json`` lists every status a route can answer besides
its success (and a generated client, or schemathesis, can hold the server to it).

Which statuses a route declares follows from what it does: a credential (401), a role (403),
a JSON body (400 unparseable, 413 too large), any parameter or body (422), a thing looked up
by name or id (404), a state it can refuse (409), the LLM queue or a quota (503, 429; both
with ``Retry-After``). ``app.api.errors`` is where the bodies are made.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import Response


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable and machine-readable, e.g. collection_not_found.")
    message: str = Field(description="For people: names the field or the rule, never a stack "
                         "trace or a server path.")
    request_id: str | None = Field(None, description="The request's id (also its X-Request-ID "
                                   "header): the server log's lines for it carry the same id.")


class ErrorBody(BaseModel):
    """What every 4xx and 5xx answer of the API holds."""

    error: ErrorDetail


MEANINGS: dict[int, str] = {
    400: "The body is not valid JSON (code malformed_json) or cannot be read.",
    401: "No credential, one that is unknown, expired or revoked, or a session cookie "
         "without its X-CSRF-Token on a change (with WWW-Authenticate: Bearer).",
    403: "Signed in, without the role this needs (code missing_role), or not allowed this "
         "on this thing (reviewing your own draft, say).",
    404: "Not found, or not yours to see: the two look the same.",
    409: "Refused in the state the thing is in now (taken, exists, already running).",
    413: "The request body is larger than the server's auth.max_body_kb.",
    422: "A parameter or the body breaks a rule: the message names the field and the rule "
         "(code invalid_request), or the service's own check (its code says which).",
    429: "Over a rate limit; Retry-After says when to try again.",
    503: "Busy (the LLM queue is full; Retry-After says when to try again) or unavailable "
         "(a model or an index cannot be loaded now).",
}

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer"}}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "Bearer.",
                                         "schema": {"type": "string"}}}


def errors(*statuses: int, beside: type[Response] | None = None
           ) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries declaring ``ErrorBody`` for each of ``statuses``.

    ``beside``: the route's own ``response_class`` when its success is not JSON (an HTML
    page). FastAPI files a ``model`` under the route's media type, so these entries name the
    JSON and the schema themselves (``ErrorBody`` is a component: most routes use the model).
    """
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": MEANINGS[status]}
        if beside is not None and beside.media_type != "application/json":
            entry = {"description": MEANINGS[status], "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        if status in (429, 503):
            entry["headers"] = RETRY_AFTER
        elif status == 401:
            entry["headers"] = WWW_AUTHENTICATE
        declared[status] = entry
    return declared


# what most routes share: who may call, and what a request with a JSON body can get wrong
SIGNED_IN = errors(401)
WITH_ROLE = errors(401, 403)
JSON_BODY = errors(400, 413, 422)
PARAMETERS = errors(422)
