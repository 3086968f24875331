"""The review queue: claim, edit, approve, reject or ask for changes, with ratings.

    pending ──claim──> in_review ──approve──> approved
       ^                  │ │ └───reject──> rejected
       │    release/      │ └──request changes──> changes_requested ──resubmit (author)──┐
       └──claim lapses────┘                                                            │
       └───────────────────────────────────────────────────────────────────────────────┘

Every transition is one conditional ``UPDATE drafts ... WHERE state IN (...) AND <holder>``,
issued as the first statement of its transaction: on PostgreSQL the second of two racing
updates waits for the first's row lock and then no longer matches; on SQLite the write lock
serialises them the same way. Zero rows updated means someone else won (409) and the message
says why. Only the holder of a live claim (or an admin) may edit or decide.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection as Names
from datetime import timedelta
from typing import Any

from rapidfuzz.distance import Levenshtein
from sqlalchemy import ColumnElement, Text, and_, or_, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.answering.tables import Answer as AnswerRow
from app.audit.log import AuditLog
from app.core.errors import Conflict, Forbidden, InvalidInput
from app.core.principal import Principal
from app.core.tables import utcnow
from app.core.transitions import conditional_update
from app.identity.tables import User
from app.review.drafts import DraftService
from app.review.records import Draft, EvalCandidate, ReviewQueuePage
from app.review.records import QueueFilter as QueueFilter  # re-exported: queue() takes one
from app.review.records import Rating as Rating  # re-exported: the decisions take one
from app.review.tables import Draft as DraftRow
from app.review.tables import DraftEvent as EventRow
from app.review.tables import EvalCandidate as CandidateRow
from app.review.views import Usernames, age, eval_case, live_claim, queue_item, reviewer_view
from app.review.vocabulary import Action, State
from app.review.webhooks import WebhookSender


class ReviewQueue:
    """The reviewer's side of the drafts: the queue, the transitions of the diagram above,
    and the test cases made from reviewed drafts."""

    def __init__(self, sessions: sessionmaker[Session], drafts: DraftService, audit: AuditLog,
                 webhooks: WebhookSender, *, claim_minutes: float) -> None:
        self._sessions = sessions
        self._drafts = drafts
        self._audit = audit
        self._webhooks = webhooks
        self._claim = timedelta(minutes=claim_minutes)

    # -- reading -------------------------------------------------------------------------
    def queue(self, reviewer: Principal, *, readable: Names[str],
              where: QueueFilter = QueueFilter()) -> ReviewQueuePage:
        """Drafts the reviewer may see (every collection readable), oldest first, with the
        age of the oldest pending draft: the queue's SLA figure.

        Counting and filtering read only the small columns of every draft; whole rows (with
        their texts) are loaded for the page that is returned."""
        now = utcnow()
        with self._sessions() as session:
            rows = session.execute(select(*QUEUE_COLUMNS).order_by(DraftRow.submitted_at)).all()
            names_in = JsonNames()
            allowed = frozenset(readable)
            visible = [d for d in rows if names_in(d.collections) <= allowed]
            names = self._usernames(session, {d.assignee_id for d in visible})
            # counts and the SLA figure describe the whole queue the reviewer may see,
            # whatever the filters below pick out of it
            counts: dict[State, int] = {}
            for d in visible:
                counts[d.state] = counts.get(d.state, 0) + 1
            pending = [age(d, now) for d in visible if d.state == "pending"]
            if where.state:
                visible = [d for d in visible if d.state == where.state]
            if where.assignee:
                visible = [d for d in visible if live_claim(d, now)
                           and names.get(d.assignee_id) == where.assignee]
            if where.collection:
                visible = [d for d in visible if where.collection in names_in(d.collections)]
            if where.team:
                visible = [d for d in visible if where.team in names_in(d.author_teams)]
            if where.min_age_s is not None:
                visible = [d for d in visible if age(d, now) >= where.min_age_s]
            if where.newest_first:
                visible.reverse()
            page_ids = [d.id for d in visible[:where.limit]]
            loaded = {d.id: d for d in session.scalars(
                select(DraftRow).where(DraftRow.id.in_(page_ids)))} if page_ids else {}
            page = [loaded[i] for i in page_ids if i in loaded]
            names |= self._usernames(session, {d.author_id for d in page})
        return ReviewQueuePage(
            drafts=[queue_item(d, names, now) for d in page], total=len(visible),
            counts=counts, oldest_pending_age_s=round(max(pending), 1) if pending else None)

    def get(self, draft_id: str, reviewer: Principal, *, readable: Names[str]) -> Draft:
        """Everything a reviewer needs: the draft, its evidence and its history."""
        draft = self._visible(draft_id, reviewer, readable)
        with self._sessions() as session:
            answer = session.get(AnswerRow, draft.answer_id)
            events = session.scalars(select(EventRow).where(EventRow.draft_id == draft_id)
                                     .order_by(EventRow.id)).all()
            names = self._usernames(session, {draft.assignee_id, draft.decided_by,
                                               draft.author_id})
        return reviewer_view(draft, answer, events, self._webhooks.deliveries(draft_id), names,
                             utcnow())

    # -- transitions ---------------------------------------------------------------------
    def claim(self, draft_id: str, reviewer: Principal, *, readable: Names[str]) -> Draft:
        draft = self._reviewable(draft_id, reviewer, readable)
        now = utcnow()
        takeable = or_(DraftRow.state == "pending",
                       and_(DraftRow.state == "in_review",
                            or_(DraftRow.claim_expires_at < now,
                                DraftRow.assignee_id == reviewer.user_id)))
        self._transition(draft, reviewer, "claim", takeable, "in_review", {
            "assignee_id": reviewer.user_id, "claim_expires_at": now + self._claim,
            "first_claimed_at": draft.first_claimed_at or now})
        return self.get(draft_id, reviewer, readable=readable)

    def release(self, draft_id: str, reviewer: Principal, *, readable: Names[str]) -> Draft:
        draft = self._visible(draft_id, reviewer, readable)
        self._transition(draft, reviewer, "release", self._held_by(reviewer), "pending",
                         {"assignee_id": None, "claim_expires_at": None})
        return self.get(draft_id, reviewer, readable=readable)

    def edit(self, draft_id: str, reviewer: Principal, text: str, *, readable: Names[str]
             ) -> Draft:
        if not text.strip():
            raise InvalidInput("the reply text is empty", code="empty_text")
        draft = self._reviewable(draft_id, reviewer, readable)
        self._transition(draft, reviewer, "edit", self._held_by(reviewer), "in_review",
                         {"text": text})
        return self.get(draft_id, reviewer, readable=readable)

    def approve(self, draft_id: str, reviewer: Principal, rating: Rating, *,
                readable: Names[str], text: str | None = None) -> Draft:
        rating.check(reject=False)
        draft = self._reviewable(draft_id, reviewer, readable)
        final = draft.text if text is None else text
        if not final.strip():
            raise InvalidInput("write the reply before approving it", code="empty_text")
        distance = Levenshtein.normalized_distance(draft.generated_text, final)
        payload = {"event": "draft.approved", "draft_id": draft.id,
                   "ticket_id": draft.ticket_id, "customer": draft.customer,
                   "final_text": final, "approved_by": reviewer.username,
                   "approved_at": utcnow().isoformat()}
        self._transition(draft, reviewer, "approve", self._held_by(reviewer), "approved",
                         self._decided(reviewer, rating) | {
                             "text": final, "final_text": final,
                             "edit_distance": round(distance, 4)},
                         webhook=payload, details={"edit_distance": round(distance, 4)})
        self._webhooks.notify()
        return self.get(draft_id, reviewer, readable=readable)

    def reject(self, draft_id: str, reviewer: Principal, rating: Rating, *,
               readable: Names[str]) -> Draft:
        rating.check(reject=True)
        draft = self._reviewable(draft_id, reviewer, readable)
        self._transition(draft, reviewer, "reject", self._held_by(reviewer), "rejected",
                         self._decided(reviewer, rating), details={"reason": rating.reason})
        return self.get(draft_id, reviewer, readable=readable)

    def request_changes(self, draft_id: str, reviewer: Principal, comment: str, *,
                        readable: Names[str]) -> Draft:
        if not comment.strip():
            raise InvalidInput("say what should change", code="comment_required")
        draft = self._reviewable(draft_id, reviewer, readable)
        self._transition(draft, reviewer, "request_changes", self._held_by(reviewer),
                         "changes_requested", {"comment": comment, "assignee_id": None,
                                               "claim_expires_at": None}, note=comment)
        return self.get(draft_id, reviewer, readable=readable)

    # -- evaluation candidates -----------------------------------------------------------
    def make_candidate(self, draft_id: str, reviewer: Principal, *, readable: Names[str],
                       expected_documents: list[str] | None = None) -> EvalCandidate:
        """Turn a reviewed draft into a test case (the rules: ``views.eval_case``); one per
        draft."""
        draft = self._visible(draft_id, reviewer, readable)
        with self._sessions() as session:
            answer = session.get(AnswerRow, draft.answer_id)
            cited = sorted({c["document"] for c in (answer.citations if answer else [])})
            case = eval_case(draft, cited, expected_documents)
            session.add(CandidateRow(id=uuid.uuid4().hex, draft_id=draft_id,
                                     created_by=reviewer.actor,
                                     case=case.model_dump(exclude_none=True)))
            try:
                session.commit()  # the unique draft_id decides between two racing reviewers
            except IntegrityError:
                session.rollback()
                raise Conflict("this draft is already a test case",
                               code="candidate_exists") from None
        self._audit.record(reviewer.actor, "eval_candidate_created", draft_id, case_id=case.id)
        return case

    def candidates(self, *, readable: Names[str]) -> list[EvalCandidate]:
        """Every test case made from reviewed drafts on collections the caller reads."""
        with self._sessions() as session:
            rows = session.scalars(select(CandidateRow).order_by(CandidateRow.created_at))
            return [EvalCandidate.model_validate(c.case) for c in rows
                    if set(c.case["collections"]) <= set(readable)]

    # -- helpers -------------------------------------------------------------------------
    def _visible(self, draft_id: str, reviewer: Principal, readable: Names[str]) -> DraftRow:
        if not reviewer.has("reviewer"):
            raise Forbidden("this needs the reviewer role", code="missing_role")
        return self._drafts.load(draft_id, reviewer, readable=readable)

    def _reviewable(self, draft_id: str, reviewer: Principal, readable: Names[str]
                    ) -> DraftRow:
        """Four eyes: nobody but an admin reviews a draft they asked for themselves."""
        draft = self._visible(draft_id, reviewer, readable)
        if draft.author_id == reviewer.user_id and not reviewer.is_admin:
            raise Forbidden("you asked for this draft: another reviewer must review it",
                            code="own_draft")
        return draft

    def _held_by(self, reviewer: Principal) -> ColumnElement[bool]:
        """A live claim of ``reviewer``; an admin may act on any draft under review."""
        if reviewer.is_admin:
            return DraftRow.state == "in_review"
        return and_(DraftRow.state == "in_review", DraftRow.assignee_id == reviewer.user_id,
                    DraftRow.claim_expires_at >= utcnow())

    @staticmethod
    def _decided(reviewer: Principal, rating: Rating) -> dict[str, Any]:
        return {"decided_at": utcnow(), "decided_by": reviewer.user_id,
                "scores": dict(rating.scores), "reason": rating.reason,
                "comment": rating.comment, "claim_expires_at": None}

    def _transition(self, draft: DraftRow, actor: Principal, action: Action,
                    allowed: ColumnElement[bool], to_state: State, values: dict[str, Any], *,
                    note: str = "", webhook: dict[str, Any] | None = None,
                    details: dict[str, Any] | None = None) -> None:
        with self._sessions() as session:
            # the conditional UPDATE is the transaction's first statement (see module doc)
            done = conditional_update(session, DraftRow, DraftRow.id == draft.id, allowed,
                                      state=to_state, **values)
            if done:
                session.add(EventRow(draft_id=draft.id, actor=actor.actor, action=action,
                                     from_state=draft.state, to_state=to_state, note=note))
                if webhook is not None:
                    self._webhooks.enqueue(session, draft.id, webhook)
            session.commit()
        if not done:
            raise self._why_not(draft.id, actor, action)
        self._audit.record(actor.actor, f"draft_{action}", draft.id, from_state=draft.state,
                           to_state=to_state, **(details or {}))

    def _why_not(self, draft_id: str, actor: Principal, action: Action) -> Conflict:
        with self._sessions() as session:
            now = session.get(DraftRow, draft_id)
            assert now is not None
            holder = self._usernames(session, {now.assignee_id}).get(now.assignee_id)
        verb = action.replace("_", " ")
        state = now.state.replace("_", " ")
        if now.state == "in_review" and now.assignee_id != actor.user_id:
            expires = now.claim_expires_at.isoformat() if now.claim_expires_at else "?"
            return Conflict(f"cannot {verb}: {holder} holds this draft until {expires}",
                            code="claimed_by_other")
        if now.state == "in_review":
            return Conflict(f"cannot {verb}: your claim has lapsed; claim the draft again",
                            code="claim_expired")
        need = "a pending draft" if action == "claim" else "a draft you have claimed"
        return Conflict(f"cannot {verb}: the draft is {state}; only {need} can be "
                        f"{'claimed' if action == 'claim' else 'changed'}",
                        code="illegal_transition")

    @staticmethod
    def _usernames(session: Session, ids: set[int | None]) -> Usernames:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        return dict(session.execute(select(User.id, User.username)
                                    .where(User.id.in_(wanted))).all())


# what the queue filters and counts on; texts stay in the database until a page is shown
# the JSON lists come back as their text: a queue has thousands of drafts but a handful of
# distinct lists, and ``JsonNames`` decodes each distinct one once (decoding every row's two
# lists was most of the queue's time at 20k drafts)
QUEUE_COLUMNS = (DraftRow.id, DraftRow.state,
                 type_coerce(DraftRow.collections, Text).label("collections"),
                 type_coerce(DraftRow.author_teams, Text).label("author_teams"),
                 DraftRow.assignee_id, DraftRow.claim_expires_at, DraftRow.submitted_at)


class JsonNames:
    """A JSON list of names as a frozenset, decoded once per distinct text. (PostgreSQL's
    driver hands JSON back decoded already; then the list is used as it is.)"""

    def __init__(self) -> None:
        self._seen: dict[str, frozenset[str]] = {}

    def __call__(self, value: Any) -> frozenset[str]:
        if not isinstance(value, str):
            return frozenset(value or ())
        if value not in self._seen:
            self._seen[value] = frozenset(json.loads(value))
        return self._seen[value]
