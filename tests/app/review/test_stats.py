"""Review statistics against a hand-built set of drafts with known figures, on SQLite and
PostgreSQL, and the HTTP route that serves them.

The fixture: claim and decide are seconds after creation; T0 is Monday 2025-03-03 09:00 UTC
(ISO week 10) and the W11 drafts are created a week later; scores are accuracy, completeness,
tone, citations.

    id  collections   teams     prompt model state        scores  edit reason  claim decide by
    d1  kb-a          a         @1     m1    approved     5 4 5 4 0.0           60    600 ann
    d2  kb-a          a         @1     m1    approved     4 4 3 5 0.25         120   1200 ann
    d3  kb-a kb-b     a b  W11  @2     m2    approved     3 3 3 3 0.5          300   3000 bob
    d4  kb-b          b    W11  @2     m1    rejected     1 2 3 2      wrong    30     90 bob
    d5  kb-a          a         @1     m2    rejected     4 4 1 4      tone    600    900 ann
    d6  kb-b          -    W11  @2     m2    rejected     2 2 2 2      wrong   240    480 bob
    d7  kb-a          a    W11  @1     m1    pending
    d8  kb-a          a         @1     m1    in_review                          45
    d9  kb-b          b         @2     m2    changes_req                       150
    x1  kb-secret     a         @1     m1    approved     1 1 1 1 1.0           10     20 ann
    x2  kb-a kb-secret a        @1     m1    rejected     1 1 1 1      refuse   10     20 bob

(wrong: wrong_facts, refuse: should_not_answer.) x1 and x2 draw on a collection the caller
can't read and must not count anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import make_engine, migrate, session_factory
from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.identity.users import UserService
from app.review.records import StatsReport
from app.review.stats import ReviewStats
from app.review.tables import Draft
from app.review.vocabulary import Grouping
from models.fakes import FakeLLM
from tests.world import build_world

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
W11 = T0 + timedelta(days=7)
READABLE = frozenset({"kb-a", "kb-b"})
NO_SCORES = {"accuracy": None, "completeness": None, "tone": None, "citations": None}


@dataclass(frozen=True)
class Row:
    id: str
    collections: list[str]
    teams: list[str]
    prompt: str
    model: str
    state: str
    scores: tuple[int, int, int, int] | None = None
    edit: float | None = None
    reason: str | None = None
    claim_s: float | None = None
    decide_s: float | None = None
    by: str | None = None
    created: datetime = T0


ROWS = [
    Row("d1", ["kb-a"], ["team-a"], "customer_reply@1", "m1", "approved", (5, 4, 5, 4), 0.0,
        None, 60, 600, "ann"),
    Row("d2", ["kb-a"], ["team-a"], "customer_reply@1", "m1", "approved", (4, 4, 3, 5), 0.25,
        None, 120, 1200, "ann"),
    Row("d3", ["kb-a", "kb-b"], ["team-a", "team-b"], "customer_reply@2", "m2", "approved",
        (3, 3, 3, 3), 0.5, None, 300, 3000, "bob", W11),
    Row("d4", ["kb-b"], ["team-b"], "customer_reply@2", "m1", "rejected", (1, 2, 3, 2), None,
        "wrong_facts", 30, 90, "bob", W11),
    Row("d5", ["kb-a"], ["team-a"], "customer_reply@1", "m2", "rejected", (4, 4, 1, 4), None,
        "tone", 600, 900, "ann"),
    Row("d6", ["kb-b"], [], "customer_reply@2", "m2", "rejected", (2, 2, 2, 2), None,
        "wrong_facts", 240, 480, "bob", W11),
    Row("d7", ["kb-a"], ["team-a"], "customer_reply@1", "m1", "pending", created=W11),
    Row("d8", ["kb-a"], ["team-a"], "customer_reply@1", "m1", "in_review", claim_s=45),
    Row("d9", ["kb-b"], ["team-b"], "customer_reply@2", "m2", "changes_requested", claim_s=150),
    Row("x1", ["kb-secret"], ["team-a"], "customer_reply@1", "m1", "approved", (1, 1, 1, 1),
        1.0, None, 10, 20, "ann"),
    Row("x2", ["kb-a", "kb-secret"], ["team-a"], "customer_reply@1", "m1", "rejected",
        (1, 1, 1, 1), None, "should_not_answer", 10, 20, "bob"),
]


def insert(sessions: sessionmaker[Session], rows: list[Row], users: dict[str, int]) -> None:
    def after(r: Row, seconds: float | None) -> datetime | None:
        return None if seconds is None else r.created + timedelta(seconds=seconds)

    with sessions() as session:
        for r in rows:
            session.add(Draft(
                id=r.id, created_at=r.created, submitted_at=r.created, author_id=1,
                author_teams=r.teams, answer_id="a" * 32, collections=r.collections,
                question=f"question {r.id}", prompt=r.prompt, model_id=r.model,
                generated_text="Renew the certificate.", text="Renew the certificate.",
                state=r.state, first_claimed_at=after(r, r.claim_s),
                decided_at=after(r, r.decide_s),
                decided_by=users[r.by] if r.by else None, reason=r.reason,
                edit_distance=r.edit, final_text="Renewed." if r.state == "approved" else None,
                scores=None if r.scores is None else dict(zip(
                    ("accuracy", "completeness", "tone", "citations"), r.scores, strict=True))))
        session.commit()


@pytest.fixture
def stats(db_settings: Settings) -> Iterator[ReviewStats]:
    engine = make_engine(db_settings.resolved_database_url)
    migrate(engine)
    sessions = session_factory(engine)
    users = UserService(sessions)
    ids = {name: users.create(name, roles=["reviewer"]).id for name in ("ann", "bob")}
    insert(sessions, ROWS, ids)
    try:
        yield ReviewStats(sessions)
    finally:
        engine.dispose()


def groups(result: StatsReport | dict[str, Any], *fields: str) -> dict[str, tuple[Any, ...]]:
    """The ``fields`` of every group by its key, from a report or from its JSON."""
    data = result.model_dump() if isinstance(result, StatsReport) else result
    return {g["key"]: tuple(g[f] for f in fields) for g in data["groups"]}


ALL = {
    "drafts": 9, "pending": 2, "approved": 3, "rejected": 3, "changes_requested": 1,
    "approval_rate": 0.5, "approved_as_is_rate": 0.3333,
    # (5+4+3+1+4+2)/6, (4+4+3+2+4+2)/6, (5+3+3+3+1+2)/6, (4+5+3+2+4+2)/6
    "mean_scores": {"accuracy": 3.1667, "completeness": 3.1667, "tone": 2.8333,
                    "citations": 3.3333},
    "mean_edit_distance": 0.25,
    # claims 30 45 60 120 150 240 300 600: p50 = (120+150)/2, p90 = 300 + 0.3 * 300
    "first_review_s": {"p50": 135.0, "p90": 390.0},
    # decisions 90 480 600 900 1200 3000: p50 = (600+900)/2, p90 = 1200 + 0.5 * 1800
    "decision_s": {"p50": 750.0, "p90": 2100.0},
    "rejection_reasons": {"tone": 1, "wrong_facts": 2},
}


def test_overall_figures_follow_their_definitions(stats: ReviewStats) -> None:
    result = stats.stats("all", readable=READABLE)
    assert result.group_by == "all"
    assert result.overall.model_dump() == ALL
    assert [g.model_dump() for g in result.groups] == [{"key": "all"} | ALL]


def test_by_prompt(stats: ReviewStats) -> None:
    result = stats.stats("prompt", readable=READABLE)
    assert [g.model_dump() for g in result.groups] == [
        {"key": "customer_reply@1", "drafts": 5, "pending": 2, "approved": 2, "rejected": 1,
         "changes_requested": 0, "approval_rate": 0.6667, "approved_as_is_rate": 0.5,
         "mean_scores": {"accuracy": 4.3333, "completeness": 4.0, "tone": 3.0,
                         "citations": 4.3333},
         "mean_edit_distance": 0.125,
         # claims 45 60 120 600; decisions 600 900 1200
         "first_review_s": {"p50": 90.0, "p90": 456.0},
         "decision_s": {"p50": 900.0, "p90": 1140.0},
         "rejection_reasons": {"tone": 1}},
        {"key": "customer_reply@2", "drafts": 4, "pending": 0, "approved": 1, "rejected": 2,
         "changes_requested": 1, "approval_rate": 0.3333, "approved_as_is_rate": 0.0,
         "mean_scores": {"accuracy": 2.0, "completeness": 2.3333, "tone": 2.6667,
                         "citations": 2.3333},
         "mean_edit_distance": 0.5,
         # claims 30 150 240 300; decisions 90 480 3000
         "first_review_s": {"p50": 195.0, "p90": 282.0},
         "decision_s": {"p50": 480.0, "p90": 2496.0},
         "rejection_reasons": {"wrong_facts": 2}},
    ]
    assert result.overall.model_dump() == ALL


FIELDS = ("drafts", "approved", "rejected", "approval_rate", "approved_as_is_rate",
          "mean_edit_distance")


@pytest.mark.parametrize(("group_by", "expected"), [
    ("model", {"m1": (5, 2, 1, 0.6667, 0.5, 0.125), "m2": (4, 1, 2, 0.3333, 0.0, 0.5)}),
    # d3 counts in both of its collections
    ("collection", {"kb-a": (6, 3, 1, 0.75, 0.3333, 0.25),
                    "kb-b": (4, 1, 2, 0.3333, 0.0, 0.5)}),
    ("team", {"(no team)": (1, 0, 1, 0.0, None, None), "team-a": (6, 3, 1, 0.75, 0.3333, 0.25),
              "team-b": (3, 1, 1, 0.5, 0.0, 0.5)}),
    ("reviewer", {"(undecided)": (3, 0, 0, None, None, None),
                  "ann": (3, 2, 1, 0.6667, 0.5, 0.125), "bob": (3, 1, 2, 0.3333, 0.0, 0.5)}),
    ("week", {"2025-W10": (5, 2, 1, 0.6667, 0.5, 0.125),
              "2025-W11": (4, 1, 2, 0.3333, 0.0, 0.5)}),
])
def test_grouped_figures(stats: ReviewStats, group_by: Grouping,
                         expected: dict[str, tuple[Any, ...]]) -> None:
    result = stats.stats(group_by, readable=READABLE)
    assert groups(result, *FIELDS) == expected
    assert [g.key for g in result.groups] == sorted(expected)
    assert result.overall.model_dump() == ALL


def test_groups_without_decisions_have_no_figures(stats: ReviewStats) -> None:
    undecided = stats.stats("reviewer", readable=READABLE).groups[0]
    assert undecided.key == "(undecided)"
    assert (undecided.mean_scores, undecided.decision_s.model_dump(),
            undecided.rejection_reasons) == (NO_SCORES, {"p50": None, "p90": None}, {})
    # claims 45 and 150 (d8, d9): p50 = 97.5, p90 = 45 + 0.9 * 105
    assert undecided.first_review_s.model_dump() == {"p50": 97.5, "p90": 139.5}
    team_b = groups(stats.stats("team", readable=READABLE), "mean_scores")["team-b"][0]
    assert team_b == {"accuracy": 2.0, "completeness": 2.5, "tone": 3.0, "citations": 2.5}


def test_drafts_in_unreadable_collections_are_left_out(stats: ReviewStats) -> None:
    for group_by in ("all", "collection", "reviewer", "prompt"):
        result = stats.stats(group_by, readable=READABLE)
        assert result.overall.drafts == 9, group_by
        assert "kb-secret" not in {g.key for g in result.groups}
    only_a = stats.stats("collection", readable={"kb-a"})
    assert groups(only_a, "drafts") == {"kb-a": (5,)}  # d1 d2 d5 d7 d8: d3 also needs kb-b
    # the positive control: a caller who reads kb-secret sees both
    everything = stats.stats("all", readable=READABLE | {"kb-secret"}).overall
    assert (everything.drafts, everything.approved, everything.rejected) == (11, 4, 4)
    assert everything.rejection_reasons == {"should_not_answer": 1, "tone": 1,
                                               "wrong_facts": 2}


def test_since_counts_drafts_created_from_then_on(stats: ReviewStats) -> None:
    later = stats.stats("all", readable=READABLE, since=W11).overall
    assert (later.drafts, later.approved, later.rejected) == (4, 1, 2)  # d3 d4 d6 d7
    assert stats.stats("all", readable=READABLE, since=W11 + timedelta(seconds=1)
                       ).overall.drafts == 0


def test_since_means_the_same_instant_in_any_timezone(stats: ReviewStats,
                                                      db_settings: Settings) -> None:
    amsterdam = W11.astimezone(timezone(timedelta(hours=2)))
    assert amsterdam == W11
    assert stats.stats("all", readable=READABLE, since=amsterdam).overall.drafts == 4


def test_an_unknown_grouping_is_refused(stats: ReviewStats) -> None:
    with pytest.raises(InvalidInput, match="group_by is one of") as caught:
        stats.stats("ticket", readable=READABLE)  # type: ignore[arg-type]  # on purpose
    assert caught.value.code == "invalid_group"


def test_the_stats_route_serves_reviewers_and_evaluators_only(settings: Settings,
                                                              tmp_path: Path) -> None:
    llm = FakeLLM(["VPN error NWL-VPN-809 means the device certificate expired [1]."])
    with build_world(settings, tmp_path, llm) as world:
        with world.services.sessions() as session:  # start from an empty queue
            session.execute(delete(Draft))
            session.commit()
        ids = {}
        for author, collection, question in (
                ("agent_a", "kb-a", "What does VPN error NWL-VPN-809 mean?"),
                ("agent_b", "kb-b", "When are the Acme Corp contract renewals due?")):
            r = world.as_(author).post("/v1/drafts", json={"question": question,
                                                           "collections": [collection]})
            assert r.status_code == 201, r.text
            ids[author] = r.json()["draft_id"]
        path = f"/v1/review/drafts/{ids['agent_b']}"  # the kb-b draft is approved
        for step, body in (("claim", None), ("approve", {"scores": {
                "accuracy": 5, "completeness": 5, "tone": 5, "citations": 5}})):
            assert world.as_("admin").post(f"{path}/{step}", json=body).status_code == 200

        # reviewer and evaluator (team-a) see only the pending kb-a draft; admin sees both
        expected = {"reviewer": (1, 0), "evaluator": (1, 0), "admin": (2, 1)}
        for caller, (drafts, approved) in expected.items():
            r = world.as_(caller).get("/v1/review/stats", params={"group_by": "prompt"})
            assert r.status_code == 200, (caller, r.text)
            assert groups(r.json(), "drafts", "approved") == {
                "customer_reply@1": (drafts, approved)}, caller
        r = world.as_("agent_a").get("/v1/review/stats", params={"group_by": "prompt"})
        assert (r.status_code, r.json()["error"]["code"]) == (403, "missing_role")
        assert world.as_("anonymous").get("/v1/review/stats").status_code == 401
        r = world.as_("reviewer").get("/v1/review/stats", params={"group_by": "ticket"})
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")
        r = world.as_("reviewer").get("/v1/review/stats", params={"group_by": "team"})
        assert groups(r.json(), "drafts") == {"team-a": (1,)}
