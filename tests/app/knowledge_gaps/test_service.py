"""The knowledge-gaps report on a hand-made history: which questions count and how they are
grouped, counted and trended; the cache that keeps a page view from re-embedding; documents
not cited in N days and documents older than an age; and whose collections a report covers.
Every test runs on SQLite and again on PostgreSQL; the tables as migrated are the tables the
models declare."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update

from app.answering.tables import Answer
from app.core.errors import Forbidden
from app.core.principal import Principal
from app.core.settings import Settings
from app.core.tables import Base, utcnow
from app.feedback.records import GivenFeedback
from app.knowledge.tables import Document
from app.knowledge_gaps.records import GapQuery
from app.knowledge_gaps.service import trend
from app.knowledge_gaps.tables import QuestionVector
from app.wiring import Services
from models.fakes import FakeEmbedder
from tests.access import make_user
from tests.app.knowledge_gaps.world import indexed_days_ago, secret_collection, stored

VPN = ("VPN certificate expired error NWL-VPN-809",
       "VPN certificate expired again, error NWL-VPN-809",
       "error NWL-VPN-809: VPN certificate expired")
PRINTER = ("printer paper jam in tray 2, error P-203", "paper jam in printer tray 2 (P-203)")


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    return db_settings


def _admin(services: Services) -> Principal:
    if "root" not in {u.username for u in services.users.all()}:
        make_user(services, "root", ["admin"])
    return services.identity.as_user("root")


def test_refused_and_voted_down_questions_are_grouped_into_topics(indexed: Services) -> None:
    stored(indexed, VPN[0], days_ago=5, refused=True)
    stored(indexed, VPN[1], days_ago=10, down=True)
    stored(indexed, VPN[2], days_ago=70, refused=True, down=True)
    stored(indexed, PRINTER[0], days_ago=60, refused=True)
    stored(indexed, PRINTER[1], days_ago=80, down=True)
    # none of these counts: too old, an evaluation run, voted up, answered without a vote,
    # blanked by the retention job
    stored(indexed, VPN[0], days_ago=100, refused=True)
    stored(indexed, VPN[0], days_ago=3, refused=True, channel="eval")
    stored(indexed, VPN[1], days_ago=3, up=True)
    stored(indexed, VPN[2], days_ago=3)
    stored(indexed, "", days_ago=3, refused=True)
    report = indexed.gaps.report(_admin(indexed))
    assert (report.window_days, report.questions) == (90, 5)
    assert [t.questions for t in report.topics] == [3, 2]
    vpn, printer = report.topics
    assert vpn.label in VPN and sorted(vpn.examples) == sorted(VPN)
    assert (vpn.refused, vpn.voted_down, vpn.earlier, vpn.recent, vpn.trend) == (
        2, 2, 1, 2, "rising")
    assert (printer.earlier, printer.recent, printer.trend) == (2, 0, "falling")
    assert set(printer.examples) == set(PRINTER)
    assert [(c.name, c.questions) for c in vpn.collections] == [("kb", 3)]
    assert abs(vpn.last_asked_at - (utcnow() - timedelta(days=5))) < timedelta(minutes=5)
    # a shorter window: only what was asked in it, halves of its own
    short = indexed.gaps.report(_admin(indexed), GapQuery(window_days=30))
    assert [(t.earlier, t.recent, t.trend) for t in short.topics] == [(0, 2, "new")]


def test_the_trend_compares_the_second_half_with_the_first() -> None:
    assert [trend(0, 3), trend(2, 3), trend(2, 2), trend(4, 5), trend(4, 2), trend(1, 0)] == [
        "new", "rising", "steady", "steady", "falling", "falling"]


def test_a_report_embeds_only_the_questions_it_has_not_seen(indexed: Services) -> None:
    embedder = indexed.embedder
    assert isinstance(embedder, FakeEmbedder)
    admin = _admin(indexed)
    first = stored(indexed, VPN[0], refused=True)
    stored(indexed, PRINTER[0], refused=True)
    before = embedder.calls
    indexed.gaps.report(admin)
    assert embedder.calls == before + 1  # both questions in one batch
    indexed.gaps.report(admin)
    assert embedder.calls == before + 1  # a page view of the same window embeds nothing
    with indexed.sessions() as session:
        assert session.scalar(select(func.count()).select_from(QuestionVector)) == 2
        # the retention job rewrote a question: its vector is made again
        session.execute(update(Answer).where(Answer.id == first)
                        .values(question="VPN certificate question"))
        session.commit()
    stored(indexed, PRINTER[1], refused=True)
    report = indexed.gaps.report(admin)
    assert embedder.calls == before + 2 and report.questions == 3
    assert "VPN certificate question" in {e for t in report.topics for e in t.examples}
    # the retention job blanked it: its vector goes too, and nothing is embedded for it
    with indexed.sessions() as session:
        session.execute(update(Answer).where(Answer.id == first).values(question=""))
        session.commit()
    assert indexed.gaps.report(admin).questions == 2 and embedder.calls == before + 2
    with indexed.sessions() as session:
        assert session.get(QuestionVector, first) is None
        assert session.scalar(select(func.count()).select_from(QuestionVector)) == 2


def test_documents_not_cited_in_n_days(indexed: Services) -> None:
    admin = _admin(indexed)
    indexed_days_ago(indexed, 200)
    stored(indexed, "vpn?", days_ago=10, cites=[("kb", "vpn.md")])
    stored(indexed, "mail?", days_ago=120, cites=[("kb", "mail.txt")])
    # evaluation runs are not people using a document
    stored(indexed, "printers?", days_ago=1, cites=[("kb", "printing/printers.md")],
           channel="eval")
    report = indexed.gaps.report(admin)
    assert report.uncited.total == 2
    # never cited first, then the longest uncited
    assert [(d.path, d.last_cited_at is None) for d in report.uncited.documents] == [
        ("printing/printers.md", True), ("mail.txt", False)]
    mail = report.uncited.documents[1]
    assert mail.last_cited_at is not None
    assert abs(mail.last_cited_at - (utcnow() - timedelta(days=120))) < timedelta(minutes=5)
    assert mail.title == "Mail limits" and mail.collection == "kb"
    # a later answer is read by the next report: mail.txt is cited again
    stored(indexed, "mail again?", days_ago=0, cites=[("kb", "mail.txt")])
    again = indexed.gaps.report(admin)
    assert [d.path for d in again.uncited.documents] == ["printing/printers.md"]
    # N is a parameter: nothing cited in the last 5 days but the new mail answer
    recent = indexed.gaps.report(admin, GapQuery(uncited_days=5))
    assert [d.path for d in recent.uncited.documents] == ["printing/printers.md", "vpn.md"]


def test_a_document_indexed_within_the_period_is_not_yet_uncited(indexed: Services) -> None:
    report = indexed.gaps.report(_admin(indexed))
    assert report.uncited.total == 0  # indexed just now: no time to be cited yet
    indexed_days_ago(indexed, 91)
    assert indexed.gaps.report(_admin(indexed)).uncited.total == 3


def test_documents_older_than_an_age_by_their_own_date(indexed: Services) -> None:
    admin = _admin(indexed)
    with indexed.sessions() as session:
        for path, at in (("vpn.md", datetime(2020, 1, 1, tzinfo=UTC)),
                         ("mail.txt", utcnow() - timedelta(days=400))):
            session.execute(update(Document).where(Document.path == path)
                            .values(dated_at=at, dated_from="markdown:updated"))
        session.execute(update(Document).where(Document.path == "printing/printers.md")
                        .values(dated_at=None, dated_from=None))
        session.commit()
    report = indexed.gaps.report(admin)
    assert [d.path for d in report.old.documents] == ["vpn.md", "mail.txt"]  # oldest first
    assert report.old.documents[0].dated_at == datetime(2020, 1, 1, tzinfo=UTC)
    assert report.old.documents[0].dated_from == "markdown:updated"
    assert report.undated == 1
    assert [d.path for d in indexed.gaps.report(
        admin, GapQuery(max_age_days=500)).old.documents] == ["vpn.md"]


def test_a_report_covers_the_collections_its_viewer_reads_and_owns(
        indexed: Services, tmp_path: Path) -> None:
    secret_collection(indexed, tmp_path)
    admin = _admin(indexed)
    indexed.access.set_grants("kb", everyone=True)
    make_user(indexed, "olga", ["agent"])
    make_user(indexed, "ann", ["agent"])
    make_user(indexed, "sam", ["agent"])
    olga, ann, sam = (indexed.identity.as_user(n) for n in ("olga", "ann", "sam"))
    indexed.owners.add("kb", admin, user="olga")
    indexed.owners.add("secret", admin, user="sam")  # owns it, but may not read it
    indexed_days_ago(indexed, 200)
    stored(indexed, VPN[0], refused=True, collections=["kb", "secret"])
    stored(indexed, "salary scales revised April", refused=True, collections=["secret"])

    everything = indexed.gaps.report(admin)
    assert everything.collections == ["kb", "secret"]
    assert everything.questions == 2
    assert {d.collection for d in everything.uncited.documents} == {"kb", "secret"}

    mine = indexed.gaps.report(olga)
    assert mine.collections == ["kb"] and mine.questions == 1
    assert [[c.name for c in t.collections] for t in mine.topics] == [["kb"]]
    assert "secret" not in mine.model_dump_json()
    assert "salar" not in mine.model_dump_json().lower()
    assert {d.collection for d in mine.uncited.documents} == {"kb"}

    for outsider in (ann, sam):  # owns nothing; owns only what they may not read
        with pytest.raises(Forbidden) as refused:
            indexed.gaps.report(outsider)
        assert refused.value.code == "not_an_owner"


def test_the_migrated_tables_are_the_declared_ones(services: Services) -> None:
    ours = {"gap_question_vectors", "document_citations", "citation_scans", "documents"}

    def named(name: str | None, type_: str, _parent: Any) -> bool:
        return type_ != "table" or name in ours

    def declared(obj: Any, name: str | None, type_: str, reflected: bool,
                 _compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", None) in ours

    with services.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": named, "include_object": declared})
        assert compare_metadata(context, Base.metadata) == []


def test_an_answer_voted_down_through_the_service_is_a_gap_and_its_citation_counts(
        indexed: Services) -> None:
    make_user(indexed, "ann", ["agent"])
    ann = indexed.identity.as_user("ann")
    question = "What does VPN error NWL-VPN-809 mean?"
    answer = indexed.answers.answer(question, ["kb"], allowed={"kb"}, asker=ann)
    assert [c.document for c in answer.citations] == ["vpn.md"]
    admin = _admin(indexed)
    indexed_days_ago(indexed, 200)
    assert indexed.gaps.report(admin).questions == 0  # answered, and nobody objected
    indexed.feedback.give(answer.answer_id, ann, GivenFeedback(vote="down"), readable={"kb"})
    report = indexed.gaps.report(admin)
    assert [(t.label, t.voted_down, t.refused) for t in report.topics] == [(question, 1, 0)]
    assert "vpn.md" not in {d.path for d in report.uncited.documents}
    assert {d.path for d in report.uncited.documents} == {"mail.txt", "printing/printers.md"}
