"""``/v1/answers/{answer_id}/feedback``: your vote, reasons, comment and outcome on an answer
you may see (anyone else's answer: 404, as for an unknown id)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import CurrentUser, Readable, ServicesDep
from app.api.schemas.errors import JSON_BODY, SIGNED_IN, errors
from app.api.schemas.feedback import FeedbackRequest
from app.api.schemas.rules import Id
from app.feedback.records import Feedback, GivenFeedback

router = APIRouter(prefix="/v1/answers", tags=["feedback"], responses=SIGNED_IN)


@router.put("/{answer_id}/feedback", responses=JSON_BODY | errors(404))
def give(answer_id: Id, body: FeedbackRequest, services: ServicesDep, user: CurrentUser,
         readable: Readable) -> Feedback:
    """Give or change your feedback: one per person per answer, the last one stands."""
    given = GivenFeedback(vote=body.vote, reasons=tuple(body.reasons), comment=body.comment,
                          outcome=body.outcome)
    return services.feedback.give(answer_id, user, given, readable=readable)


@router.get("/{answer_id}/feedback", responses=errors(404, 422))
def mine(answer_id: Id, services: ServicesDep, user: CurrentUser,
         readable: Readable) -> Feedback:
    """Your feedback on the answer (404 ``feedback_not_found`` if you gave none)."""
    return services.feedback.mine(answer_id, user, readable=readable)


@router.delete("/{answer_id}/feedback", status_code=204, responses=errors(404, 422))
def withdraw(answer_id: Id, services: ServicesDep, user: CurrentUser,
             readable: Readable) -> Response:
    services.feedback.withdraw(answer_id, user, readable=readable)
    return Response(status_code=204)
