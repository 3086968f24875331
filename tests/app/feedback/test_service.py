"""Feedback on answers: one per person per answer, changeable, reasons only with a
thumbs-down, only on an answer the giver may see, every change audited; and the table as
the migration makes it is the table the model declares."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from app.core.errors import InvalidInput, NotFound
from app.core.principal import Principal
from app.core.settings import Settings
from app.core.tables import Base
from app.feedback.records import GivenFeedback
from app.feedback.tables import AnswerFeedback
from app.wiring import Services
from tests.access import make_user

QUESTION = "What does VPN error NWL-VPN-809 mean?"


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    """Every test here on SQLite and again on PostgreSQL."""
    return db_settings


def _ask(services: Services, username: str, roles: list[str]) -> tuple[Principal, str]:
    make_user(services, username, roles)
    user = services.identity.as_user(username)
    answer = services.answers.answer(QUESTION, ["kb"], allowed={"kb"}, asker=user)
    return user, answer.answer_id


def test_one_vote_per_person_and_a_changed_vote_replaces_it(indexed: Services) -> None:
    ann, answer_id = _ask(indexed, "ann", ["agent"])
    first = indexed.feedback.give(answer_id, ann, GivenFeedback(vote="up"), readable={"kb"})
    assert (first.vote, first.reasons, first.outcome) == ("up", [], None)
    changed = indexed.feedback.give(
        answer_id, ann, GivenFeedback(vote="down", reasons=("wrong_citation", "incomplete",
                                                            "incomplete"),
                                      comment="  cites the printer page  ",
                                      outcome="needs_person"), readable={"kb"})
    # reasons once each, in the vocabulary's order
    assert changed.reasons == ["incomplete", "wrong_citation"]
    assert (changed.vote, changed.comment, changed.outcome) == (
        "down", "cites the printer page", "needs_person")
    assert changed.created_at == first.created_at and changed.updated_at >= first.updated_at
    assert indexed.feedback.mine(answer_id, ann, readable={"kb"}) == changed
    with indexed.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AnswerFeedback)) == 1


def test_an_outcome_alone_is_feedback_and_nothing_at_all_is_not(indexed: Services) -> None:
    ann, answer_id = _ask(indexed, "ann", ["agent"])
    solved = indexed.feedback.give(answer_id, ann, GivenFeedback(outcome="solved"),
                                   readable={"kb"})
    assert (solved.vote, solved.outcome) == (None, "solved")
    for given, code in ((GivenFeedback(), "empty_feedback"),
                        (GivenFeedback(vote="up", reasons=("incomplete",)),
                         "reasons_need_down"),
                        (GivenFeedback(outcome="solved", reasons=("incomplete",)),
                         "reasons_need_down"),
                        (GivenFeedback(vote="down", reasons=("boring",)), "invalid_reason"),
                        (GivenFeedback(vote="sideways"), "invalid_vote"),
                        (GivenFeedback(outcome="maybe"), "invalid_outcome"),
                        (GivenFeedback(vote="up", comment="x" * 2001), "comment_too_long")):
        with pytest.raises(InvalidInput) as refused:
            indexed.feedback.give(answer_id, ann, given, readable={"kb"})
        assert refused.value.code == code
    assert indexed.feedback.mine(answer_id, ann, readable={"kb"}).outcome == "solved"


def test_an_answer_the_giver_cannot_see_is_a_404_and_the_owner_still_votes(
        indexed: Services) -> None:
    ann, answer_id = _ask(indexed, "ann", ["agent"])
    make_user(indexed, "bob", ["agent"])
    bob = indexed.identity.as_user("bob")
    for intrude in (
            lambda: indexed.feedback.give(answer_id, bob, GivenFeedback(vote="down"),
                                          readable={"kb"}),
            lambda: indexed.feedback.mine(answer_id, bob, readable={"kb"}),
            lambda: indexed.feedback.withdraw(answer_id, bob, readable={"kb"}),
            lambda: indexed.feedback.give("no-such-answer", bob, GivenFeedback(vote="up"),
                                          readable={"kb"})):
        with pytest.raises(NotFound) as hidden:
            intrude()
        assert hidden.value.code == "answer_not_found"
    # a revoked grant hides the answer from its own asker too
    with pytest.raises(NotFound):
        indexed.feedback.give(answer_id, ann, GivenFeedback(vote="up"), readable=set())
    assert indexed.feedback.give(answer_id, ann, GivenFeedback(vote="up"),
                                 readable={"kb"}).vote == "up"
    assert indexed.feedback.mine_on([answer_id], bob) == {}
    assert list(indexed.feedback.mine_on([answer_id], ann)) == [answer_id]


def test_no_feedback_yet_is_feedback_not_found_and_withdrawing_removes_it(
        indexed: Services) -> None:
    ann, answer_id = _ask(indexed, "ann", ["agent"])
    with pytest.raises(NotFound) as none:
        indexed.feedback.mine(answer_id, ann, readable={"kb"})
    assert none.value.code == "feedback_not_found"
    indexed.feedback.give(answer_id, ann, GivenFeedback(vote="up"), readable={"kb"})
    indexed.feedback.withdraw(answer_id, ann, readable={"kb"})
    with pytest.raises(NotFound):
        indexed.feedback.mine(answer_id, ann, readable={"kb"})


def test_every_change_is_audited_without_the_comment_text(indexed: Services) -> None:
    ann, answer_id = _ask(indexed, "ann", ["agent"])
    indexed.feedback.give(answer_id, ann, GivenFeedback(vote="up"), readable={"kb"})
    given = indexed.audit.latest("feedback_given")
    assert given is not None and given["details"]["vote"] == "up"
    indexed.feedback.give(answer_id, ann, GivenFeedback(
        vote="down", reasons=("outdated_source",), comment="secret-ish remark"),
        readable={"kb"})
    changed = indexed.audit.latest("feedback_changed")
    assert changed is not None and changed["seq"] > given["seq"]
    assert changed["details"] == {"vote": "down", "reasons": ["outdated_source"],
                                  "outcome": None, "comment_chars": 17}
    indexed.feedback.withdraw(answer_id, ann, readable={"kb"})
    assert indexed.audit.latest("feedback_withdrawn") is not None
    assert indexed.audit.verify().ok


def test_the_migrated_table_is_the_declared_one(services: Services) -> None:
    def ours(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
        if kind == "schema":
            return True
        return (name if kind == "table" else parents.get("table_name")) == "answer_feedback"

    def declared(obj: Any, name: str | None, kind: str, reflected: bool,
                 compare_to: Any) -> bool:
        table = obj if kind == "table" else getattr(obj, "table", None)
        return getattr(table, "name", None) == "answer_feedback"

    with services.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": ours, "include_object": declared})
        assert compare_metadata(context, Base.metadata) == []
