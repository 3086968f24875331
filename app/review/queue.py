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
from collections.abc import Callable
from collections.abc import Collection as Names
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz.distance import Levenshtein
from sqlalchemy import ColumnElement, Text, and_, cast, false, func, or_, select
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
from app.review.views import Usernames, age_since, eval_case, queue_item, reviewer_view
from app.review.vocabulary import Action, State
from app.review.webhooks import WebhookSender


class ReviewQueue:
    """The reviewer's side of the drafts: the queue, the transitions of the diagram above,
    and the test cases made from reviewed drafts."""

    def __init__(self, sessions: sessionmaker[Session], drafts: DraftService, audit: AuditLog,
                 webhooks: WebhookSender, *, claim_minutes: float,
                 observe: Callable[[str, str, Principal, Rating], None] | None = None) -> None:
        self._sessions = sessions
        # sees every rejection: (draft id, answer id, reviewer, rating); e.g. knowledge issues
        self._observe = observe
        self._drafts = drafts
        self._audit = audit
        self._webhooks = webhooks
        self._claim = timedelta(minutes=claim_minutes)

    # -- reading -------------------------------------------------------------------------
    def queue(self, reviewer: Principal, *, readable: Names[str],
              where: QueueFilter = QueueFilter()) -> ReviewQueuePage:
        """Drafts the reviewer may see (every collection readable), oldest first, with the
        age of the oldest pending draft: the queue's SLA figure.

        Visibility, filters, counts and the page all run in SQL. A draft's collections (and
        its author's teams) are a JSON list; thousands of drafts share a handful of distinct
        lists, so the lists are read once (``SELECT DISTINCT``), judged here, and the drafts
        picked by the texts of the lists that pass."""
        now = utcnow()
        allowed = frozenset(readable)
        with self._sessions() as session:
            lists = _distinct_lists(session, COLLECTIONS_TEXT)
            seen = [text for text, names in lists.items() if names <= allowed]
            if not seen:
                return ReviewQueuePage(drafts=[], total=0, counts={},
                                       oldest_pending_age_s=None)
            visible = COLLECTIONS_TEXT.in_(seen)
            # counts and the SLA figure describe the whole queue the reviewer may see,
            # whatever the filters below pick out of it
            counts: dict[State, int] = {state: n for state, n in session.execute(
                select(DraftRow.state, func.count()).where(visible).group_by(DraftRow.state))}
            oldest = session.scalar(select(func.min(DraftRow.submitted_at))
                                    .where(visible, DraftRow.state == "pending"))
            picked = [visible, *self._filters(session, where, lists, now)]
            total = session.scalar(select(func.count()).select_from(DraftRow)
                                   .where(*picked)) or 0
            order = (DraftRow.submitted_at.desc(), DraftRow.id.desc()) if where.newest_first \
                else (DraftRow.submitted_at, DraftRow.id)
            # the page's ids from the index first, then only those drafts with their texts
            ids = session.scalars(select(DraftRow.id).where(*picked).order_by(*order)
                                  .limit(where.limit)).all()
            loaded = {d.id: d for d in session.scalars(
                select(DraftRow).where(DraftRow.id.in_(ids)))} if ids else {}
            page = [loaded[i] for i in ids]
            people: set[int | None] = {d.author_id for d in page}
            names = self._usernames(session, people | {d.assignee_id for d in page})
        return ReviewQueuePage(
            drafts=[queue_item(d, names, now) for d in page], total=total, counts=counts,
            oldest_pending_age_s=None if oldest is None
            else round(age_since(oldest, now), 1))

    def _filters(self, session: Session, where: QueueFilter, lists: dict[str, frozenset[str]],
                 now: datetime) -> list[ColumnElement[bool]]:
        """The reviewer's filters as SQL conditions; ``lists`` are the distinct collection
        lists."""
        picked: list[ColumnElement[bool]] = []
        if where.state:
            picked.append(DraftRow.state == where.state)
        if where.assignee:  # a lapsed claim is nobody's
            holder = session.scalar(select(User.id).where(User.username == where.assignee))
            picked += [false()] if holder is None else [
                DraftRow.assignee_id == holder, DraftRow.state == "in_review",
                DraftRow.claim_expires_at >= now]
        if where.collection:
            picked.append(COLLECTIONS_TEXT.in_(
                [text for text, names in lists.items() if where.collection in names]))
        if where.team:
            picked.append(TEAMS_TEXT.in_(
                [text for text, names in _distinct_lists(session, TEAMS_TEXT).items()
                 if where.team in names]))
        if where.min_age_s is not None:
            picked.append(DraftRow.submitted_at <= now - timedelta(seconds=where.min_age_s))
        return picked

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
        if text is not None and not text.strip():  # what the request says: 422
            raise InvalidInput("write the reply before approving it", code="empty_text")
        final = draft.text if text is None else text
        if not final.strip():  # what the draft holds: its state, 409
            raise Conflict("the draft's reply is empty: write it before approving it",
                           code="empty_text")
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
        if self._observe is not None:
            self._observe(draft.id, draft.answer_id, reviewer, rating)
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


# the JSON lists as the text they are stored as (a PostgreSQL ``json`` value has no equality,
# its text has; both databases keep the text as it was written)
COLLECTIONS_TEXT = cast(DraftRow.collections, Text)
TEAMS_TEXT = cast(DraftRow.author_teams, Text)


def _distinct_lists(session: Session, column: ColumnElement[str]) -> dict[str, frozenset[str]]:
    """Each distinct stored JSON list of names: its text and its names."""
    texts = session.scalars(select(column).distinct()).all()
    return {text: frozenset(json.loads(text)) for text in texts if text is not None}
