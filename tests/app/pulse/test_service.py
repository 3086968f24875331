"""The NPS pulse: due only for a person who has asked a few questions, at most once per
period, shown until answered or dismissed, a score 0-10 only, and audited without the score."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.answering.tables import Answer
from app.core.errors import Conflict, InvalidInput
from app.core.principal import Principal
from app.core.settings import PulseSettings, Settings
from app.core.tables import utcnow
from app.pulse.service import PulseService
from app.pulse.tables import NpsResponse
from app.wiring import Services
from tests.access import make_user


def person(services: Services, name: str, questions: int = 0) -> Principal:
    make_user(services, name, ["agent"])
    user = services.identity.as_user(name)
    ask(services, user, questions)
    return user


def ask(services: Services, user: Principal, questions: int) -> None:
    """``questions`` stored answers of ``user`` (the pulse counts them, nothing else)."""
    with services.sessions() as session:
        for i in range(questions):
            session.add(Answer(id=f"{user.username}-{i}-{utcnow().timestamp()}",
                               user_id=user.user_id, question="q", collections=["kb"],
                               retrieved=[], prompt_id="answer", prompt_version=1,
                               model_id="fake", snapshot_ids={}, answer="a", citations=[],
                               sentences=[], latency_ms={}))
        session.commit()


def rows(services: Services, user: Principal) -> list[NpsResponse]:
    with services.sessions() as session:
        return list(session.scalars(select(NpsResponse).where(
            NpsResponse.user_id == user.user_id).order_by(NpsResponse.id)))


def age(services: Services, user: Principal, days: int) -> None:
    """Move every ask of ``user`` ``days`` into the past."""
    with services.sessions() as session:
        for row in session.scalars(select(NpsResponse).where(
                NpsResponse.user_id == user.user_id)):
            row.asked_at -= timedelta(days=days)
        session.commit()


def test_a_new_user_is_not_asked_until_their_fifth_question(services: Services) -> None:
    ann = person(services, "ann", questions=4)
    assert services.pulse.status(ann).why_not == "too_few_questions"
    assert not services.pulse.show(ann).due and rows(services, ann) == []
    ask(services, ann, 1)
    due = services.pulse.status(ann)
    assert (due.due, due.why_not, due.asked_at) == (True, None, None)
    assert rows(services, ann) == []  # asking whether it is due records nothing


def test_showing_records_one_ask_that_stays_open_until_answered(services: Services) -> None:
    ann = person(services, "ann", questions=5)
    shown = services.pulse.show(ann)
    assert shown.due and shown.asked_at is not None
    again = services.pulse.show(ann)  # the next page load: the same open question
    assert again.due and again.asked_at == shown.asked_at
    assert len(rows(services, ann)) == 1
    answered = services.pulse.answer(ann, 7)
    assert (answered.due, answered.why_not) == (False, "asked_this_period")
    assert answered.next_at == shown.asked_at + timedelta(days=90)
    (row,) = rows(services, ann)
    assert (row.score, row.answered_at is not None) == (7, True)
    assert not services.pulse.show(ann).due and len(rows(services, ann)) == 1
    with pytest.raises(Conflict) as twice:
        services.pulse.answer(ann, 9)
    assert twice.value.code == "pulse_not_due"
    assert rows(services, ann)[0].score == 7


def test_a_dismissal_has_no_score_and_also_waits_for_the_next_period(
        services: Services) -> None:
    ann = person(services, "ann", questions=5)
    services.pulse.show(ann)
    dismissed = services.pulse.dismiss(ann)
    assert (dismissed.due, dismissed.why_not) == (False, "asked_this_period")
    (row,) = rows(services, ann)
    assert row.score is None and row.answered_at is not None
    with pytest.raises(Conflict):
        services.pulse.dismiss(ann)
    with pytest.raises(Conflict):
        services.pulse.answer(ann, 5)
    age(services, ann, 89)
    assert services.pulse.status(ann).why_not == "asked_this_period"
    age(services, ann, 2)  # 91 days ago: a new period
    assert services.pulse.status(ann).due
    services.pulse.answer(ann, 10)  # over the API, without a showing: ask and answer at once
    assert [r.score for r in rows(services, ann)] == [None, 10]


def test_an_open_ask_that_outlives_the_period_counts_as_asked(services: Services) -> None:
    ann = person(services, "ann", questions=5)
    services.pulse.show(ann)
    age(services, ann, 91)
    fresh = services.pulse.show(ann)
    assert fresh.due
    first, second = rows(services, ann)
    assert (first.answered_at, second.answered_at) == (None, None)
    assert second.asked_at == fresh.asked_at and first.asked_at < second.asked_at
    services.pulse.answer(ann, 8)
    assert [r.score for r in rows(services, ann)] == [None, 8]


@pytest.mark.parametrize("score", [-1, 11, 100, True])
def test_a_score_is_a_whole_number_from_0_to_10(services: Services, score: int) -> None:
    ann = person(services, "ann", questions=5)
    with pytest.raises(InvalidInput) as refused:
        services.pulse.answer(ann, score)
    assert refused.value.code == "invalid_score"
    assert rows(services, ann) == []


def test_both_ends_of_the_scale_are_scores(services: Services) -> None:
    ann, bob = person(services, "ann", 5), person(services, "bob", 5)
    services.pulse.answer(ann, 0)
    services.pulse.answer(bob, 10)
    assert [r.score for r in rows(services, ann) + rows(services, bob)] == [0, 10]


def test_each_person_has_their_own_period(services: Services) -> None:
    ann, bob = person(services, "ann", 5), person(services, "bob", 5)
    services.pulse.answer(ann, 6)
    assert not services.pulse.status(ann).due
    assert services.pulse.status(bob).due


def test_switched_off_nobody_is_asked_and_no_delay_asks_at_once(services: Services) -> None:
    ann = person(services, "ann", questions=5)
    off = PulseService(services.sessions, PulseSettings(enabled=False), services.audit)
    assert off.status(ann).why_not == "disabled" and not off.show(ann).due
    with pytest.raises(Conflict):
        off.answer(ann, 5)
    newcomer = person(services, "newcomer", questions=0)
    at_once = PulseService(services.sessions, PulseSettings(first_ask_after=0),
                           services.audit)
    assert at_once.status(newcomer).due
    assert services.pulse.status(newcomer).why_not == "too_few_questions"
    assert Principal.operator().user_id is None
    assert services.pulse.status(Principal.operator()).why_not == "no_user"


def test_the_audit_trail_says_who_responded_never_the_score(services: Services) -> None:
    ann, bob = person(services, "ann", 5), person(services, "bob", 5)
    services.pulse.show(ann)
    services.pulse.answer(ann, 3)
    services.pulse.dismiss(bob)
    entries = [e for e in services.audit.entries() if e["action"].startswith("pulse_")]
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("ann", "pulse_asked"), ("ann", "pulse_answered"), ("bob", "pulse_dismissed")]
    assert all(e["details"] == {} and e["target"] == "pulse" for e in entries)


def test_the_period_is_a_setting(settings: Settings, services: Services) -> None:
    ann = person(services, "ann", questions=5)
    weekly = PulseService(services.sessions, PulseSettings(period_days=7), services.audit)
    weekly.answer(ann, 9)
    age(services, ann, 8)
    assert weekly.status(ann).due
    assert services.pulse.status(ann).why_not == "asked_this_period"  # the default 90 days
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(NpsResponse)) == 1
