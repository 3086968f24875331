"""The arithmetic of every adoption figure on a hand-made fixture, with the k rule on both
sides of its threshold, on SQLite and again on PostgreSQL.

The fixture (k = 3 unless a test says otherwise), "now" = week 2026-W48 (Mon 23 Nov):
team red: a1, a2, a3; team blue: b1, b2 (fewer than k); c1 and c2 in no team; all agents.

W48 questions: a1 Mon x2 (one refused) + Tue x1; a2 Mon; a3 Wed (kb + hr); b1 Thu x2 (hr);
b2 Thu (refused). Votes: a1 up + down, a2 up, a3 up, b1 down; outcomes a1 and a2 solved, a3
needs a person. Drafts: a1 approved as is after 10 min and approved edited after 30; a2
rejected; a3 approved as is after 60; b1 pending, and approved as is after 20. Pulse: a1 10,
a2 9, a3 3, b1 7, b2 dismissed.
Baseline week W46: a1 (refused), a2, c1 one question each; c2 asked in W44 (the 28-day
window of W46 holds W43-W46, so c2 is a monthly active user of W46, not of W48).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.analytics.records import Comparison, FigureName, Value
from app.analytics.service import AnalyticsService, series_csv
from app.answering.tables import Answer
from app.core.errors import Forbidden
from app.core.principal import Principal
from app.core.settings import AnalyticsSettings, Settings
from app.feedback.tables import AnswerFeedback
from app.pulse.tables import NpsResponse
from app.review.tables import Draft
from app.wiring import Services
from tests.access import make_user

W48 = date(2026, 11, 23)
W46 = date(2026, 11, 9)
TODAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday of W49: W48 is the last complete
_ids = count(1)


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    return db_settings


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def answer(session: Session, user: int, when: datetime, *, refused: bool = False,
           collections: tuple[str, ...] = ("kb",)) -> str:
    answer_id = f"a{next(_ids):031d}"
    session.add(Answer(id=answer_id, created_at=when, user_id=user, question="q?",
                       collections=list(collections), retrieved=[], prompt_id="answer",
                       prompt_version=1, model_id="fake", snapshot_ids={}, answer="a",
                       citations=[], sentences=[], refused=refused, latency_ms={}))
    session.flush()
    return answer_id


def feedback(session: Session, answer_id: str, user: int, vote: str | None = None,
             outcome: str | None = None) -> None:
    session.add(AnswerFeedback(answer_id=answer_id, user_id=user, vote=vote, outcome=outcome,
                               reasons=[], comment=""))


def draft(session: Session, author: int, when: datetime, state: str = "pending", *,
          minutes: int | None = None, edit: float | None = None,
          collections: tuple[str, ...] = ("kb",)) -> None:
    session.add(Draft(id=f"d{next(_ids):031d}", created_at=when, submitted_at=when,
                      author_id=author, answer_id="x", collections=list(collections),
                      question="q?", prompt="customer_reply@1", model_id="fake",
                      generated_text="g", text="g", state=state, edit_distance=edit,
                      decided_at=when + timedelta(minutes=minutes) if minutes is not None
                      else None))


def pulse(session: Session, user: int, when: datetime, score: int | None) -> None:
    session.add(NpsResponse(user_id=user, asked_at=when, score=score,
                            answered_at=when if score is not None else None))


@pytest.fixture
def world(services: Services) -> Iterator[dict[str, int]]:
    for name, teams in (("a1", ["red"]), ("a2", ["red"]), ("a3", ["red"]), ("b1", ["blue"]),
                        ("b2", ["blue"]), ("c1", []), ("c2", [])):
        make_user(services, name, ["agent"], teams)
    ids = {n: services.users.get(n).id for n in ("a1", "a2", "a3", "b1", "b2", "c1", "c2")}
    a1, a2, a3, b1, b2, c1, c2 = (ids[n] for n in ("a1", "a2", "a3", "b1", "b2", "c1", "c2"))
    mon, tue, wed, thu = (W48 + timedelta(days=i) for i in range(4))
    with services.sessions() as s:
        x1 = answer(s, a1, at(mon))
        x2 = answer(s, a1, at(mon, 11), refused=True)
        answer(s, a1, at(tue))
        x4 = answer(s, a2, at(mon))
        x5 = answer(s, a3, at(wed), collections=("kb", "hr"))
        x6 = answer(s, b1, at(thu), collections=("hr",))
        answer(s, b1, at(thu, 12), collections=("hr",))
        answer(s, b2, at(thu), refused=True)
        feedback(s, x1, a1, "up", "solved")
        feedback(s, x2, a1, "down")
        feedback(s, x4, a2, "up", "solved")
        feedback(s, x5, a3, "up", "needs_person")
        feedback(s, x6, b1, "down")
        draft(s, a1, at(mon), "approved", minutes=10, edit=0.0)
        draft(s, a1, at(tue), "approved", minutes=30, edit=0.3)
        draft(s, a2, at(mon), "rejected", minutes=5)
        draft(s, a3, at(wed), "approved", minutes=60, edit=0.0)
        draft(s, b1, at(thu), "pending")
        draft(s, b1, at(thu, 14), "approved", minutes=20, edit=0.0, collections=("hr",))
        for user, score in ((a1, 10), (a2, 9), (a3, 3), (b1, 7), (b2, None)):
            pulse(s, user, at(wed), score)
        answer(s, a1, at(W46), refused=True)
        answer(s, a2, at(W46 + timedelta(days=1)))
        answer(s, c1, at(W46 + timedelta(days=1)))
        answer(s, c2, at(W46 - timedelta(weeks=2)))
        s.commit()
    yield ids


def analytics(services: Services, k: int = 3) -> AnalyticsService:
    return AnalyticsService(services.sessions, services.audit, AnalyticsSettings(k=k, weeks=1),
                            clock=lambda: TODAY)


def figures(comparison: Comparison, group: str) -> dict[FigureName, Any]:
    found = [g for g in comparison.groups if g.group == group]
    assert found, [g.group for g in comparison.groups]
    return {f.name: f for f in found[0].figures}


def values(comparison: Comparison, group: str) -> dict[FigureName, float | None]:
    return {name: f.now.value for name, f in figures(comparison, group).items()}


def test_every_company_figure_of_the_week(services: Services, world: dict[str, int]) -> None:
    company = analytics(services).compare("all")
    assert [w for w in company.now.weeks] == ["2026-W48"]
    assert values(company, "all") == {
        "active_users_daily": round(6 / 7, 2),  # Mon 2, Tue 1, Wed 1, Thu 2
        "active_users_weekly": 5,
        "active_users_monthly": 6,  # + c1 of W46; c2 asked in W44, outside the 28 days
        "questions": 8,
        "answered_share": 0.75,
        "refused_share": 0.25,
        "thumbs_up_share": 0.6,  # 3 up of 5 votes
        "self_service_share": round(2 / 3, 4),
        "drafts_requested": 6,
        "approval_rate": 0.8,  # 4 approved of 5 decided (the pending one is not decided)
        "approved_as_is_rate": 0.75,  # 3 of the 4 approved without an edit
        "approval_minutes_p50": 20,  # of 10, 20, 30, 60 minutes
        "approval_minutes_p90": 60,
        "nps": 25.0,  # 2 promoters, 1 detractor of 4 answers (the dismissal does not count)
    }
    people = {n: f.now.people for n, f in figures(company, "all").items()}
    assert people["questions"] == 5 and people["thumbs_up_share"] == 4
    assert people["approved_as_is_rate"] == 3 and people["nps"] == 4
    assert company.baseline is None
    assert all(f.baseline is None and f.change_pct is None
               for f in figures(company, "all").values())  # absent, not zero


def test_team_figures_shown_at_k_and_suppressed_below(services: Services,
                                                      world: dict[str, int]) -> None:
    teams = analytics(services, k=3).compare("team")
    assert [g.group for g in teams.groups] == ["blue", "red"]  # by name, not ranked
    red = values(teams, "red")
    assert red["questions"] == 5 and red["answered_share"] == 0.8
    assert red["active_users_daily"] == round(4 / 7, 2)
    assert red["thumbs_up_share"] == 0.75 and red["nps"] == 33.3
    assert red["approved_as_is_rate"] is None  # a1 and a3 approved: 2 people, fewer than 3
    assert figures(teams, "red")["approved_as_is_rate"].now.suppressed
    blue = figures(teams, "blue")  # two people: nothing at all, not even the head count
    assert all(f.now == Value(value=None, people=None, suppressed=True)
               for f in blue.values())
    stricter = analytics(services, k=4).compare("team")  # red has 3 people: now below k
    assert all(f.now.suppressed for f in figures(stricter, "red").values())


def test_company_totals_obey_the_rule_too(services: Services, world: dict[str, int]) -> None:
    company = figures(analytics(services, k=5).compare("all"), "all")
    assert company["questions"].now == Value(value=8, people=5, suppressed=False)
    assert company["thumbs_up_share"].now.suppressed  # 4 voters
    assert company["nps"].now.suppressed


def test_roles_and_collections(services: Services, world: dict[str, int]) -> None:
    service = analytics(services)
    roles = service.compare("role")
    assert values(roles, "agent")["questions"] == 8
    assert figures(roles, "admin")["questions"].now.suppressed  # nobody holds it
    collections = service.compare("collection")
    assert [g.group for g in collections.groups] == ["hr", "kb"]
    kb = values(collections, "kb")
    assert kb["questions"] == 6 and kb["refused_share"] == round(2 / 6, 4)
    hr = figures(collections, "hr")  # a3 and b1 only
    assert hr["questions"].now.suppressed
    assert kb["nps"] is None and not figures(collections, "kb")["nps"].now.suppressed


def test_baseline_then_now_and_the_change(services: Services, world: dict[str, int]) -> None:
    service = analytics(services)
    admin = Principal(user_id=None, username="boss", roles=frozenset({"admin"}))
    chosen = service.choose_baseline(W46 + timedelta(days=2), W46 + timedelta(days=3), admin)
    assert chosen.period.weeks == ["2026-W46"] and chosen.period.start == W46
    company = figures(service.compare("all"), "all")
    assert company["questions"].baseline.value == 3
    assert company["questions"].change_pct == round((8 - 3) / 3 * 100, 1)
    assert company["answered_share"].baseline.value == round(2 / 3, 4)
    assert company["answered_share"].change_pct == 12.5
    assert company["active_users_monthly"].baseline.value == 4  # a1, a2, c1 and c2
    assert company["thumbs_up_share"].baseline.suppressed  # no votes in W46
    assert company["thumbs_up_share"].change_pct is None
    entry = services.audit.latest("analytics_baseline_set")
    assert entry is not None and entry["details"] == {"start": "2026-11-11",
                                                      "end": "2026-11-12"}


def test_baseline_rules(services: Services, world: dict[str, int]) -> None:
    service = analytics(services)
    admin = Principal(user_id=None, username="boss", roles=frozenset({"admin"}))
    manager = Principal(user_id=None, username="meg", roles=frozenset({"manager"}))
    with pytest.raises(Forbidden):
        service.choose_baseline(W46, W46, manager)
    assert service.baselines.current() is None
    wide = service.choose_baseline(date(1, 1, 1), date(9999, 12, 31), admin)
    assert (wide.start, wide.end) == (date(1, 1, 1), date(9999, 12, 31))  # as chosen
    assert wide.period.start == date(1999, 12, 27)  # read within 2000-2099: no data outside
    assert wide.period.end == date(2100, 1, 3)
    both = figures(service.compare("all"), "all")["questions"]
    assert both.baseline is not None and both.baseline.value == 12  # every question stored
    chosen = service.choose_baseline(W48, W46, admin)  # either order: the earlier starts
    assert (chosen.start, chosen.end) == (W46, W48)
    assert chosen.period.weeks == ["2026-W46", "2026-W47", "2026-W48"]
    assert service.baselines.current() == chosen


def test_weekly_series_and_its_csv(services: Services, world: dict[str, int]) -> None:
    series = analytics(services).series("team", weeks=3)
    assert series.period.weeks == ["2026-W46", "2026-W47", "2026-W48"]
    red = next(g for g in series.groups if g.group == "red")
    assert [w.figures["questions"].value for w in red.weeks] == [None, None, 5]
    assert red.weeks[0].figures["questions"].suppressed  # a1 and a2 in W46: fewer than 3
    text = series_csv(series)
    lines = text.splitlines()
    assert lines[0] == "week,week_start,by,group,figure,value,people,suppressed"
    assert "2026-W48,2026-11-23,team,red,questions,5,3,false" in lines
    assert "2026-W48,2026-11-23,team,blue,questions,,,true" in lines
    assert len(lines) == 1 + 2 * 3 * 14


def test_the_collection_breakdown_folds_to_the_same_cells_as_per_person_rows(
        services: Services, world: dict[str, int]) -> None:
    """The per-collection figures read one row per week and collections with the people as a
    list of ids (fast); folding the same weeks one row per person gives the very same cells."""
    from app.analytics.figures import Folder, collection_groups
    from app.analytics.queries import FigureQueries, Window
    from app.analytics.rollups import refresh

    window = Window(at(W46 - timedelta(weeks=3), 0), at(W48 + timedelta(weeks=1), 0), True)
    with services.sessions() as session:
        refresh(session)
        session.commit()
        queries = FigureQueries(session)
        grouped, per_person = (Folder(lambda _u, coll: collection_groups(coll))
                               for _ in range(2))
        grouped.answers_by_collections(queries.answers_by_collections(window))
        grouped.feedback_by_collections(queries.feedback_by_collections(window))
        per_person.answers(queries.answers(window))
        per_person.feedback(queries.feedback(window))
    assert grouped.cells == per_person.cells
    kb = [c for c in grouped.cells["kb"].values() if c.votes]
    assert kb and all(c.voters for c in kb)  # the feedback side was folded too
