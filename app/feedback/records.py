"""The feedback vocabulary (votes, reason chips, outcomes) and what the feature hands across
its boundary: ``GivenFeedback`` inbound (checked by the service, whoever calls), ``Feedback``
outbound (the API's response model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import BaseModel, Field

from app.core.errors import InvalidInput
from app.review.records import Timestamp

Vote = Literal["up", "down"]
Reason = Literal["wrong_facts", "incomplete", "outdated_source", "wrong_citation",
                 "should_have_refused", "refused_but_documented"]
"""Why an answer was voted down: the chips of the ask page."""
Outcome = Literal["solved", "needs_person"]
"""``solved``: self-service; ``needs_person``: the asker still needs someone."""

VOTES: tuple[Vote, ...] = get_args(Vote)
REASONS: tuple[Reason, ...] = get_args(Reason)
HandoffState = Literal["queued", "retrying", "delivered", "failed"]
"""Where a hand-off stands, as its asker sees it: ``queued`` (not tried yet), ``retrying``
(an attempt failed, another follows), ``delivered``, ``failed`` (every attempt failed)."""

OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
COMMENT_MAX = 2000


@dataclass(frozen=True)
class GivenFeedback:
    """What a person says about an answer. A vote, an outcome or both; reasons only with a
    thumbs-down. Plain strings, so a form or a command line can pass what it was given."""

    vote: str | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    comment: str = ""
    outcome: str | None = None

    def check(self) -> None:
        if self.vote is None and self.outcome is None:
            raise InvalidInput("give a vote (up or down), an outcome, or both",
                               code="empty_feedback")
        if self.vote is not None and self.vote not in VOTES:
            raise InvalidInput("vote is up or down", code="invalid_vote")
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise InvalidInput(f"outcome is one of {', '.join(OUTCOMES)}",
                               code="invalid_outcome")
        unknown = [r for r in self.reasons if r not in REASONS]
        if unknown:
            raise InvalidInput(f"reasons are {', '.join(REASONS)}", code="invalid_reason")
        if self.reasons and self.vote != "down":
            raise InvalidInput("reasons go with a thumbs-down only", code="reasons_need_down")
        if len(self.comment) > COMMENT_MAX:
            raise InvalidInput(f"comment is at most {COMMENT_MAX} characters",
                               code="comment_too_long")

    def normalised(self) -> GivenFeedback:
        """Reasons once each, in the vocabulary's order; the comment without outer space."""
        return GivenFeedback(vote=self.vote,
                             reasons=tuple(r for r in REASONS if r in self.reasons),
                             comment=self.comment.strip(), outcome=self.outcome)


class Handoff(BaseModel):
    """An answer handed to the ticketing system, as the person who handed it off sees it
    (not the receiver's URL nor its errors: those are the admin's, in the audit log)."""

    handoff_id: str
    answer_id: str
    state: HandoffState
    attempts: int = Field(description="Attempts made so far.")
    created_at: Timestamp
    delivered_at: Timestamp | None = Field(description="Null until delivered.")
    next_attempt_at: Timestamp | None = Field(description="When it is tried again; null "
                                              "unless queued or retrying.")
    ticket: str = Field(description="The ticket reference the receiver replied with "
                        "(its JSON ``ticket_id``); empty if none.")


class Feedback(BaseModel):
    """One person's feedback on one answer, as stored."""

    answer_id: str
    vote: Vote | None = Field(description="Null when only an outcome was given.")
    reasons: list[Reason] = Field(description="Why it was voted down; empty otherwise.")
    comment: str
    outcome: Outcome | None = Field(description="solved (self-service), needs_person, or "
                                    "null if not said.")
    created_at: Timestamp
    updated_at: Timestamp = Field(description="The last change.")
    handoffs: list[Handoff] = Field(
        default_factory=list, description="Where \"I still need a person\" handed this "
        "answer off to the service desk (one per ticketing receiver); empty if it was not.")
