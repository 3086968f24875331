"""The review queue on SQLite and PostgreSQL: the state machine, races between real
transactions, lapsed claims, who may see which draft, the queue listing, edit distance, the
trail every transition leaves, ratings and the test cases made from reviewed drafts.

Drafts are made from one chat answer per author (``POST /v1/answers/{id}/draft``), so a
fresh draft costs no generation; each state is reached by driving the API from a fresh draft.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from rapidfuzz.distance import Levenshtein
from sqlalchemy import delete, func, select, update

from app.core.errors import Conflict, InvalidInput
from app.core.principal import Principal
from app.core.settings import AuthSettings, ReviewSettings, Settings
from app.core.tables import utcnow
from app.review import records
from app.review.queue import Rating
from app.review.tables import Draft, DraftEvent, EvalCandidate, WebhookDelivery
from app.wiring import Services
from eval.sets_format import parse_lines
from models.fakes import FakeLLM
from tests.access import make_user, without_request_id
from tests.world import World, build_world

if TYPE_CHECKING:
    from httpx2 import Response  # what starlette's TestClient returns

REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."
QUESTIONS = {"kb-a": "What does VPN error NWL-VPN-809 mean?",
             "kb-b": "When are the Acme Corp contract renewals due?"}
SCORES = {"accuracy": 4, "completeness": 4, "tone": 5, "citations": 4}
CLAIM_MINUTES = 45.0
CHANGES = "Tell them to reconnect on the office network."
HOOK = "http://127.0.0.1:9/"  # the discard port; the sender is stopped, deliveries are counted
ROUNDS = 10
EXTRA_USERS = (("reviewer2", ["reviewer"], ["team-a"]), ("reviewer_b", ["reviewer"], ["team-b"]),
               ("reviewer_ab", ["reviewer"], ["team-a", "team-b"]),
               ("agent_a2", ["agent"], ["team-a"]))

# action -> (method, path, body); {id} is the draft
ACTIONS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "claim": ("POST", "/v1/review/drafts/{id}/claim", None),
    "release": ("POST", "/v1/review/drafts/{id}/release", None),
    "edit": ("PATCH", "/v1/review/drafts/{id}", {"text": "Your device certificate expired."}),
    "approve": ("POST", "/v1/review/drafts/{id}/approve", {"scores": SCORES}),
    "reject": ("POST", "/v1/review/drafts/{id}/reject", {"scores": SCORES, "reason": "tone"}),
    "request_changes": ("POST", "/v1/review/drafts/{id}/request-changes",
                        {"comment": CHANGES}),
    "resubmit": ("POST", "/v1/drafts/{id}/resubmit", {"note": "added the office network"}),
}
REVIEWING = ("claim", "release", "edit", "approve", "reject", "request_changes")
OK, ILLEGAL, OTHER, LAPSED = "ok", "illegal_transition", "claimed_by_other", "claim_expired"
AFTER = {"claim": "in_review", "release": "pending", "edit": "in_review", "approve": "approved",
         "reject": "rejected", "request_changes": "changes_requested", "resubmit": "pending"}
# state the draft is in -> action -> OK or the 409 code. The reviewer acts ("reviewer" holds
# the claim in in_review and lapsed; "reviewer2" holds it in claimed_by_other), the author
# resubmits. Re-claiming your own live claim renews it.
MATRIX: dict[str, dict[str, str]] = {
    "pending": dict.fromkeys(ACTIONS, ILLEGAL) | {"claim": OK},
    "in_review": dict.fromkeys(REVIEWING, OK) | {"resubmit": ILLEGAL},
    "claimed_by_other": dict.fromkeys(REVIEWING, OTHER) | {"resubmit": ILLEGAL},
    "lapsed": dict.fromkeys(REVIEWING, LAPSED) | {"claim": OK, "resubmit": ILLEGAL},
    "approved": dict.fromkeys(ACTIONS, ILLEGAL),
    "rejected": dict.fromkeys(ACTIONS, ILLEGAL),
    "changes_requested": dict.fromkeys(ACTIONS, ILLEGAL) | {"resubmit": OK},
}


@dataclass
class Desk:
    """A two-team world with extra reviewers and one chat answer per (author, collections)."""

    world: World
    answers: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        return self.world.services

    def do(self, caller: str, action: str, draft_id: str,
           body: dict[str, Any] | None = None) -> Response:
        method, path, default = ACTIONS[action]
        return self.world.as_(caller).request(method, path.format(id=draft_id),
                                              json=default if body is None else body)

    def ok(self, caller: str, action: str, draft_id: str,
           body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.do(caller, action, draft_id, body)
        assert r.status_code == 200, (action, r.text)
        data: dict[str, Any] = r.json()
        return data

    def draft(self, author: str = "agent_a", collections: Sequence[str] = ("kb-a",)) -> str:
        key = (author, tuple(collections))
        client = self.world.as_(author)
        if key not in self.answers:
            r = client.post("/v1/chat", json={"question": QUESTIONS[collections[-1]],
                                              "collections": list(collections)})
            assert r.status_code == 200, r.text
            self.answers[key] = r.json()["answer_id"]
        r = client.post(f"/v1/answers/{self.answers[key]}/draft",
                        json={"customer": {"name": "Ms Jansen", "ticket_id": "T-1"}})
        assert r.status_code == 201, r.text
        assert r.json()["collections"] == list(collections)
        draft_id: str = r.json()["draft_id"]
        return draft_id

    def at(self, state: str, author: str = "agent_a") -> str:
        """A fresh draft driven into ``state`` (see MATRIX for the claimed ones)."""
        draft_id = self.draft(author)
        if state == "pending":
            return draft_id
        self.ok("reviewer2" if state == "claimed_by_other" else "reviewer", "claim", draft_id)
        if state == "lapsed":
            self.expire(draft_id)
        elif state in ("approved", "rejected"):
            self.ok("reviewer", {"approved": "approve", "rejected": "reject"}[state], draft_id)
        elif state == "changes_requested":
            self.ok("reviewer", "request_changes", draft_id)
        return draft_id

    def expire(self, draft_id: str) -> None:
        self.set(draft_id, claim_expires_at=utcnow() - timedelta(minutes=1))

    def set(self, draft_id: str, **values: Any) -> None:
        with self.services.sessions() as session:
            session.execute(update(Draft).where(Draft.id == draft_id).values(**values))
            session.commit()

    def row(self, draft_id: str) -> Draft:
        with self.services.sessions() as session:
            return session.get_one(Draft, draft_id)

    def count(self, table: type[DraftEvent] | type[WebhookDelivery], draft_id: str,
              **where: Any) -> int:
        with self.services.sessions() as session:
            stmt = select(func.count()).select_from(table).where(table.draft_id == draft_id)
            for key, value in where.items():
                stmt = stmt.where(getattr(table, key) == value)
            return int(session.scalar(stmt) or 0)

    def principal(self, username: str) -> tuple[Principal, frozenset[str]]:
        who = self.services.identity.as_user(username)
        return who, self.services.access.readable(who)

    def listed(self, caller: str, **params: Any) -> list[str]:
        r = self.world.as_(caller).get("/v1/review/drafts", params=params)
        assert r.status_code == 200, r.text
        return [d["draft_id"] for d in r.json()["drafts"]]


@pytest.fixture
def desk(db_settings: Settings, tmp_path: Path) -> Iterator[Desk]:
    settings = db_settings.model_copy(update={
        "review": ReviewSettings(claim_minutes=CLAIM_MINUTES, webhook_urls=[HOOK]),
        "auth": AuthSettings(chat_rate="10000/minute")})
    with build_world(settings, tmp_path, FakeLLM([REPLY])) as world:
        world.services.webhooks.stop()  # nothing is sent: the tests count delivery rows
        with world.services.sessions() as session:  # each test starts with an empty queue
            session.execute(delete(Draft))
            session.commit()
        for name, roles, teams in EXTRA_USERS:
            world.tokens[name] = make_user(world.services, name, roles, teams)
        yield Desk(world)


def race(fn: Callable[[Principal, frozenset[str]], Any],
         callers: Sequence[tuple[Principal, frozenset[str]]]) -> list[Any]:
    """Run ``fn`` for every caller at the same moment, each on its own thread (and so on its
    own database connection); return each result or the exception it raised."""
    barrier = threading.Barrier(len(callers))
    results: list[Any] = [None] * len(callers)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = fn(*callers[i])
        except Exception as exc:  # the outcome under test, collected for the main thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(callers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    return results


def _approve(services: Services, draft_id: str, who: Principal,
             readable: frozenset[str]) -> records.Draft:
    return services.review.approve(draft_id, who, Rating(SCORES, comment=f"ok by {who.username}"),
                                   readable=readable, text=f"Approved by {who.username}.")


def _claim(services: Services, draft_id: str, who: Principal,
           readable: frozenset[str]) -> records.Draft:
    return services.review.claim(draft_id, who, readable=readable)


def _candidate(services: Services, draft_id: str, who: Principal,
               readable: frozenset[str]) -> records.EvalCandidate:
    return services.review.make_candidate(draft_id, who, readable=readable)


# -- the state machine -------------------------------------------------------------------


def test_every_state_allows_exactly_the_transitions_of_the_diagram(desk: Desk) -> None:
    assert set(MATRIX) == {"pending", "in_review", "claimed_by_other", "lapsed", "approved",
                           "rejected", "changes_requested"}
    wrong: dict[tuple[str, str], Any] = {}
    for state, row in MATRIX.items():
        assert set(row) == set(ACTIONS), state
        for action, expected in row.items():
            draft_id = desk.at(state)
            before = desk.row(draft_id)
            caller = "agent_a" if action == "resubmit" else "reviewer"
            r = desk.do(caller, action, draft_id)
            after = desk.row(draft_id)
            if expected == OK:
                if r.status_code != 200 or after.state != AFTER[action]:
                    wrong[state, action] = (r.status_code, after.state, r.text[:200])
                continue
            error = r.json().get("error", {})
            if r.status_code != 409 or error.get("code") != expected:
                wrong[state, action] = (r.status_code, error, expected)
                continue
            # refused means untouched, and the message says why in words
            if (after.state, after.assignee_id, after.text, after.claim_expires_at) != (
                    before.state, before.assignee_id, before.text, before.claim_expires_at):
                wrong[state, action] = ("changed", before.state, after.state)
            why = {ILLEGAL: before.state.replace("_", " "), OTHER: "reviewer2 holds",
                   LAPSED: "claim has lapsed"}[expected]
            if why not in error["message"]:
                wrong[state, action] = ("unclear", error["message"], why)
    assert not wrong, wrong


def test_a_refused_transition_leaves_no_trail(desk: Desk) -> None:
    draft_id = desk.at("approved")
    events = desk.count(DraftEvent, draft_id)
    assert desk.do("reviewer", "reject", draft_id).status_code == 409
    assert desk.do("reviewer2", "claim", draft_id).status_code == 409
    assert desk.count(DraftEvent, draft_id) == events == 3  # create, claim, approve
    actions = [e["action"] for e in desk.services.audit.entries() if e["target"] == draft_id]
    assert actions == ["draft_created", "draft_claim", "draft_approve"]


# -- races between real transactions -------------------------------------------------------


def test_two_approvals_at_the_same_moment_approve_once(desk: Desk) -> None:
    racers = [desk.principal("reviewer"), desk.principal("admin")]
    winners: list[str | None] = []
    for _ in range(ROUNDS):
        draft_id = desk.at("in_review")
        outcomes = race(partial(_approve, desk.services, draft_id), racers)
        won = [o for o in outcomes if isinstance(o, records.Draft)]
        lost = [o for o in outcomes if not isinstance(o, records.Draft)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert isinstance(lost[0], Conflict), lost[0]
        assert lost[0].code == ILLEGAL and "approved" in lost[0].message
        winner = won[0].decided_by
        winners.append(winner)
        row = desk.row(draft_id)
        # the loser wrote nothing: text, comment and decider are all the winner's
        assert (row.state, row.final_text, row.comment) == (
            "approved", f"Approved by {winner}.", f"ok by {winner}")
        assert desk.count(DraftEvent, draft_id, action="approve") == 1
        assert desk.count(WebhookDelivery, draft_id) == 1
        with desk.services.sessions() as session:
            payload = session.scalars(select(WebhookDelivery.payload)
                                      .where(WebhookDelivery.draft_id == draft_id)).one()
        assert (payload["approved_by"], payload["final_text"]) == (winner,
                                                                   f"Approved by {winner}.")
    approvals = [e for e in desk.services.audit.entries() if e["action"] == "draft_approve"]
    assert len(approvals) == ROUNDS
    assert set(winners) <= {"reviewer", "admin"}


def test_two_reviewers_claiming_at_once_leave_one_holder(desk: Desk) -> None:
    racers = [desk.principal("reviewer"), desk.principal("reviewer2")]
    ids: dict[str | None, int | None] = {p.username: p.user_id for p, _ in racers}
    for _ in range(ROUNDS):
        draft_id = desk.at("pending")
        outcomes = race(partial(_claim, desk.services, draft_id), racers)
        won = [o for o in outcomes if isinstance(o, records.Draft)]
        lost = [o for o in outcomes if not isinstance(o, records.Draft)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert isinstance(lost[0], Conflict) and lost[0].code == OTHER, lost[0]
        holder = won[0].assignee
        assert f"{holder} holds this draft" in lost[0].message
        assert desk.row(draft_id).assignee_id == ids[holder]
        assert desk.count(DraftEvent, draft_id, action="claim") == 1


def test_two_reviewers_making_the_same_test_case_at_once_get_one_case(desk: Desk) -> None:
    draft_id = desk.at("approved")
    racers = [desk.principal("reviewer"), desk.principal("reviewer2")]
    with desk.services.sessions() as blocker:
        # an uncommitted case for the draft holds the write lock (SQLite) or the unique key
        # (PostgreSQL): both racers look, find nothing, and queue up behind it to insert
        blocker.add(EvalCandidate(id="0" * 32, draft_id=draft_id, created_by="test", case={}))
        blocker.flush()
        outcomes: list[Any] = []
        racing = threading.Thread(target=lambda: outcomes.extend(
            race(partial(_candidate, desk.services, draft_id), racers)))
        racing.start()
        time.sleep(0.8)  # both racers are waiting behind the blocker well before this
        blocker.rollback()
    racing.join(timeout=60)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "EvalCandidate"], outcomes
    assert [o.code for o in outcomes if isinstance(o, Conflict)] == ["candidate_exists"]


# -- claims that lapse ---------------------------------------------------------------------


def test_a_lapsed_claim_can_be_taken_over_and_an_admin_may_decide_anyway(desk: Desk) -> None:
    draft_id = desk.draft()
    claimed = desk.ok("reviewer", "claim", draft_id)
    expires = datetime.fromisoformat(claimed["claim_expires_at"])
    assert abs((expires - utcnow()).total_seconds() - CLAIM_MINUTES * 60) < 60
    first_claim = desk.row(draft_id).first_claimed_at
    listed = desk.world.as_("reviewer2").get("/v1/review/drafts").json()["drafts"]
    assert [(d["draft_id"], d["assignee"]) for d in listed] == [(draft_id, "reviewer")]
    # a live claim keeps everyone else out
    assert desk.do("reviewer2", "claim", draft_id).json()["error"]["code"] == OTHER

    desk.expire(draft_id)
    listed = desk.world.as_("reviewer2").get("/v1/review/drafts").json()["drafts"]
    assert [(d["state"], d["assignee"], d["claim_expires_at"]) for d in listed] == [
        ("in_review", None, None)]
    for action in ("approve", "edit", "reject", "request_changes", "release"):
        r = desk.do("reviewer", action, draft_id)
        assert (r.status_code, r.json()["error"]["code"]) == (409, LAPSED), action
    assert desk.row(draft_id).text == desk.row(draft_id).generated_text

    taken = desk.ok("reviewer2", "claim", draft_id)
    assert (taken["state"], taken["assignee"]) == ("in_review", "reviewer2")
    assert desk.row(draft_id).first_claimed_at == first_claim  # time to first review stays
    r = desk.do("reviewer", "approve", draft_id)
    assert (r.status_code, r.json()["error"]["code"]) == (409, OTHER)
    assert "reviewer2" in r.json()["error"]["message"]

    decided = desk.ok("admin", "approve", draft_id, {"scores": SCORES, "comment": "admin"})
    assert (decided["state"], decided["decided_by"]) == ("approved", "admin")


def test_a_lapsed_claim_is_nobodys_in_the_assignee_filter(desk: Desk) -> None:
    held, lapsed = desk.at("in_review"), desk.at("lapsed")
    assert desk.listed("reviewer2", assignee="reviewer") == [held]
    assert lapsed in desk.listed("reviewer2", state="in_review")


# -- who may see what ------------------------------------------------------------------------


def test_reviewers_see_only_drafts_on_collections_they_read(desk: Desk) -> None:
    a, b = desk.draft("agent_a"), desk.draft("agent_b", ("kb-b",))
    ab = desk.draft("agent_ab", ("kb-a", "kb-b"))
    assert desk.listed("reviewer") == [a]
    assert desk.listed("reviewer_b") == [b]
    assert desk.listed("reviewer_ab") == [a, b, ab]
    assert desk.listed("admin") == [a, b, ab]
    unknown = desk.world.as_("reviewer").get("/v1/review/drafts/" + "0" * 32).json()
    for caller, draft_id in (("reviewer", b), ("reviewer", ab), ("reviewer_b", a),
                             ("reviewer_b", ab)):
        got = desk.world.as_(caller).get(f"/v1/review/drafts/{draft_id}")
        assert got.status_code == 404, (caller, draft_id)
        assert without_request_id(got.json()) == without_request_id(unknown), (caller, draft_id)
        for action in ("claim", "approve"):
            assert desk.do(caller, action, draft_id).status_code == 404, (caller, action)
    assert desk.row(b).state == desk.row(ab).state == desk.row(a).state == "pending"
    # the positive controls: each reviewer reaches the drafts of their own collections
    assert desk.world.as_("reviewer").get(f"/v1/review/drafts/{a}").status_code == 200
    assert desk.ok("reviewer_b", "claim", b)["assignee"] == "reviewer_b"
    assert desk.ok("reviewer_ab", "claim", ab)["assignee"] == "reviewer_ab"


def test_the_review_routes_need_the_reviewer_role(desk: Desk) -> None:
    draft_id = desk.draft()
    paths = [("GET", "/v1/review/drafts", None), ("GET", "/v1/review/drafts/{id}", None),
             *ACTIONS.values(),
             ("POST", "/v1/review/drafts/{id}/eval-candidate", None),
             ("GET", "/v1/review/eval-candidates", None), ("GET", "/v1/review/stats", None)]
    for method, path, body in paths:
        if path.startswith("/v1/drafts"):
            continue  # resubmit is the author's
        r = desk.world.as_("agent_a").request(method, path.format(id=draft_id), json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "missing_role"), path
    assert desk.row(draft_id).state == "pending"
    assert desk.listed("reviewer") == [draft_id]


def test_an_agent_sees_only_their_own_drafts_and_reviewers_see_all(desk: Desk) -> None:
    draft_id = desk.draft("agent_a")
    for intruder in ("agent_a2", "agent_b"):
        client = desk.world.as_(intruder)
        assert client.get(f"/v1/drafts/{draft_id}").status_code == 404
        assert draft_id not in [d["draft_id"] for d in client.get("/v1/drafts").json()["drafts"]]
    mine = desk.world.as_("agent_a").get(f"/v1/drafts/{draft_id}")
    assert (mine.status_code, mine.json()["draft_id"]) == (200, draft_id)
    assert desk.world.as_("reviewer").get(f"/v1/review/drafts/{draft_id}").status_code == 200


def test_a_revoked_grant_takes_the_draft_out_of_the_queue_at_once(desk: Desk) -> None:
    draft_id = desk.draft("agent_a")
    assert desk.listed("reviewer") == [draft_id]
    r = desk.world.as_("admin").put("/v1/admin/collections/kb-a/grants", json={"teams": []})
    assert r.status_code == 200, r.text
    assert desk.listed("reviewer") == []
    assert desk.world.as_("reviewer").get(f"/v1/review/drafts/{draft_id}").status_code == 404
    assert desk.do("reviewer", "claim", draft_id).status_code == 404
    assert desk.listed("admin") == [draft_id]
    desk.world.as_("admin").put("/v1/admin/collections/kb-a/grants", json={"teams": ["team-a"]})
    assert desk.listed("reviewer") == [draft_id]


# -- the queue listing -------------------------------------------------------------------------


@pytest.fixture
def queue(desk: Desk) -> dict[str, str]:
    """Five drafts with set ages (minutes since (re)submission), seen by reviewer_ab."""
    drafts = {"done": desk.at("approved"), "p_old": desk.draft("agent_a"),
              "held": desk.draft("agent_b", ("kb-b",)),
              "p_mid": desk.draft("agent_ab", ("kb-b",)),
              "p_new": desk.draft("agent_ab", ("kb-a", "kb-b"))}
    desk.ok("reviewer_ab", "claim", drafts["held"])
    now = utcnow()
    for name, minutes in (("done", 70), ("p_old", 50), ("held", 40), ("p_mid", 20),
                          ("p_new", 5)):
        desk.set(drafts[name], submitted_at=now - timedelta(minutes=minutes))
    return drafts


# query parameters -> the drafts listed, by their names in the ``queue`` fixture
LISTINGS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ["done", "p_old", "held", "p_mid", "p_new"]),
    ({"sort": "newest"}, ["p_new", "p_mid", "held", "p_old", "done"]),
    ({"state": "pending"}, ["p_old", "p_mid", "p_new"]),
    ({"state": "approved"}, ["done"]),
    ({"collection": "kb-a"}, ["done", "p_old", "p_new"]),
    ({"team": "team-a"}, ["done", "p_old", "p_mid", "p_new"]),
    ({"team": "team-b"}, ["held", "p_mid", "p_new"]),
    ({"min_age_minutes": 30}, ["done", "p_old", "held"]),
    ({"min_age_minutes": 45, "sort": "newest"}, ["p_old", "done"]),
    ({"assignee": "reviewer_ab"}, ["held"]),
    ({"assignee": "reviewer2"}, []),
    ({"state": "pending", "collection": "kb-b"}, ["p_mid", "p_new"]),
    ({"collection": "kb-zz"}, []),
]


def test_the_queue_filters_and_sorts(desk: Desk, queue: dict[str, str]) -> None:
    names = {v: k for k, v in queue.items()}
    wrong = {}
    for params, expected in LISTINGS:
        got = [names[i] for i in desk.listed("reviewer_ab", **params)]
        if got != expected:
            wrong[str(params)] = (got, expected)
    assert not wrong, wrong


def test_the_queue_counts_states_and_reports_its_oldest_pending_age(
        desk: Desk, queue: dict[str, str]) -> None:
    body = desk.world.as_("reviewer_ab").get("/v1/review/drafts", params={"limit": 2}).json()
    assert [d["draft_id"] for d in body["drafts"]] == [queue["done"], queue["p_old"]]
    assert body["total"] == 5
    assert body["counts"] == {"pending": 3, "in_review": 1, "approved": 1}
    assert body["oldest_pending_age_s"] == pytest.approx(50 * 60, abs=30)
    assert body["drafts"][1]["age_s"] == pytest.approx(50 * 60, abs=30)
    assert body["drafts"][1]["teams"] == ["team-a"] and body["drafts"][1]["author"] == "agent_a"
    # reviewer (team-a only) counts only what it may see: one pending kb-a draft, one approved
    mine = desk.world.as_("reviewer").get("/v1/review/drafts").json()
    assert mine["counts"] == {"pending": 1, "approved": 1}
    assert mine["oldest_pending_age_s"] == pytest.approx(50 * 60, abs=30)
    # no pending draft, no SLA figure
    desk.ok("reviewer", "claim", queue["p_old"])
    assert desk.world.as_("reviewer").get("/v1/review/drafts").json()[
        "oldest_pending_age_s"] is None


def test_the_queue_counts_do_not_depend_on_the_state_filter(desk: Desk,
                                                            queue: dict[str, str]) -> None:
    client = desk.world.as_("reviewer_ab")
    everything = client.get("/v1/review/drafts").json()
    by_collection = client.get("/v1/review/drafts", params={"collection": "kb-a"}).json()
    by_state = client.get("/v1/review/drafts", params={"state": "in_review"}).json()
    assert by_collection["counts"] == everything["counts"]  # holds today
    assert by_state["counts"] == everything["counts"]
    assert by_state["oldest_pending_age_s"] == pytest.approx(50 * 60, abs=30)


# -- edit distance and the trail -----------------------------------------------------------


def test_approval_stores_the_normalised_edit_distance(desk: Desk) -> None:
    edited = "Your device certificate has expired; reconnect on the office network."
    rewritten = "Dear Ms Jansen, please reconnect on the office network to renew it."
    untouched, patched, at_approval = (desk.at("in_review") for _ in range(3))
    generated = desk.row(untouched).generated_text
    # the shown answer: the documented sentence and the line after it (evidence first)
    assert generated == ("VPN error NWL-VPN-809 means the device certificate expired. "
                         "Reconnect on the office network to renew it.")

    assert desk.ok("reviewer", "approve", untouched, {"scores": SCORES})["edit_distance"] == 0.0
    desk.ok("reviewer", "edit", patched, {"text": edited})
    done = desk.ok("reviewer", "approve", patched, {"scores": SCORES})
    final = desk.ok("reviewer", "approve", at_approval, {"scores": SCORES, "text": rewritten})

    for view, text in ((done, edited), (final, rewritten)):
        expected = round(Levenshtein.normalized_distance(generated, text), 4)
        assert 0 < expected < 1
        assert view["edit_distance"] == pytest.approx(expected, abs=1e-9)
        assert (view["final_text"], view["approved_text"], view["generated_text"]) == (
            text, text, generated)
    audit = {e["target"]: e["details"] for e in desk.services.audit.entries()
             if e["action"] == "draft_approve"}
    assert audit[untouched]["edit_distance"] == 0.0
    assert audit[at_approval]["edit_distance"] == final["edit_distance"]


def test_every_transition_writes_an_event_and_an_audit_entry(desk: Desk) -> None:
    draft_id = desk.draft()
    steps = [("reviewer", "claim"), ("reviewer", "release"), ("reviewer2", "claim"),
             ("reviewer2", "request_changes"), ("agent_a", "resubmit"), ("reviewer", "claim"),
             ("reviewer", "edit"), ("reviewer", "reject")]
    for caller, action in steps:
        desk.ok(caller, action, draft_id)
    view = desk.world.as_("reviewer").get(f"/v1/review/drafts/{draft_id}").json()
    assert [(e["actor"], e["action"], e["from"], e["to"]) for e in view["events"]] == [
        ("agent_a", "create", "", "pending"),
        ("reviewer", "claim", "pending", "in_review"),
        ("reviewer", "release", "in_review", "pending"),
        ("reviewer2", "claim", "pending", "in_review"),
        ("reviewer2", "request_changes", "in_review", "changes_requested"),
        ("agent_a", "resubmit", "changes_requested", "pending"),
        ("reviewer", "claim", "pending", "in_review"),
        ("reviewer", "edit", "in_review", "in_review"),
        ("reviewer", "reject", "in_review", "rejected"),
    ]
    assert view["events"][4]["note"] == CHANGES
    trail = [(e["actor"], e["action"], e["details"].get("to_state"))
             for e in desk.services.audit.entries() if e["target"] == draft_id]
    assert trail == [
        ("agent_a", "draft_created", None),
        ("reviewer", "draft_claim", "in_review"), ("reviewer", "draft_release", "pending"),
        ("reviewer2", "draft_claim", "in_review"),
        ("reviewer2", "draft_request_changes", "changes_requested"),
        ("agent_a", "draft_resubmitted", None), ("reviewer", "draft_claim", "in_review"),
        ("reviewer", "draft_edit", "in_review"), ("reviewer", "draft_reject", "rejected"),
    ]
    assert desk.services.audit.verify().ok


# -- ratings -----------------------------------------------------------------------------------


def test_a_decision_needs_a_full_rating_and_a_rejection_a_reason(desk: Desk) -> None:
    draft_id = desk.at("in_review")
    three = {k: v for k, v in SCORES.items() if k != "citations"}
    refused: list[tuple[str, dict[str, Any]]] = [("approve", {}), ("approve", {"scores": three}),
               ("approve", {"scores": SCORES | {"accuracy": 0}}),
               ("approve", {"scores": SCORES | {"tone": 6}}),
               ("approve", {"scores": SCORES | {"tone": "good"}}),
               ("reject", {"scores": SCORES}), ("reject", {"scores": SCORES, "reason": "rude"}),
               ("reject", {"scores": three, "reason": "tone"}),
               ("request_changes", {"comment": ""}), ("edit", {"text": "   "})]
    for action, body in refused:
        r = desk.do("reviewer", action, draft_id, body)
        assert r.status_code == 422, (action, body, r.text)
    assert desk.row(draft_id).state == "in_review"
    assert desk.count(DraftEvent, draft_id) == 2  # create, claim
    # the service checks the rating too, whoever calls it
    who, readable = desk.principal("reviewer")
    review = desk.services.review
    checks: list[tuple[Callable[[], object], str]] = [
            (lambda: review.approve(draft_id, who, Rating(three), readable=readable),
             "invalid_scores"),
            (lambda: review.approve(draft_id, who, Rating(SCORES | {"tone": 6}),
                                    readable=readable), "invalid_scores"),
            (lambda: review.reject(draft_id, who, Rating(SCORES), readable=readable),
             "invalid_reason"),
            (lambda: review.reject(draft_id, who, Rating(SCORES, reason="rude"),
                                   readable=readable), "invalid_reason")]
    for call, code in checks:
        with pytest.raises(InvalidInput) as caught:
            call()
        assert caught.value.code == code
    decided = desk.ok("reviewer", "reject", draft_id,
                      {"scores": SCORES, "reason": "missing_info", "comment": "no steps"})
    assert (decided["scores"], decided["decision"]["reason"]) == (SCORES, "missing_info")


# -- evaluation candidates ---------------------------------------------------------------------


def test_reviewed_drafts_become_test_cases_in_the_question_set_format(desk: Desk) -> None:
    approved, refusable, wrong = desk.at("in_review"), desk.at("in_review"), desk.at("in_review")
    final = desk.ok("reviewer", "approve", approved,
                    {"scores": SCORES, "text": "Your device certificate expired."})
    cited = sorted({c["document"] for c in final["citations"]})
    assert cited == ["vpn.md"]
    desk.ok("reviewer", "reject", refusable,
            {"scores": SCORES, "reason": "should_not_answer", "comment": "HR question"})
    desk.ok("reviewer", "reject", wrong,
            {"scores": SCORES, "reason": "wrong_facts", "comment": "it is the printer"})

    def candidate(draft_id: str, body: dict[str, Any] | None = None) -> Response:
        return desk.world.as_("reviewer").post(f"/v1/review/drafts/{draft_id}/eval-candidate",
                                               json=body)

    r = candidate(approved)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["reference_answer"] == "Your device certificate expired."
    assert case["expected_documents"] == cited and case["must_refuse"] is False
    assert case["collections"] == ["kb-a"] and case["question"] == QUESTIONS["kb-a"]
    assert {"from-review", "approved"} <= set(case["tags"]) and "must_not" not in case
    assert candidate(approved).json()["error"]["code"] == "candidate_exists"
    assert candidate(approved).status_code == 409

    refuse = candidate(refusable).json()
    assert (refuse["must_refuse"], refuse["expected_documents"]) == (True, [])
    assert {"from-review", "rejected", "should_not_answer"} <= set(refuse["tags"])
    assert "reference_answer" not in refuse

    r = candidate(wrong)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "expected_documents_needed")
    assert candidate(wrong, {"expected_documents": []}).status_code == 422
    r = candidate(wrong, {"expected_documents": ["printers.md"]})
    assert r.status_code == 201, r.text
    assert r.json()["must_not"] == ["wrong_facts: it is the printer"]
    assert (r.json()["expected_documents"], r.json()["must_refuse"]) == (["printers.md"], False)

    for state in ("pending", "in_review", "changes_requested"):
        r = candidate(desk.at(state))
        assert (r.status_code, r.json()["error"]["code"]) == (409, "not_reviewed"), state

    for caller in ("reviewer", "evaluator", "admin"):
        r = desk.world.as_(caller).get("/v1/review/eval-candidates")
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "application/x-ndjson")
        lines = r.text.splitlines()
        cases = parse_lines(lines, source=caller)
        assert len(lines) == len(cases) == 3
        assert {c.id for c in cases} == {f"review-{d[:12]}" for d in (approved, refusable, wrong)}
    # a reviewer who can't read kb-a gets none of its cases
    assert desk.world.as_("reviewer_b").get("/v1/review/eval-candidates").text == ""
    assert desk.world.as_("agent_a").get("/v1/review/eval-candidates").status_code == 403
