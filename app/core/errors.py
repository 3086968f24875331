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
