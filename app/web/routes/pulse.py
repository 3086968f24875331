"""The NPS pulse on the ask page: a 0-10 radio group with a send button and a "No, thanks",
as plain form posts (no script needed), shown beside the question box, never in its way.

``pulse_context`` is what the ask page adds to its template: showing the pulse is what
records the ask (``PulseService.show``), so an open pulse stays on the page until it is
answered or dismissed, and after either the reader lands back where they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from app.api.deps import ServicesDep
from app.core.errors import Conflict, InvalidInput
from app.core.principal import Principal
from app.pulse.records import SCORE_MAX, SCORE_MIN
from app.web.session import FormUser, safe_next
from app.wiring import Services

router = APIRouter(include_in_schema=False)


def pulse_context(request: Request, services: Services, user: Principal) -> dict[str, Any]:
    """``pulse``: the open pulse for the reader (recorded as asked now), or None."""
    status = services.pulse.show(user)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return {"pulse": status if status.due else None, "pulse_back": here,
            "pulse_scores": range(SCORE_MIN, SCORE_MAX + 1),
            "pulse_days": services.settings.pulse.period_days}


@contextmanager
def _answered_elsewhere() -> Iterator[None]:
    """A pulse already answered (in another tab, or a second click) is no error to show:
    the reader just goes back, and the page no longer asks."""
    try:
        yield
    except Conflict as exc:
        if exc.code != "pulse_not_due":
            raise


def _back(back: str) -> RedirectResponse:
    return RedirectResponse(safe_next(back) if back else "/ask", status_code=303)


@router.post("/ask/pulse")
def answer_pulse(services: ServicesDep, user: FormUser,
                 score: Annotated[str, Form(max_length=2)] = "",
                 back: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    if not score.isdigit():
        raise InvalidInput(f"pick a score from {SCORE_MIN} to {SCORE_MAX}",
                           code="invalid_score")
    with _answered_elsewhere():
        services.pulse.answer(user, int(score))
    return _back(back)


@router.post("/ask/pulse/dismiss")
def dismiss_pulse(services: ServicesDep, user: FormUser,
                  back: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    with _answered_elsewhere():
        services.pulse.dismiss(user)
    return _back(back)
