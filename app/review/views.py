"""How a draft's rows become the records of ``app.review.records``: the agent's view, the
queue row, the reviewer's full view and the test case made from a reviewed draft.

One place decides what each viewer gets, so the rule that matters most is kept once: the agent
never sees approved text before a reviewer approves it (``author_view``), and the queue never
names the holder of a claim that has lapsed (``queue_item``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.answering.tables import Answer as AnswerRow
from app.core.errors import Conflict, InvalidInput
from app.review.records import (
    AuthorDraft,
    Customer,
    Decision,
    Draft,
    DraftEvent,
    EvalCandidate,
    QueueItem,
    WebhookDeliveryOut,
)
from app.review.tables import Draft as DraftRow
from app.review.tables import DraftEvent as EventRow

Usernames = dict[int | None, str]  # user id -> username


def live_claim(d: DraftRow, now: datetime) -> bool:
    """Whether ``d`` is held by a claim that has not lapsed."""
    return d.state == "in_review" and d.claim_expires_at is not None and \
        d.claim_expires_at >= now


def age_since(moment: datetime, now: datetime) -> float:
    """Seconds from ``moment`` (a draft's last (re)submission) to ``now``."""
    return float((now - moment).total_seconds())


def author_view(d: DraftRow) -> AuthorDraft:
    """What the agent sees: the working text while under review, the approved text only
    once approved, and the reviewer's decision and comment."""
    approved = d.state == "approved"
    decided = d.decided_at is not None or d.state == "changes_requested"
    return AuthorDraft(
        draft_id=d.id, state=d.state, question=d.question, collections=d.collections,
        customer=Customer.model_validate(d.customer), tone=d.tone, refused=d.refused,
        # never the approved text before approval: while under review it is a draft
        draft_text=None if approved else d.text,
        approved_text=d.final_text if approved else None,
        decision=Decision(state=d.state, comment=d.comment, reason=d.reason,
                          decided_at=d.decided_at) if decided else None,
        created_at=d.created_at, submitted_at=d.submitted_at, answer_id=d.answer_id)


def queue_item(d: DraftRow, names: Usernames, now: datetime) -> QueueItem:
    """The draft as a row of the queue; ``names`` holds its author's and assignee's."""
    claim_live = live_claim(d, now)
    return QueueItem(
        draft_id=d.id, state=d.state, question=d.question[:200], collections=d.collections,
        ticket_id=d.ticket_id, author=names.get(d.author_id), teams=d.author_teams,
        assignee=names.get(d.assignee_id) if claim_live else None,
        claim_expires_at=d.claim_expires_at if claim_live else None,
        age_s=round(age_since(d.submitted_at, now), 1), prompt=d.prompt, model=d.model_id,
        refused=d.refused)


def reviewer_view(d: DraftRow, answer: AnswerRow | None, events: Sequence[EventRow],
                  webhooks: list[WebhookDeliveryOut], names: Usernames, now: datetime) -> Draft:
    """Everything a reviewer needs: the draft, the answer it came from (its evidence; absent
    if that record is gone), its history and its webhook deliveries."""
    evidence: dict[str, Any] = {} if answer is None else {
        "citations": answer.citations, "sentences": answer.sentences,
        "retrieved": answer.retrieved, "snapshot_ids": answer.snapshot_ids,
        "model_answer": answer.answer}
    # the full question of the agent's view replaces the queue row's shortened one
    views = dict(queue_item(d, names, now)) | dict(author_view(d))
    return Draft(
        **views, **evidence, generated_text=d.generated_text, text=d.text,
        final_text=d.final_text, edit_distance=d.edit_distance, scores=d.scores,
        decided_by=names.get(d.decided_by),
        events=[DraftEvent(at=e.at, actor=e.actor, action=e.action, from_state=e.from_state,
                           to_state=e.to_state, note=e.note) for e in events],
        webhooks=webhooks)


def eval_case(d: DraftRow, cited: list[str], expected_documents: list[str] | None
              ) -> EvalCandidate:
    """A reviewed draft as a test case in the question-set format.

    An approved draft expects the documents it cited (``cited``) and carries its approved text
    as the reference answer; a draft rejected as ``should_not_answer`` must be refused; any
    other rejection names what was wrong (``must_not``) and needs the reviewer to say which
    documents should have answered it (the cited ones were the wrong ones).
    """
    if d.state not in ("approved", "rejected"):
        raise Conflict(f"the draft is {d.state.replace('_', ' ')}: only an approved "
                       "or rejected draft can become a test case", code="not_reviewed")
    must_refuse = d.reason == "should_not_answer"
    expected = [] if must_refuse else (
        expected_documents if expected_documents is not None
        else cited if d.state == "approved" else [])
    if not must_refuse and not expected:
        raise InvalidInput("say which documents should answer this question "
                           "(expected_documents)", code="expected_documents_needed")
    approved = d.state == "approved"
    return EvalCandidate(
        id=f"review-{d.id[:12]}", question=d.question, collections=d.collections,
        expected_documents=sorted(expected), key_facts=[], must_refuse=must_refuse,
        tags=["from-review", d.state] + ([d.reason] if d.reason else []),
        reference_answer=d.final_text if approved else None,
        must_not=None if approved else [f"{d.reason}: {d.comment}".rstrip(": ")])
