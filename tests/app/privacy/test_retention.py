"""The retention job on a hand-made database with old and new rows, on SQLite and again on
PostgreSQL: old texts gone, new ones kept, the counts the figures read intact (anonymise), old
rows gone with what hangs off them (delete), a dry run changes nothing, a second run nothing
more, small batches the same as one, and the audit trail holds counts only."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.answering.tables import Answer, Conversation
from app.core.settings import PrivacySettings, Settings
from app.core.tables import utcnow
from app.feedback.tables import AnswerFeedback, HandoffDelivery
from app.privacy.registry import Retained
from app.privacy.retention import Retention, RetentionSchedule
from app.pulse.tables import NpsResponse
from app.review.tables import Draft, DraftEvent, EvalCandidate, WebhookAttempt, WebhookDelivery
from app.wiring import Services
from tests.app.privacy.seed import OLD_DAYS, Seeded, seed

TABLES: list[type[Any]] = [Answer, Conversation, AnswerFeedback, HandoffDelivery, Draft,
                           DraftEvent, WebhookDelivery, WebhookAttempt, EvalCandidate,
                           NpsResponse]


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    """Every test here on SQLite and again on PostgreSQL."""
    return db_settings


def retention(services: Services, **privacy: Any) -> Retention:
    return Retention(services.sessions, PrivacySettings(**privacy), services.audit)


def counts(services: Services) -> dict[str, int]:
    with services.sessions() as session:
        return {t.__tablename__: int(session.scalar(select(func.count()).select_from(t)) or 0)
                for t in TABLES}


def get(services: Services, table: type[Any], key: Any) -> Any:
    with services.sessions() as session:
        return session.get(table, key)


def everything(services: Services) -> str:
    """Every stored row of the tables with texts, as one text to search for secrets."""
    with services.sessions() as session:
        return json.dumps([{c.key: getattr(r, c.key) for c in t.__table__.columns}
                           for t in TABLES for r in session.scalars(select(t))], default=str)


def assert_anonymised(services: Services, s: Seeded) -> None:
    old = get(services, Answer, s.old_answer)
    assert (old.question, old.answer, old.generated) == ("", "", "")
    # the structure stays: documents cited (knowledge gaps), support flags, retrieval
    assert old.citations == [{"n": 1, "chunk_id": "c1", "collection": "kb",
                              "document": "vpn.md", "title": "VPN", "quote": ""}]
    assert old.sentences == [{"text": "", "supported": True, "citations": [1]}]
    assert old.retrieved[0]["chunk_id"] == "c1" and old.refused is False
    new = get(services, Answer, s.new_answer)
    assert new.question == f"secret question {s.new_answer}"
    assert new.citations[0]["quote"] == f"secret quote {s.new_answer}"
    kept = get(services, Answer, s.kept_answer)  # a pending draft reads it
    assert kept.question == f"secret question {s.kept_answer}"
    assert get(services, Conversation, s.old_conversation).title == ""
    assert get(services, Conversation, s.new_conversation).title == "new title"
    done = get(services, Draft, s.done_draft)
    assert (done.question, done.text, done.generated_text, done.final_text, done.comment) == (
        "", "", "", "", "")  # final_text stays not-null: it was approved
    assert done.customer == {"name": "", "language": "nl", "ticket_id": "T-1"}
    assert (done.state, done.edit_distance, done.ticket_id) == ("approved", 0.0, "T-1")
    rejected_new = get(services, Draft, s.new_draft)
    assert rejected_new.final_text is None and rejected_new.question.startswith("secret")
    assert get(services, Draft, s.open_draft).text == f"secret reply {s.open_draft}"
    assert get(services, WebhookDelivery, "old-delivery").payload == {}
    assert get(services, HandoffDelivery, "old-handoff").payload == {}
    with services.sessions() as session:
        notes = dict(session.execute(select(DraftEvent.draft_id, DraftEvent.note)).all())
        votes = sorted(session.execute(select(AnswerFeedback.vote, AnswerFeedback.comment,
                                              AnswerFeedback.outcome)).all(),
                       key=lambda r: str(r[0]))
    assert notes == {s.done_draft: "", s.open_draft: "open note"}
    assert votes == [("down", "", "solved"), ("up", "new comment", None)]
    stored = everything(services)
    for gone in ("secret old title", "secret old comment", "secret note", "secret final",
                 f"secret question {s.old_answer}", f"secret reply {s.done_draft}"):
        assert gone not in stored


def test_anonymise_blanks_old_texts_and_keeps_every_row_and_count(services: Services) -> None:
    s = seed(services)
    before = counts(services)
    report = retention(services).run()
    assert report.mode == "anonymise" and not report.dry_run
    assert report.rows == {"answers": 1, "answer_feedback": 1, "handoffs": 1,
                           "conversations": 1, "drafts": 1, "draft_events": 1,
                           "webhook_deliveries": 1}
    assert counts(services) == before  # the figures count rows: none went
    assert_anonymised(services, s)
    entry = services.audit.latest("retention_applied")
    assert entry is not None
    assert entry["details"]["rows"] == report.rows and entry["details"]["days"] == 365
    assert "secret" not in json.dumps(entry["details"])


def test_a_second_run_changes_nothing_and_is_not_audited_again(services: Services) -> None:
    seed(services)
    job = retention(services)
    job.run()
    first = services.audit.latest("retention_applied")
    again = job.run()
    assert again.rows == {}
    assert services.audit.latest("retention_applied") == first


def test_batches_of_one_row_do_what_one_batch_does(services: Services) -> None:
    s = seed(services)
    report = retention(services, retention_batch=1).run()
    assert sum(report.rows.values()) == 7
    assert_anonymised(services, s)


def test_a_dry_run_counts_and_changes_nothing(services: Services) -> None:
    seed(services)
    before, stored = counts(services), everything(services)
    for mode in ("anonymise", "delete"):
        report = retention(services, retention_mode=mode).run(dry_run=True)
        assert report.dry_run and report.rows["answers"] == 1
        assert report.rows["drafts"] == 1  # the approved one; the pending one waits
    assert counts(services) == before and everything(services) == stored
    assert services.audit.latest("retention_applied") is None


def test_delete_removes_old_rows_with_what_hangs_off_them(services: Services) -> None:
    s = seed(services)
    report = retention(services, retention_mode="delete").run()
    assert get(services, Answer, s.old_answer) is None
    assert get(services, Answer, s.new_answer) is not None
    assert get(services, Answer, s.kept_answer) is not None  # its draft is in review
    assert get(services, Draft, s.done_draft) is None
    assert get(services, Draft, s.open_draft) is not None
    assert get(services, Conversation, s.old_conversation) is None
    after = counts(services)
    assert after == {"answers": 2, "conversations": 1, "answer_feedback": 1, "handoffs": 0,
                     "drafts": 2, "draft_events": 1, "webhook_deliveries": 0,
                     "webhook_attempts": 0, "eval_candidates": 0, "nps_responses": 2}
    assert report.rows["answers"] == 1 and report.rows["webhook_attempts"] == 1
    assert report.rows["answer_feedback"] == 1 and report.rows["handoffs"] == 1
    assert "secret old comment" not in everything(services)
    assert retention(services, retention_mode="delete").run().rows == {}


def test_a_shorter_period_reaches_newer_rows(services: Services) -> None:
    s = seed(services)
    job = retention(services, question_days=1)
    assert job.run(now=job.cutoff() + timedelta(days=2)).rows["answers"] == 2
    assert get(services, Answer, s.new_answer).question == ""


def test_the_server_runs_it_on_a_schedule(services: Services) -> None:
    s = seed(services)
    settings = PrivacySettings(retention_every_hours=1)
    schedule = RetentionSchedule(retention(services), settings, first_after_s=0.05)
    schedule.start()
    try:
        deadline = time.monotonic() + 20
        while get(services, Answer, s.old_answer).question and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        schedule.stop()
    assert get(services, Answer, s.old_answer).question == ""
    off = RetentionSchedule(retention(services), PrivacySettings(retention_job=False))
    off.start()
    assert off._thread is None


def test_a_derived_cache_ages_with_its_answer_and_goes_in_either_mode(
        services: Services) -> None:
    """The registry's mechanism for a feature's cache of question embeddings, shown on a
    table at hand: rows aged by their answer's time, removed even when anonymising."""
    s = seed(services)
    with services.sessions() as session:
        session.add(HandoffDelivery(id="new-handoff", answer_id=s.new_answer,
                                    user_id=s.user_id, url="http://t.invalid", payload={},
                                    status="delivered"))
        session.commit()
    answered_at = (select(Answer.created_at).where(Answer.id == HandoffDelivery.answer_id)
                   .scalar_subquery())
    cache = Retained(HandoffDelivery, lambda: answered_at, derived=True)
    job = Retention(services.sessions, PrivacySettings(), services.audit, registry=[cache])
    assert job.run(dry_run=True).rows == {"handoffs": 1}
    assert job.run().rows == {"handoffs": 1}
    assert get(services, HandoffDelivery, "old-handoff") is None
    assert get(services, HandoffDelivery, "new-handoff") is not None


def test_report_comments_are_blanked_and_gap_vectors_go_with_their_answers(
        services: Services) -> None:
    """The knowledge features' entries of the registry: a report's comment is the reporter's
    own text (blanked, the report still counts), a gap question's embedding is derived from
    the question (removed in either mode)."""
    from app.knowledge_gaps.tables import QuestionVector
    from app.knowledge_issues.tables import KnowledgeIssue, KnowledgeIssueReport

    s = seed(services)
    old = get(services, Answer, s.old_answer).created_at
    with services.sessions() as session:
        session.add(KnowledgeIssue(id="issue-1", collection="kb", answer_id=s.new_answer))
        for n, (answer_id, at) in enumerate([(s.old_answer, old), (s.new_answer, None)]):
            session.add(KnowledgeIssueReport(issue_id="issue-1", answer_id=answer_id,
                                             user_id=s.user_id, kind="thumbs_down",
                                             comment=f"secret comment {n}",
                                             **({"created_at": at} if at else {})))
            session.add(QuestionVector(answer_id=answer_id, model_id="m", text_hash="h",
                                       vector=b"\0" * 16))
        session.commit()
    retention(services, retention_mode="delete").run()
    with services.sessions() as session:
        comments = sorted(r.comment for r in session.scalars(select(KnowledgeIssueReport)))
        vectors = set(session.scalars(select(QuestionVector.answer_id)))
    assert comments == ["", "secret comment 1"]  # kept as a row, only the text goes
    assert vectors == {s.new_answer}


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_a_knowledge_issue_loses_its_question_embedding_with_the_question(
        services: Services, mode: str) -> None:
    """The embedding an issue groups later reports by is made from its first report's
    question: it is cleared when that answer ages out (or, with the answer gone, when the issue
    does), in either mode; the issue and its reports stay."""
    from app.knowledge_issues.tables import KnowledgeIssue, KnowledgeIssueReport

    s = seed(services)
    old = utcnow() - timedelta(days=OLD_DAYS)
    with services.sessions() as session:
        session.add_all([
            KnowledgeIssue(id="old", collection="kb", answer_id=s.old_answer,
                           question_vector=b"\1" * 16, embedding_model="m"),
            KnowledgeIssue(id="new", collection="kb", answer_id=s.new_answer,
                           question_vector=b"\2" * 16, embedding_model="m"),
            KnowledgeIssue(id="orphan", collection="kb", answer_id=None, created_at=old,
                           question_vector=b"\3" * 16, embedding_model="m")])
        session.add(KnowledgeIssueReport(issue_id="old", answer_id=s.old_answer,
                                         user_id=s.user_id, kind="thumbs_down", created_at=old))
        session.commit()
    job = retention(services, retention_mode=mode)
    assert job.run(dry_run=True).rows["knowledge_issues"] == 2
    assert job.run().rows["knowledge_issues"] == 2
    with services.sessions() as session:
        vectors = dict(session.execute(
            select(KnowledgeIssue.id, KnowledgeIssue.question_vector)).all())
        reports = session.scalar(select(func.count()).select_from(KnowledgeIssueReport))
    assert vectors == {"old": None, "new": b"\2" * 16, "orphan": None}
    assert reports == 1  # the report keeps counting
    assert "knowledge_issues" not in job.run().rows  # a second run finds nothing more
