"""Domain errors. Services raise these; the HTTP layer maps them in one handler and the CLI
prints their message as one line. Messages are written for the person who sent the request:
they never carry a stack trace or a server path.

    VraagbaakError (500, internal)
    ├── InvalidInput (422)
    ├── NotFound (404)
    ├── Conflict (409)
    ├── Busy (503 + Retry-After)
    └── Unavailable (503)
"""

from __future__ import annotations


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


class Busy(VraagbaakError):
    status = 503
    code = "busy"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(VraagbaakError):
    status = 503
    code = "unavailable"
