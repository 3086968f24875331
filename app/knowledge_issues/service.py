"""Knowledge issues: reports about answers become the owners' to-do list, and their
resolution goes back to whoever reported.

    thumbs-down / rejected draft / disputed refusal ──report──> open issue (grouped)
        ──re-index changes a cited document──> linked ──owner resolves──> resolved
        ──> a notification for every reporter, with "ask again"

A report is made by an observer of the feedback service (``feedback_given``) and of the
review queue (``draft_rejected``); ``reindexed`` is called after every successful re-index.
Who may see an issue: its routed owners (``app.knowledge_issues.owners``) and admins, and only
while they read every collection its answers drew on; anyone else gets the 404 of an unknown
id. Every step is audited.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Collection as Names
from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.answering.records import AnswerDetail
from app.answering.tables import Answer
from app.audit.log import AuditLog
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.core.settings import KnowledgeIssueSettings
from app.core.tables import utcnow
from app.core.transitions import conditional_update
from app.feedback.records import Feedback
from app.identity.tables import User
from app.knowledge.tables import Collection, Document
from app.knowledge_issues.grouping import embed_question, matching_issue
from app.knowledge_issues.owners import OwnerService, Ownership, Viewer, route
from app.knowledge_issues.records import (
    REASON_MAX,
    RESOLUTIONS,
    STATES,
    CitedDocument,
    Issue,
    IssueReport,
    LinkedReindex,
    MyReport,
    ReportKind,
    Resolution,
)
from app.knowledge_issues.tables import IssueDocument, IssueLink, KnowledgeIssue
from app.knowledge_issues.tables import KnowledgeIssueReport as ReportRow
from app.notifications.service import NotificationService
from app.review.records import Rating
from models.pool import EmbedderPool

LIST_LIMIT = 200
# the most recent issues of the reader's collections that routing looks through for a list
# (routing by folder is decided here, not in SQL)
SCAN_LIMIT = 5000
log = logging.getLogger(__name__)
T = TypeVar("T", ReportRow, IssueDocument, IssueLink)


class KnowledgeIssueService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog,
                 embedders: EmbedderPool, owners: OwnerService,
                 notifications: NotificationService, settings: KnowledgeIssueSettings) -> None:
        self._sessions = sessions
        self._audit = audit
        self._embedders = embedders
        self._owners = owners
        self._notifications = notifications
        self._settings = settings

    # -- reports (the observers) -----------------------------------------------------------
    def feedback_given(self, answer: AnswerDetail, giver: Principal, feedback: Feedback) -> None:
        """The feedback service's observer: a thumbs-down reports the answer; on a refused
        answer with ``refused_but_documented`` it is a disputed refusal. A vote changed
        away from down takes the giver's report back while its issue is open."""
        if feedback.vote != "down":
            self._withdraw(answer.answer_id, giver)
            return
        kind: ReportKind = ("refusal_disputed" if answer.refused
                            and "refused_but_documented" in feedback.reasons else "thumbs_down")
        self.report(answer.answer_id, giver, kind, reasons=list(feedback.reasons),
                    comment=feedback.comment)

    def feedback_withdrawn(self, answer: AnswerDetail, giver: Principal) -> None:
        """The feedback service's observer of a withdrawal: as a vote changed away from down."""
        self._withdraw(answer.answer_id, giver)

    def draft_rejected(self, draft_id: str, answer_id: str, reviewer: Principal,
                       rating: Rating) -> None:
        """The review queue's observer: a rejected draft reports its answer, with the
        rejection's reason and comment."""
        self.report(answer_id, reviewer, "draft_rejected",
                    reasons=[rating.reason] if rating.reason else [], comment=rating.comment,
                    draft_id=draft_id)

    def report(self, answer_id: str, reporter: Principal, kind: ReportKind, *,
               reasons: list[str], comment: str = "", draft_id: str | None = None
               ) -> str | None:
        """File a report on a stored answer: join a similar open issue or open a new one.
        The same person's repeated report of one answer (a changed vote) updates theirs.
        Returns the issue id; None for an answer that drew on no collection."""
        for attempt in range(2):
            try:
                return self._report(answer_id, reporter, kind, reasons, comment, draft_id)
            except IntegrityError:  # the same person's other request filed it first
                if attempt:
                    raise
        return None  # pragma: no cover (the loop returns or raises)

    def _report(self, answer_id: str, reporter: Principal, kind: ReportKind,
                reasons: list[str], comment: str, draft_id: str | None) -> str | None:
        with self._sessions() as session:
            answer = session.get(Answer, answer_id)
            if answer is None:
                raise NotFound("answer not found", code="answer_not_found")
            earlier = session.scalars(select(ReportRow).where(
                ReportRow.answer_id == answer_id, ReportRow.user_id == reporter.user_id,
                ReportRow.kind == kind)).first()
            if earlier is not None:
                earlier.reasons, earlier.comment = reasons, comment
                issue_id = earlier.issue_id
                session.commit()
                self._audit.record(reporter.actor, "knowledge_report_changed", issue_id,
                                   answer_id=answer_id, kind=kind, reasons=reasons,
                                   comment_chars=len(comment))
                return issue_id
            cited = _cited(answer.citations)
            collection = next(iter(cited), None) or next(iter(answer.collections or []), None)
            if collection is None:
                return None
            vector = embed_question(session, self._embedders, collection, answer.question)
            chunk_ids = {c for chunks in cited.get(collection, {}).values() for c in chunks}
            issue = matching_issue(session, collection, vector, chunk_ids,
                                   threshold=self._settings.group_threshold,
                                   candidates=self._settings.group_candidates)
            now = utcnow()
            created = issue is None
            if issue is None:
                first = next(iter(cited.get(collection, {})), "")
                issue = KnowledgeIssue(id=uuid.uuid4().hex, collection=collection,
                                       collections=[], document=first, answer_id=answer_id,
                                       question_vector=vector.to_bytes(),
                                       embedding_model=vector.model, state="open", reports=0,
                                       created_at=now)
                session.add(issue)
            issue.reports = (issue.reports or 0) + 1
            issue.last_reported_at = now
            issue.collections = sorted(set(issue.collections or []) | set(answer.collections))
            session.add(ReportRow(issue_id=issue.id, answer_id=answer_id,
                                  user_id=reporter.user_id, kind=kind, reasons=reasons,
                                  comment=comment, draft_id=draft_id, created_at=now))
            session.flush()
            self._cite(session, issue.id, cited)
            session.commit()
            issue_id, reports = issue.id, issue.reports
        self._audit.record(reporter.actor, "knowledge_issue_opened" if created
                           else "knowledge_issue_reported", issue_id, answer_id=answer_id,
                           kind=kind, reasons=reasons, comment_chars=len(comment),
                           reports=reports, collection=collection)
        return issue_id

    def _withdraw(self, answer_id: str, giver: Principal) -> None:
        """Take back the giver's thumbs-down reports on the answer from open issues; an
        issue left without reports goes (nobody says anything is wrong any more)."""
        with self._sessions() as session:
            rows = session.execute(
                select(ReportRow, KnowledgeIssue)
                .join(KnowledgeIssue, KnowledgeIssue.id == ReportRow.issue_id)
                .where(ReportRow.answer_id == answer_id, ReportRow.user_id == giver.user_id,
                       ReportRow.kind.in_(("thumbs_down", "refusal_disputed")),
                       KnowledgeIssue.state == "open")).all()
            if not rows:
                return
            for report, issue in rows:
                session.delete(report)
                issue.reports = max((issue.reports or 1) - 1, 0)
                if issue.reports == 0:
                    for table in (IssueDocument, IssueLink):
                        session.execute(delete(table).where(table.issue_id == issue.id))
                    session.delete(issue)
            session.commit()
            withdrawn = [(issue.id, issue.reports) for _report, issue in rows]
        for issue_id, left in withdrawn:
            self._audit.record(giver.actor, "knowledge_report_withdrawn", issue_id,
                               answer_id=answer_id, reports=left)

    @staticmethod
    def _cite(session: Session, issue_id: str, cited: dict[str, dict[str, list[str]]]) -> None:
        """Add the answer's cited documents to the issue, with the sha256 they have now."""
        if not cited:
            return
        known = {d.document_id: d for d in session.scalars(
            select(IssueDocument).where(IssueDocument.issue_id == issue_id))}
        for collection, documents in cited.items():
            rows = session.execute(
                select(Document.id, Document.path, Document.sha256)
                .join(Collection, Collection.id == Document.collection_id)
                .where(Collection.name == collection, Document.path.in_(list(documents))))
            for doc_id, path, sha in rows:
                chunks = documents[path]
                if doc_id in known:
                    have = known[doc_id]
                    have.chunk_ids = sorted(set(have.chunk_ids) | set(chunks))
                else:
                    session.add(IssueDocument(issue_id=issue_id, document_id=doc_id,
                                              collection=collection, path=path, sha256=sha,
                                              chunk_ids=sorted(set(chunks))))

    # -- re-indexes ----------------------------------------------------------------------
    def reindexed(self, job_id: str, collection: str, actor: str) -> None:
        """Link a successful re-index of ``collection`` to the open issues whose cited
        documents it changed or removed. The job runner
        calls it before the job reads as succeeded; a failure here is logged, never the
        job's (the next re-index links what this one missed)."""
        try:
            self._link(job_id, collection, actor)
        except Exception:
            log.exception("linking re-index %s to knowledge issues failed", job_id)

    def _link(self, job_id: str, collection: str, actor: str) -> int:
        """The links made (how many)."""
        with self._sessions() as session:
            cited = session.execute(
                select(IssueDocument).join(KnowledgeIssue,
                                           KnowledgeIssue.id == IssueDocument.issue_id)
                .where(IssueDocument.collection == collection, KnowledgeIssue.state == "open")
            ).scalars().all()
            if not cited:
                return 0
            # by path, not id: a sync may store a changed file as a new row, and SQLite may
            # give a removed document's id to another file
            by_path = dict(session.execute(
                select(Document.path, Document.sha256)
                .join(Collection, Collection.id == Document.collection_id)
                .where(Collection.name == collection,
                       Document.path.in_({d.path for d in cited}))).all())
            linked = {(link.issue_id, link.document_id, link.sha256) for link in
                      session.scalars(select(IssueLink).where(
                          IssueLink.issue_id.in_({d.issue_id for d in cited})))}
            made: dict[str, list[str]] = defaultdict(list)
            for doc in cited:
                sha = by_path.get(doc.path)
                if sha == doc.sha256 or (doc.issue_id, doc.document_id, sha or "") in linked:
                    continue
                session.add(IssueLink(issue_id=doc.issue_id, job_id=job_id,
                                      document_id=doc.document_id, path=doc.path,
                                      change="removed" if sha is None else "changed",
                                      sha256=sha or ""))
                made[doc.issue_id].append(doc.path)
            session.commit()
        for issue_id, paths in made.items():
            self._audit.record(actor, "knowledge_issue_linked", issue_id, job_id=job_id,
                               collection=collection, documents=sorted(paths))
        return sum(len(p) for p in made.values())

    # -- reading -------------------------------------------------------------------------
    def listing(self, viewer: Principal, *, readable: Names[str], state: str = "open"
             ) -> list[Issue]:
        """The issues routed to ``viewer`` (every issue for an admin) in ``state``, the most
        recently reported first (at most 200)."""
        if state not in STATES:
            raise InvalidInput(f"state is one of {', '.join(STATES)}", code="invalid_state")
        who = self._owners.viewer(viewer)
        owned = self._owners.collections_owned_by(viewer)
        if not owned:
            return []
        with self._sessions() as session:
            rows = session.scalars(
                select(KnowledgeIssue).where(KnowledgeIssue.state == state,
                                             KnowledgeIssue.collection.in_(sorted(owned)))
                .order_by(KnowledgeIssue.last_reported_at.desc(), KnowledgeIssue.id)
                .limit(SCAN_LIMIT)).all()
            routes = self._routes(session, rows)
            shown = [r for r in rows if self._may_see(r, who, routes[r.id], readable)]
            return self._views(session, shown[:LIST_LIMIT], routes)

    def get(self, issue_id: str, viewer: Principal, *, readable: Names[str]) -> Issue:
        with self._sessions() as session:
            row, routes = self._visible(session, issue_id, viewer, readable)
            return self._views(session, [row], routes)[0]

    def my_reports(self, reporter: Principal, *, readable: Names[str]) -> list[MyReport]:
        """The reports ``reporter`` gave that became issues, newest first, while they read
        the issue's collections."""
        if reporter.user_id is None:
            return []
        allowed = set(readable)
        with self._sessions() as session:
            rows = session.execute(
                select(ReportRow, KnowledgeIssue, Answer.question)
                .join(KnowledgeIssue, KnowledgeIssue.id == ReportRow.issue_id)
                .outerjoin(Answer, Answer.id == ReportRow.answer_id)
                .where(ReportRow.user_id == reporter.user_id)
                .order_by(ReportRow.created_at.desc(), ReportRow.id.desc()).limit(LIST_LIMIT))
            return [MyReport(issue_id=issue.id, kind=rep.kind, answer_id=rep.answer_id,
                             question=question or "", reasons=list(rep.reasons),
                             comment=rep.comment, created_at=rep.created_at,
                             state=issue.state, resolution=issue.resolution,
                             resolution_reason=issue.resolution_reason,
                             resolved_at=issue.resolved_at)
                    for rep, issue, question in rows if set(issue.collections) <= allowed]

    # -- resolving -----------------------------------------------------------------------
    def resolve(self, issue_id: str, viewer: Principal, resolution: str, reason: str, *,
                readable: Names[str]) -> Issue:
        """Resolve an open issue (its owner or an admin): what was done and why. Everyone
        who reported it, but the resolver, is notified in the same transaction."""
        if resolution not in RESOLUTIONS:
            raise InvalidInput(f"resolution is one of {', '.join(RESOLUTIONS)}",
                               code="invalid_resolution")
        reason = reason.strip()
        if not reason:
            raise InvalidInput("say what was done, or why the answer stands",
                               code="reason_required")
        if len(reason) > REASON_MAX:
            raise InvalidInput(f"the reason is at most {REASON_MAX} characters",
                               code="reason_too_long")
        with self._sessions() as session:
            row, _routes = self._visible(session, issue_id, viewer, readable)
            done = conditional_update(
                session, KnowledgeIssue, KnowledgeIssue.id == issue_id,
                KnowledgeIssue.state == "open", state="resolved", resolution=resolution,
                resolution_reason=reason, resolved_by=viewer.actor, resolved_at=utcnow())
            if not done:
                session.rollback()
                raise Conflict("this issue is already resolved", code="already_resolved")
            links = session.scalars(select(IssueLink).where(IssueLink.issue_id == issue_id)
                                    .order_by(IssueLink.linked_at)).all()
            details = {"resolution": resolution, "reason": reason,
                       "resolved_by": viewer.actor,
                       "reindexes": [{"job_id": link.job_id, "document": link.path,
                                      "change": link.change} for link in links]}
            reporters: dict[int, str | None] = {}
            for rep in session.scalars(select(ReportRow).where(ReportRow.issue_id == issue_id)
                                       .order_by(ReportRow.created_at)):
                if rep.user_id is not None and rep.user_id != viewer.user_id:
                    reporters.setdefault(rep.user_id, rep.answer_id)
            for user_id, answer_id in reporters.items():
                self._notifications.add(session, user_id, "issue_resolved",
                                        collections=list(row.collections), details=details,
                                        issue_id=issue_id, answer_id=answer_id)
            session.commit()
        self._notifications.sent()
        self._audit.record(viewer.actor, "knowledge_issue_resolved", issue_id,
                           resolution=resolution, reason_chars=len(reason),
                           reindexes=len(links), notified=len(reporters))
        return self.get(issue_id, viewer, readable=readable)

    # -- helpers -------------------------------------------------------------------------
    def _visible(self, session: Session, issue_id: str, viewer: Principal,
                 readable: Names[str]) -> tuple[KnowledgeIssue, dict[str, list[Ownership]]]:
        row = session.get(KnowledgeIssue, issue_id)
        routes = self._routes(session, [row]) if row is not None else {}
        if row is None or not self._may_see(row, self._owners.viewer(viewer), routes[row.id],
                                            readable):
            raise NotFound("knowledge issue not found", code="issue_not_found")
        return row, routes

    @staticmethod
    def _may_see(row: KnowledgeIssue, who: Viewer, routed: list[Ownership],
                 readable: Names[str]) -> bool:
        return set(row.collections) <= set(readable) and (who.admin or who.owns(routed))

    def _routes(self, session: Session, rows: Sequence[KnowledgeIssue]
                ) -> dict[str, list[Ownership]]:
        owners = self._owners.ownerships(session, {r.collection for r in rows})
        return {r.id: route(owners[r.collection], r.document) for r in rows}

    def _views(self, session: Session, rows: Sequence[KnowledgeIssue],
               routes: dict[str, list[Ownership]]) -> list[Issue]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        answers = {a.id: a for a in session.scalars(select(Answer).where(
            Answer.id.in_([r.answer_id for r in rows if r.answer_id])))}
        reports = _by_issue(session.scalars(select(ReportRow).where(
            ReportRow.issue_id.in_(ids)).order_by(ReportRow.created_at, ReportRow.id)))
        documents = _by_issue(session.scalars(select(IssueDocument).where(
            IssueDocument.issue_id.in_(ids)).order_by(IssueDocument.path)))
        links = _by_issue(session.scalars(select(IssueLink).where(
            IssueLink.issue_id.in_(ids)).order_by(IssueLink.linked_at, IssueLink.path)))
        people = {r.user_id for rs in reports.values() for r in rs if r.user_id is not None}
        names = dict(session.execute(select(User.id, User.username).where(
            User.id.in_(people))).all()) if people else {}
        out = []
        for row in rows:
            answer = answers.get(row.answer_id or "")
            out.append(Issue(
                issue_id=row.id, collection=row.collection, collections=list(row.collections),
                document=row.document, state=row.state,
                question=answer.question if answer else "",
                answer=answer.answer if answer else "",
                refused=bool(answer.refused) if answer else False, reports=row.reports,
                owners=[o.label for o in routes[row.id]], unowned=not routes[row.id],
                created_at=row.created_at, last_reported_at=row.last_reported_at,
                resolution=row.resolution, resolution_reason=row.resolution_reason,
                resolved_by=row.resolved_by, resolved_at=row.resolved_at,
                documents=[CitedDocument(document_id=d.document_id, collection=d.collection,
                                         path=d.path, sha256=d.sha256,
                                         chunk_ids=list(d.chunk_ids))
                           for d in documents.get(row.id, [])],
                report_list=[IssueReport(kind=r.kind, reporter=names.get(r.user_id or -1, ""),
                                         answer_id=r.answer_id, draft_id=r.draft_id,
                                         reasons=list(r.reasons), comment=r.comment,
                                         created_at=r.created_at)
                             for r in reports.get(row.id, [])],
                reindexes=[LinkedReindex(job_id=link.job_id, document=link.path,
                                         change=link.change, linked_at=link.linked_at)
                           for link in links.get(row.id, [])]))
        return out


def _cited(citations: Iterable[dict[str, object]]) -> dict[str, dict[str, list[str]]]:
    """The answer's citations as collection -> document path -> chunk ids, in citation
    order (the first is the document the issue is routed by)."""
    out: dict[str, dict[str, list[str]]] = {}
    for c in citations:
        coll, doc, chunk = str(c.get("collection", "")), str(c.get("document", "")), \
            str(c.get("chunk_id", ""))
        if coll and doc:
            out.setdefault(coll, {}).setdefault(doc, []).append(chunk)
    return out


def _by_issue(rows: Iterable[T]) -> dict[str, list[T]]:
    out: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        out[row.issue_id].append(row)
    return out


__all__ = ["KnowledgeIssueService", "Resolution"]
