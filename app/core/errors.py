"""Domain errors. Services raise these; the HTTP layer maps them in one handler and the CLI
prints their message as one line. Messages are written for the person who sent the request:
they never carry a stack trace or a server path.

    VraagbaakError (500, internal)
    ├── InvalidInput (422)
    ├── Unauthorized (401 + WWW-Authenticate): no, bad, expired or revoked credentials
    ├── Forbidden (403): signed in, but the role is missing
    ├── NotFound (404): also what a caller gets for a collection or answer it may not read
    ├── Conflict (409)
    ├── PayloadTooLarge (413)
    ├── Busy (503 + Retry-After): the LLM queue is full
    │   └── RateLimited (429 + Retry-After): this caller asked too often
    └── Unavailable (503)

The layers below the app (``models``, ``ingest``) raise their own exceptions; ``translate`` is
the one place that turns them into these, for the HTTP error handler, the CLI's error line and
the messages background jobs keep.
"""

from __future__ import annotations

from ingest.scanning import RootError
from ingest.snapshots import SnapshotError
from models.errors import ModelError

# what ``translate`` knows: the HTTP layer installs a handler for each
LOWER_LAYER_ERRORS: tuple[type[Exception], ...] = (ModelError, RootError, SnapshotError)


class VraagbaakError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(VraagbaakError):
    status = 422
    code = "invalid_input"


class NotFound(VraagbaakError):
    status = 404
    code = "not_found"


class Conflict(VraagbaakError):
    status = 409
    code = "conflict"


class Unauthorized(VraagbaakError):
    status = 401
    code = "unauthorized"


class Forbidden(VraagbaakError):
    status = 403
    code = "forbidden"


class PayloadTooLarge(VraagbaakError):
    status = 413
    code = "payload_too_large"


class Busy(VraagbaakError):
    status = 503
    code = "busy"

    def __init__(self, message: str, *, retry_after: int = 5, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class RateLimited(Busy):
    status = 429
    code = "rate_limited"


class Unavailable(VraagbaakError):
    status = 503
    code = "unavailable"


def translate(exc: BaseException, *, operator: bool = False) -> VraagbaakError | None:
    """The domain error for ``exc`` (itself if it is one), or None for a bug.

    A missing or failing model is 503 ``model_unavailable``: the request was fine, the server
    can't serve it now. Its message names the model only for the ``operator`` (the CLI, run on
    the server by whoever configured the model paths); an HTTP caller gets no server path.
    """
    if isinstance(exc, VraagbaakError):
        return exc
    if isinstance(exc, ModelError):
        return Unavailable(str(exc) if operator else "a model this request needs is not "
                           "available on the server; the server log says which",
                           code="model_unavailable")
    if isinstance(exc, RootError):  # its message names no path
        return InvalidInput(str(exc), code="invalid_folder")
    if isinstance(exc, SnapshotError):
        return Unavailable(str(exc), code="index_unavailable")
    return None

