"""Feedback from the ask page: thumbs up, thumbs down with reason chips and a comment, and
"Solved" / "I still need a person", as plain form posts (no script needed).

A vote and an outcome are separate buttons on the page but one record in the service: each
post keeps what the other part said before, so voting does not erase "Solved" and the other
way round. After the post the reader lands back where they were, on the answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse

from app.answering.records import AnswerDetail
from app.api.deps import ServicesDep
from app.core.errors import NotFound
from app.core.principal import Principal
from app.feedback.records import COMMENT_MAX, Feedback, GivenFeedback, Reason
from app.web.rendering import N_
from app.web.session import FormUser, safe_next, with_role
from app.wiring import Services

router = APIRouter(include_in_schema=False)

# the chips' labels, in the vocabulary's order (English msgids, translated in the template)
REASON_LABELS: dict[Reason, str] = {
    "wrong_facts": N_("Wrong facts"),
    "incomplete": N_("Incomplete"),
    "outdated_source": N_("Outdated source"),
    "wrong_citation": N_("Wrong citation"),
    "should_have_refused": N_("Should have refused"),
    "refused_but_documented": N_("Refused, but the documents have it"),
}


def feedback_context(services: Services, user: Principal,
                     answers: list[AnswerDetail]) -> dict[str, Any]:
    """What ``ask/feedback.html`` needs beside the answer: the reader's feedback on each of
    the page's answers (already checked visible: they are on the page) and the chip labels."""
    mine = services.feedback.mine_on([a.answer_id for a in answers], user)
    return {"feedback": mine, "reason_labels": REASON_LABELS}


def _previous(services: Services, user: Principal, answer_id: str,
              readable: frozenset[str]) -> Feedback | None:
    try:
        return services.feedback.mine(answer_id, user, readable=readable)
    except NotFound as exc:
        if exc.code == "feedback_not_found":
            return None
        raise


@router.post("/ask/answers/{answer_id}/feedback")
def give_feedback(
    answer_id: str, services: ServicesDep, user: FormUser,
    vote: Annotated[str, Form(max_length=8)] = "",
    reasons: Annotated[list[str] | None, Form()] = None,
    comment: Annotated[str, Form(max_length=COMMENT_MAX)] = "",
    outcome: Annotated[str, Form(max_length=16)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    agent = with_role(user, "agent")
    readable = services.access.readable(agent)
    before = _previous(services, agent, answer_id, readable)
    if vote:  # the vote form: its own reasons and comment, the outcome as it was
        given = GivenFeedback(vote=vote, reasons=tuple(reasons or ()), comment=comment,
                              outcome=before.outcome if before else None)
    else:  # the outcome buttons: the vote, reasons and comment as they were
        given = GivenFeedback(vote=before.vote if before else None,
                              reasons=tuple(before.reasons) if before else (),
                              comment=before.comment if before else "",
                              outcome=outcome or None)
    services.feedback.give(answer_id, agent, given, readable=readable)
    target = safe_next(back) if back else f"/ask/answers/{answer_id}"
    return RedirectResponse(f"{target}#answer-{answer_id}", status_code=303)
