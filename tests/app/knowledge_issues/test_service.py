"""The closed loop in the services, on SQLite and PostgreSQL: a thumbs-down becomes the
owner's knowledge issue, a re-index that changes the cited file links itself to it, the
owner resolves it and the giver is notified with a re-ask link; a rejected draft and a
disputed refusal become issues too, similar questions are grouped, an intruder gets 404,
every step is audited; and the migrated tables are the declared ones."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update

from app.answering.tables import Answer
from app.audit.log import AuditFilter
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.core.settings import Settings
from app.core.tables import Base
from app.feedback.records import GivenFeedback
from app.knowledge.job_records import Job
from app.notifications.tables import NotificationDelivery
from app.review.records import Customer, Rating
from app.review.vocabulary import RUBRIC
from app.wiring import Services
from tests.access import make_user

QUESTION = "What does VPN error NWL-VPN-809 mean?"
OURS = ("knowledge_owners", "knowledge_issues", "knowledge_issue_reports",
        "knowledge_issue_documents", "knowledge_issue_links", "notifications",
        "notification_deliveries")
EVERYONE = {"kb"}


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    """Every test here on SQLite and again on PostgreSQL."""
    return db_settings


@pytest.fixture
def company(indexed: Services) -> Services:
    """kb readable by everyone; olga owns all of kb, team printing owns its printing/ folder
    (paula is in it), ann and bob are agents who own nothing."""
    s = indexed
    s.access.set_grants("kb", everyone=True)
    for name, teams in (("ann", []), ("bob", []), ("olga", []), ("paula", ["printing"])):
        make_user(s, name, ["agent", "reviewer"], teams)
    admin = Principal.operator()
    s.owners.add("kb", admin, user="olga")
    s.owners.add("kb", admin, team="printing", folder="/printing/")
    return s


def who(services: Services, name: str) -> Principal:
    return services.identity.as_user(name)


def thumbs_down(services: Services, name: str, question: str = QUESTION,
                **given: Any) -> str:
    asker = who(services, name)
    answer = services.answers.answer(question, ["kb"], allowed=EVERYONE, asker=asker)
    services.feedback.give(answer.answer_id, asker,
                           GivenFeedback(vote="down", **given), readable=EVERYONE)
    return answer.answer_id


def last(services: Services, action: str) -> dict[str, Any] | None:
    """The latest audit entry of ``action``, with its actor and target."""
    return next(reversed(list(services.audit.entries(AuditFilter(action=action)))), None)


def finished(services: Services, job_id: str) -> Job:
    deadline = time.monotonic() + 20
    while (job := services.jobs.get(job_id)).status in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def test_the_loop_from_a_thumbs_down_to_the_givers_notification(company: Services,
                                                                kb: Path) -> None:
    s = company
    answer_id = thumbs_down(s, "ann", reasons=("outdated_source",),
                            comment="the code was renamed")
    olga, ann, admin = who(s, "olga"), who(s, "ann"), Principal.operator()
    [issue] = s.issues.listing(olga, readable=EVERYONE)
    assert (issue.question, issue.state, issue.reports, issue.owners) == (
        QUESTION, "open", 1, ["olga"])
    assert issue.document == "vpn.md" and [d.path for d in issue.documents] == ["vpn.md"]
    [cited] = issue.documents
    assert len(cited.sha256) == 64 and cited.chunk_ids
    [report] = issue.report_list
    assert (report.kind, report.reporter, report.reasons, report.comment, report.answer_id) == (
        "thumbs_down", "ann", ["outdated_source"], "the code was renamed", answer_id)
    assert "certificate expired" in issue.answer and issue.reindexes == []
    # a re-index that leaves the cited file alone links nothing
    finished(s, s.jobs.start_reindex("kb", actor="admin").id)
    assert s.issues.get(issue.issue_id, olga, readable=EVERYONE).reindexes == []
    # the owner fixes the document; the next re-index links itself to the issue
    (kb / "vpn.md").write_text("# VPN guide\n\n## Error codes\n\nVPN error NWL-VPN-809 "
                               "now means the VPN profile is outdated. Reinstall it.\n")
    job = finished(s, s.jobs.start_reindex("kb", actor="admin").id)
    assert job.status == "succeeded"
    [link] = s.issues.get(issue.issue_id, olga, readable=EVERYONE).reindexes
    assert (link.job_id, link.document, link.change) == (job.id, "vpn.md", "changed")
    # and only once: another re-index of the same content adds nothing
    finished(s, s.jobs.start_reindex("kb", actor="admin").id)
    assert len(s.issues.get(issue.issue_id, olga, readable=EVERYONE).reindexes) == 1
    assert s.notifications.mine(ann, readable=EVERYONE).unread == 0
    resolved = s.issues.resolve(issue.issue_id, olga, "document_changed",
                                "  Rewrote the error code section.  ", readable=EVERYONE)
    assert (resolved.state, resolved.resolution, resolved.resolution_reason,
            resolved.resolved_by) == ("resolved", "document_changed",
                                      "Rewrote the error code section.", "olga")
    assert s.issues.listing(olga, readable=EVERYONE) == []
    assert [i.issue_id for i in s.issues.listing(olga, readable=EVERYONE,
                                                 state="resolved")] == [issue.issue_id]
    with pytest.raises(Conflict) as again:
        s.issues.resolve(issue.issue_id, admin, "works_as_intended", "no", readable=EVERYONE)
    assert again.value.code == "already_resolved"
    # the giver is told what was done, and can ask again with one click
    inbox = s.notifications.mine(ann, readable=EVERYONE)
    assert inbox.unread == 1
    [note] = inbox.notifications
    assert (note.issue_id, note.resolution, note.reason, note.resolved_by, note.read) == (
        issue.issue_id, "document_changed", "Rewrote the error code section.", "olga", False)
    assert [(r.job_id, r.document, r.change) for r in note.reindexes] == [
        (job.id, "vpn.md", "changed")]
    assert note.question == QUESTION
    with s.sessions() as session:  # no webhook receivers configured: in-app only
        assert session.scalar(select(func.count()).select_from(NotificationDelivery)) == 0
    assert note.reask_url == "/ask?q=What+does+VPN+error+NWL-VPN-809+mean%3F"
    # the owner who resolved it gets nothing; nobody else's inbox holds it
    assert s.notifications.mine(olga, readable=EVERYONE).notifications == []
    assert s.notifications.mine(who(s, "bob"), readable=EVERYONE).notifications == []
    with pytest.raises(NotFound):
        s.notifications.mark_read(note.notification_id, who(s, "bob"), readable=EVERYONE)
    assert s.notifications.mark_read(note.notification_id, ann, readable=EVERYONE).read
    assert s.notifications.mine(ann, readable=EVERYONE).unread == 0
    # the giver's own reports say where the issue stands
    [mine] = s.issues.my_reports(ann, readable=EVERYONE)
    assert (mine.issue_id, mine.state, mine.resolution, mine.question) == (
        issue.issue_id, "resolved", "document_changed", QUESTION)
    assert s.issues.my_reports(who(s, "bob"), readable=EVERYONE) == []


def test_every_step_is_audited(company: Services, kb: Path) -> None:
    s = company
    assert last(s, "owner_added") is not None
    thumbs_down(s, "ann", reasons=("incomplete",), comment="private remark")
    opened = last(s, "knowledge_issue_opened")
    assert opened is not None and opened["actor"] == "ann"
    assert opened["details"]["comment_chars"] == len("private remark")
    assert "private remark" not in str(opened["details"])
    issue_id = opened["target"]
    (kb / "vpn.md").unlink()  # a removed document counts as changed
    finished(s, s.jobs.start_reindex("kb", actor="admin").id)
    linked = last(s, "knowledge_issue_linked")
    assert linked is not None and linked["target"] == issue_id
    assert linked["details"]["documents"] == ["vpn.md"]
    olga = who(s, "olga")
    [link] = s.issues.get(issue_id, olga, readable=EVERYONE).reindexes
    assert link.change == "removed"
    s.issues.resolve(issue_id, olga, "document_changed", "removed the old page",
                     readable=EVERYONE)
    resolved = last(s, "knowledge_issue_resolved")
    assert resolved is not None and resolved["actor"] == "olga"
    assert resolved["details"] == {"resolution": "document_changed", "reason_chars": 20,
                                   "reindexes": 1, "notified": 1}
    [note] = s.notifications.mine(who(s, "ann"), readable=EVERYONE).notifications
    s.notifications.mark_read(note.notification_id, who(s, "ann"), readable=EVERYONE)
    assert last(s, "notification_read") is not None
    owner = s.owners.of("kb")[0]
    s.owners.remove("kb", Principal.operator(), owner.owner_id)
    assert last(s, "owner_removed") is not None
    assert s.audit.verify().ok


def test_intruders_get_404_and_the_owner_and_an_admin_still_see_it(company: Services) -> None:
    s = company
    thumbs_down(s, "ann")
    olga, admin = who(s, "olga"), Principal.operator()
    [issue] = s.issues.listing(olga, readable=EVERYONE)
    # bob owns nothing; paula's team owns another folder of the same collection
    for intruder in (who(s, "bob"), who(s, "paula"), who(s, "ann")):
        assert s.issues.listing(intruder, readable=EVERYONE) == []
        for issue_id, resolve in ((issue.issue_id, False), (issue.issue_id, True),
                                  ("no-such-issue", False)):
            with pytest.raises(NotFound) as hidden:
                if resolve:
                    s.issues.resolve(issue_id, intruder, "works_as_intended", "mine now",
                                     readable=EVERYONE)
                else:
                    s.issues.get(issue_id, intruder, readable=EVERYONE)
            assert hidden.value.code == "issue_not_found"
    # the owner who no longer reads the collection does not see it either
    with pytest.raises(NotFound):
        s.issues.get(issue.issue_id, olga, readable=set())
    assert s.issues.listing(olga, readable=set()) == []
    assert s.issues.get(issue.issue_id, olga, readable=EVERYONE).issue_id == issue.issue_id
    assert s.issues.get(issue.issue_id, admin, readable=EVERYONE).issue_id == issue.issue_id


def test_a_folder_owner_gets_the_issues_on_its_folder_not_the_collection_owner(
        company: Services) -> None:
    s = company
    thumbs_down(s, "ann", "What does printer error P-203 mean?")
    paula, olga = who(s, "paula"), who(s, "olga")
    [issue] = s.issues.listing(paula, readable=EVERYONE)
    assert (issue.document, issue.owners, issue.unowned) == (
        "printing/printers.md", ["team:printing"], False)
    assert s.issues.listing(olga, readable=EVERYONE) == []
    with pytest.raises(NotFound):
        s.issues.get(issue.issue_id, olga, readable=EVERYONE)
    assert s.owners.collections_owned_by(paula) == {"kb"}
    assert s.owners.collections_owned_by(who(s, "bob")) == set()
    assert s.owners.collections_owned_by(Principal.operator()) == {"kb"}


def test_an_issue_nobody_owns_is_the_admins_as_unowned(indexed: Services) -> None:
    s = indexed
    s.access.set_grants("kb", everyone=True)
    make_user(s, "ann", ["agent"])
    thumbs_down(s, "ann")
    [issue] = s.issues.listing(Principal.operator(), readable=EVERYONE)
    assert (issue.unowned, issue.owners) == (True, [])
    assert s.issues.listing(who(s, "ann"), readable=EVERYONE) == []


def test_a_similar_question_joins_the_open_issue_and_another_opens_its_own(
        company: Services) -> None:
    s = company
    thumbs_down(s, "ann", reasons=("wrong_facts",))
    thumbs_down(s, "bob", "what does the VPN error NWL-VPN-809 mean", comment="same here")
    # the same person's changed vote updates their report, it does not count twice
    answer_id = thumbs_down(s, "ann", "Which VPN error is NWL-VPN-809?")
    s.feedback.give(answer_id, who(s, "ann"), GivenFeedback(vote="down",
                                                            reasons=("incomplete",)),
                    readable=EVERYONE)
    thumbs_down(s, "bob", "What is the mailbox size limit?")
    admin = Principal.operator()
    issues = s.issues.listing(admin, readable=EVERYONE)
    by_doc = {i.document: i for i in issues}
    vpn = by_doc["vpn.md"]
    assert vpn.reports == 3 and len(issues) == 2
    assert [r.reporter for r in vpn.report_list] == ["ann", "bob", "ann"]
    assert vpn.report_list[2].reasons == ["incomplete"]
    assert by_doc["mail.txt"].reports == 1
    # newest recurrence first
    assert issues[0].document == "mail.txt"
    thumbs_down(s, "ann", "What does the VPN error NWL-VPN-809 mean?")
    assert s.issues.listing(admin, readable=EVERYONE)[0].document == "vpn.md"


def test_a_report_after_resolution_opens_a_new_issue(company: Services) -> None:
    s = company
    thumbs_down(s, "ann")
    olga = who(s, "olga")
    [first] = s.issues.listing(olga, readable=EVERYONE)
    s.issues.resolve(first.issue_id, olga, "works_as_intended", "The page is right.",
                     readable=EVERYONE)
    thumbs_down(s, "bob")
    [second] = s.issues.listing(olga, readable=EVERYONE)
    assert second.issue_id != first.issue_id and second.reports == 1
    [note] = s.notifications.mine(who(s, "ann"), readable=EVERYONE).notifications
    assert (note.resolution, note.reason, note.reindexes) == (
        "works_as_intended", "The page is right.", [])


def test_a_resolution_needs_a_known_kind_and_a_reason(company: Services) -> None:
    s = company
    thumbs_down(s, "ann")
    olga = who(s, "olga")
    [issue] = s.issues.listing(olga, readable=EVERYONE)
    for resolution, reason, code in (("works_as_intended", "   ", "reason_required"),
                                     ("shrug", "because", "invalid_resolution"),
                                     ("document_changed", "x" * 2001, "reason_too_long")):
        with pytest.raises(InvalidInput) as refused:
            s.issues.resolve(issue.issue_id, olga, resolution, reason, readable=EVERYONE)
        assert refused.value.code == code
    assert s.issues.get(issue.issue_id, olga, readable=EVERYONE).state == "open"


def test_a_rejected_draft_becomes_an_issue_with_its_reason(company: Services) -> None:
    s = company
    ann, bob = who(s, "ann"), who(s, "bob")
    draft = s.drafts.create(ann, QUESTION, ["kb"], allowed=EVERYONE, customer=Customer(),
                            tone="friendly")
    s.review.claim(draft.draft_id, bob, readable=EVERYONE)
    s.review.reject(draft.draft_id, bob, Rating(scores=dict.fromkeys(RUBRIC, 2),
                                                comment="code is outdated",
                                                reason="outdated_source"),
                    readable=EVERYONE)
    [issue] = s.issues.listing(who(s, "olga"), readable=EVERYONE)
    [report] = issue.report_list
    assert (report.kind, report.reporter, report.reasons, report.comment,
            report.draft_id) == ("draft_rejected", "bob", ["outdated_source"],
                                 "code is outdated", draft.draft_id)
    assert issue.question == QUESTION


def test_a_disputed_refusal_becomes_an_issue_and_similar_ones_group(
        company: Services) -> None:
    s = company
    # an error code no document holds: refused, citing nothing, so grouped by the question
    for name, question in (("ann", "What does VPN error NWL-VPN-999 mean?"),
                           ("bob", "what does the VPN error NWL-VPN-999 mean")):
        thumbs_down(s, name, question, reasons=("refused_but_documented",),
                    comment="it is in the handbook")
    [issue] = s.issues.listing(who(s, "olga"), readable=EVERYONE)
    assert issue.refused and issue.documents == [] and issue.document == ""
    assert issue.reports == 2 and issue.owners == ["olga"]
    assert {r.kind for r in issue.report_list} == {"refusal_disputed"}
    # another refused question that is not alike opens its own
    thumbs_down(s, "ann", "Who approves mailbox quota code MBX-4411?",
                reasons=("refused_but_documented",))
    assert len(s.issues.listing(who(s, "olga"), readable=EVERYONE)) == 2
    # a thumbs-up is no report
    asker = who(s, "ann")
    answer = s.answers.answer("What is the mailbox size limit?", ["kb"], allowed=EVERYONE,
                              asker=asker)
    s.feedback.give(answer.answer_id, asker, GivenFeedback(vote="up"), readable=EVERYONE)
    assert len(s.issues.listing(Principal.operator(), readable=EVERYONE)) == 2


def test_owners_are_users_or_teams_once_each_by_folder(company: Services) -> None:
    s = company
    admin = Principal.operator()
    assert [(o.folder, o.kind, o.name) for o in s.owners.of("kb")] == [
        ("", "user", "olga"), ("printing", "team", "printing")]
    with pytest.raises(Conflict):
        s.owners.add("kb", admin, user="olga")
    for kwargs, error, code in (({}, InvalidInput, "owner_required"),
                                ({"user": "olga", "team": "printing"}, InvalidInput,
                                 "owner_required"),
                                ({"user": "nobody"}, NotFound, "user_not_found"),
                                ({"team": "nobody"}, NotFound, "team_not_found")):
        with pytest.raises(error) as refused:
            s.owners.add("kb", admin, **kwargs)
        assert refused.value.code == code
    with pytest.raises(NotFound):
        s.owners.add("nope", admin, user="olga")
    s.owners.remove_named("kb", admin, team="printing", folder="printing")
    assert [o.name for o in s.owners.of("kb")] == ["olga"]
    with pytest.raises(NotFound):
        s.owners.remove_named("kb", admin, team="printing", folder="printing")
    assert s.owners.collections_owned_by(who(s, "paula")) == set()


def test_the_migrated_tables_are_the_declared_ones(services: Services) -> None:
    def ours(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
        if kind == "schema":
            return True
        return (name if kind == "table" else parents.get("table_name")) in OURS

    def declared(obj: Any, name: str | None, kind: str, reflected: bool,
                 compare_to: Any) -> bool:
        table = obj if kind == "table" else getattr(obj, "table", None)
        return getattr(table, "name", None) in OURS

    with services.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": ours, "include_object": declared})
        assert compare_metadata(context, Base.metadata) == []


def test_a_vote_changed_away_from_down_takes_the_report_back(company: Services) -> None:
    s = company
    answer_id = thumbs_down(s, "ann")
    thumbs_down(s, "bob")
    olga, ann = who(s, "olga"), who(s, "ann")
    [issue] = s.issues.listing(olga, readable=EVERYONE)
    assert issue.reports == 2
    s.feedback.give(answer_id, ann, GivenFeedback(vote="up"), readable=EVERYONE)
    [issue] = s.issues.listing(olga, readable=EVERYONE)
    assert issue.reports == 1 and [r.reporter for r in issue.report_list] == ["bob"]
    withdrawn = last(s, "knowledge_report_withdrawn")
    assert withdrawn is not None and withdrawn["actor"] == "ann"
    assert s.issues.my_reports(ann, readable=EVERYONE) == []
    # the last report taken back: no issue is left
    bobs = s.issues.my_reports(who(s, "bob"), readable=EVERYONE)[0].answer_id
    assert bobs is not None
    s.feedback.give(bobs, who(s, "bob"), GivenFeedback(outcome="solved"), readable=EVERYONE)
    assert s.issues.listing(olga, readable=EVERYONE) == []
    with pytest.raises(NotFound):
        s.issues.get(issue.issue_id, olga, readable=EVERYONE)


def test_no_question_or_answer_text_is_copied_retention_blanks_it_here_too(
        company: Services) -> None:
    s = company
    answer_id = thumbs_down(s, "ann", comment="kept in the report's comment")
    olga, ann = who(s, "olga"), who(s, "ann")
    [issue] = s.issues.listing(olga, readable=EVERYONE)
    s.issues.resolve(issue.issue_id, olga, "works_as_intended", "It is right.",
                     readable=EVERYONE)
    with s.sessions() as session:  # what the retention job does to an old answer
        session.execute(update(Answer).where(Answer.id == answer_id)
                        .values(question="", answer="", generated=""))
        session.commit()
        stored = " ".join(str(row) for table in OURS for row in session.execute(
            select(Base.metadata.tables[table])))
    assert "NWL-VPN-809" not in stored and "certificate" not in stored
    assert "kept in the report's comment" in stored
    shown = s.issues.get(issue.issue_id, olga, readable=EVERYONE)
    assert (shown.question, shown.answer) == ("", "")
    [note] = s.notifications.mine(ann, readable=EVERYONE).notifications
    assert (note.question, note.reask_url) == ("", "/ask")
    assert s.issues.my_reports(ann, readable=EVERYONE)[0].question == ""
