"""The weekly rollups the figures read: a finished week is rolled up once and stays right,
feedback given or withdrawn later on an old answer redoes that week, the current week waits
until it is over (the figures read finished weeks only), and what is not anyone's use of the
assistant (an evaluation run, the command line) is not counted. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.analytics.rollups import Rollups, monday_of, refresh
from app.analytics.tables import AnswerWeek, FeedbackWeek, RollupState, UserWeek
from app.answering.tables import Answer
from app.core.settings import Settings
from app.core.tables import utcnow
from app.feedback.records import GivenFeedback
from app.feedback.tables import AnswerFeedback
from app.wiring import Services
from tests.access import make_user


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    return db_settings


def _answer(services: Services, n: int, user: int | None, when: datetime, *,
            channel: str = "chat", refused: bool = False) -> str:
    answer_id = f"r{n:031d}"
    with services.sessions() as session:
        session.add(Answer(id=answer_id, created_at=when, user_id=user, question="q?",
                           collections=["kb"], retrieved=[], prompt_id="answer",
                           prompt_version=1, model_id="fake", snapshot_ids={}, answer="a",
                           citations=[], sentences=[], refused=refused, latency_ms={},
                           channel=channel))
        session.commit()
    return answer_id


def _rolled(services: Services) -> tuple[dict[date, tuple[int, int, int]], dict[date, int]]:
    """Per week: (days, questions, refused) and up votes, after a refresh; the per-collection
    rows must add up to the per-person ones."""
    with services.sessions() as session:
        refresh(session)
        session.commit()
        answers = {r.week: (r.days, r.questions, r.refused)
                   for r in session.scalars(select(UserWeek))}
        split = [(r.week, r.questions) for r in session.scalars(select(AnswerWeek))]
        ups = {r.week: r.up for r in session.scalars(select(FeedbackWeek))}
    for w, (_days, questions, _refused) in answers.items():
        assert sum(q for week, q in split if week == w) == questions
    return answers, ups


def test_weeks_are_rolled_up_and_later_feedback_redoes_its_week(services: Services) -> None:
    user = services.identity.from_token(make_user(services, "ann", ["agent"])).user_id
    assert user is not None
    now = utcnow()
    this = monday_of(now.date())
    then = this - timedelta(weeks=2)  # a finished week: its Monday and Tuesday
    old = datetime(then.year, then.month, then.day, 10, tzinfo=UTC)
    first = _answer(services, 1, user, old)
    _answer(services, 2, user, old + timedelta(days=1), refused=True)
    _answer(services, 3, user, now)
    _answer(services, 4, user, old, channel="eval")  # an evaluation run: not counted
    _answer(services, 5, None, old)  # the command line: nobody's use
    answers, ups = _rolled(services)
    assert answers == {then: (2, 2, 1)}  # two days, two questions, a refusal; not this week
    assert ups == {}

    with services.sessions() as session:  # a thumbs-up on the three-day-old answer, now
        session.add(AnswerFeedback(answer_id=first, user_id=user, vote="up", reasons=[],
                                   comment=""))
        session.commit()
    answers, ups = _rolled(services)
    assert ups == {then: 1}
    with services.sessions() as session:  # as if the last two weeks had not been rolled up
        state = session.get(RollupState, 1)
        assert state is not None and state.complete_until == this
        state.complete_until = then
        session.commit()
    assert _rolled(services) == ({then: (2, 2, 1)}, {then: 1})  # rolled again: the same

    with services.sessions() as session:  # withdrawn: a deleted row, noticed by the hook
        session.delete(session.scalars(select(AnswerFeedback)).one())
        session.commit()
    assert _rolled(services)[1] == {then: 1}  # not yet told
    Rollups(services.sessions).note_withdrawn(old)
    assert _rolled(services)[1] == {}


def test_withdrawing_feedback_through_the_service_redoes_the_figures(
        services: Services) -> None:
    ann = services.identity.from_token(make_user(services, "ann", ["agent"]))
    assert ann.user_id is not None
    old = datetime.now(UTC) - timedelta(days=15)  # in a finished week
    answer_id = _answer(services, 7, ann.user_id, old)
    assert _rolled(services)[1] == {}  # that week is rolled up before the vote
    services.feedback.give(answer_id, ann, GivenFeedback(vote="up"), readable={"kb"})
    assert _rolled(services)[1] == {monday_of(old.date()): 1}
    services.feedback.withdraw(answer_id, ann, readable={"kb"})
    assert _rolled(services)[1] == {}
