"""``/v1/pulse``: the NPS pulse for the caller: is it due, answer it, or dismiss it. Either
response closes this period's pulse (409 ``pulse_not_due`` when it is not due)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentUser, ServicesDep
from app.api.schemas.errors import JSON_BODY, SIGNED_IN, errors
from app.api.schemas.pulse import PulseAnswer
from app.pulse.records import PulseStatus

router = APIRouter(prefix="/v1/pulse", tags=["pulse"], responses=SIGNED_IN)


@router.get("")
def status(services: ServicesDep, user: CurrentUser) -> PulseStatus:
    """Whether the pulse is due for you now (changes nothing)."""
    return services.pulse.status(user)


@router.post("", responses=JSON_BODY | errors(409))
def answer(body: PulseAnswer, services: ServicesDep, user: CurrentUser) -> PulseStatus:
    """Give your score; you are not asked again this period."""
    return services.pulse.answer(user, body.score)


@router.post("/dismiss", responses=errors(409))
def dismiss(services: ServicesDep, user: CurrentUser) -> PulseStatus:
    """Decline to answer; you are not asked again this period."""
    return services.pulse.dismiss(user)
