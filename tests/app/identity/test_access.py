"""The access matrix: every route × every kind of caller, on SQLite and PostgreSQL.

Each row lists the expected status per caller; every route has at least one caller that gets
through (the positive control), so a route that refused everyone would fail too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.core.principal import Principal
from app.core.settings import PulseSettings, RetrievalSettings, Settings
from app.feedback.records import GivenFeedback
from models.fakes import FakeLLM
from tests.access import served_routes
from tests.conftest import create_pg_database, drop_pg_database
from tests.world import CALLERS, World, build_world

# these tests make and promote their own answer@2 (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_version_library")

OK, CREATED, ACCEPTED = 200, 201, 202
UNAUTH = {"anonymous": 401, "revoked": 401, "expired": 401}
EVERYONE_OK = UNAUTH | {c: OK for c in CALLERS if c not in UNAUTH}
ADMIN_ONLY = UNAUTH | {c: 403 for c in CALLERS if c not in UNAUTH} | {"admin": OK}
READ_A = UNAUTH | {"agent_a": OK, "agent_b": 404, "agent_ab": OK, "reviewer": 403,
                   "evaluator": 403, "admin": OK}
READ_B = UNAUTH | {"agent_a": 404, "agent_b": OK, "agent_ab": OK, "reviewer": 403,
                   "evaluator": 403, "admin": OK}
OWNER_A = UNAUTH | {"agent_a": OK, "agent_b": 404, "agent_ab": 404, "reviewer": 404,
                    "evaluator": 404, "admin": OK}
AGENTS = UNAUTH | {"agent_a": OK, "agent_b": OK, "agent_ab": OK, "reviewer": 403,
                   "evaluator": 403, "admin": OK}
REVIEWERS = UNAUTH | {c: 403 for c in CALLERS if c not in UNAUTH} | {"reviewer": OK,
                                                                      "admin": OK}
REVIEW_READERS = REVIEWERS | {"evaluator": OK}
EVALUATORS = REVIEWERS | {"reviewer": 403, "evaluator": OK}
DRAFT_OWNER_A = OWNER_A | {"reviewer": 403, "evaluator": 403}
# a knowledge issue on kb-a owned by team-a: its members who read kb-a, and admins
ISSUE_A = UNAUTH | {"agent_a": OK, "agent_b": 404, "agent_ab": OK, "reviewer": OK,
                    "evaluator": OK, "admin": OK}
# a conversation is its owner's alone: not even an admin reads another's thread
CONVERSATION_OF_A = DRAFT_OWNER_A | {"admin": 404}

SET_LINE = ('{"id": "q", "question": "vault", "collections": ["kb-a"], "expected_documents": '
            '["vault-basics.md"], "key_facts": [], "must_refuse": false, "tags": []}')

# (name, method, path, body, expected); {answer_agent_a}, {job}, ... are filled in per world.
# Rows run in order: the admin claims B's draft, edits and approves it, then every later
# transition on it is a 409 (through authorisation, refused by the state machine).
ROUTES: list[tuple[str, str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("healthz", "GET", "/healthz", None, dict.fromkeys(CALLERS, OK)),
    ("readyz", "GET", "/readyz", None, dict.fromkeys(CALLERS, OK)),
    ("me", "GET", "/v1/me", None, EVERYONE_OK),
    ("my tokens", "GET", "/v1/me/tokens", None, EVERYONE_OK),
    ("collections", "GET", "/v1/collections", None, EVERYONE_OK),
    ("search a", "GET", "/v1/search?q=vault&collection=kb-a", None, READ_A),
    ("search b", "GET", "/v1/search?q=vault&collection=kb-b", None, READ_B),
    ("chat a", "POST", "/v1/chat", {"question": "vault register", "collections": ["kb-a"]},
     READ_A),
    ("chat b stream", "POST", "/v1/chat",
     {"question": "vault door code", "collections": ["kb-b"], "stream": True}, READ_B),
    ("openai b", "POST", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": "vault door code"}], "collections": ["kb-b"]},
     READ_B),
    ("answer of a", "GET", "/v1/answers/{answer_agent_a}", None, OWNER_A),
    # feedback is anyone's who may see the answer: agent_a's own, or the admin's
    ("feedback on answer of a", "PUT", "/v1/answers/{answer_agent_a}/feedback",
     {"vote": "down", "reasons": ["incomplete"]}, OWNER_A),
    ("my feedback on answer of a", "GET", "/v1/answers/{answer_agent_a}/feedback", None,
     OWNER_A),
    ("withdraw feedback on answer of a", "DELETE", "/v1/answers/{answer_agent_a}/feedback",
     None, OWNER_A | {"agent_a": 204, "admin": 204}),
    # everyone signed in lists their own hand-offs (none of anyone else's)
    ("my hand-offs", "GET", "/v1/handoffs", None, EVERYONE_OK),
    ("start conversation", "POST", "/v1/conversations", {"title": "vault"},
     AGENTS | {"agent_a": CREATED, "agent_b": CREATED, "agent_ab": CREATED, "admin": CREATED}),
    ("my conversations", "GET", "/v1/conversations", None, AGENTS),
    ("conversation of a", "GET", "/v1/conversations/{conversation_a}", None, CONVERSATION_OF_A),
    ("chat into a's conversation", "POST", "/v1/chat",
     {"question": "vault register", "collections": ["kb-a"],
      "conversation_id": "{conversation_a}"}, CONVERSATION_OF_A),
    ("draft a", "POST", "/v1/drafts", {"question": "vault register", "collections": ["kb-a"]},
     READ_A | {"agent_a": CREATED, "agent_ab": CREATED, "admin": CREATED}),
    ("draft from answer of a", "POST", "/v1/answers/{answer_agent_a}/draft", {},
     OWNER_A | {"agent_a": CREATED, "admin": CREATED, "reviewer": 403, "evaluator": 403}),
    ("my drafts", "GET", "/v1/drafts", None, AGENTS),
    ("draft of a", "GET", "/v1/drafts/{draft_agent_a}", None, DRAFT_OWNER_A),
    ("resubmit draft of a", "POST", "/v1/drafts/{draft_agent_a}/resubmit", {},
     DRAFT_OWNER_A | {"agent_a": 409, "admin": 404}),
    ("queue", "GET", "/v1/review/drafts", None, REVIEWERS),
    ("review draft of a", "GET", "/v1/review/drafts/{draft_agent_a}", None, REVIEWERS),
    ("review draft of b", "GET", "/v1/review/drafts/{draft_agent_b}", None,
     REVIEWERS | {"reviewer": 404}),
    ("claim draft of b", "POST", "/v1/review/drafts/{draft_agent_b}/claim", None,
     REVIEWERS | {"reviewer": 404}),
    ("edit draft of b", "PATCH", "/v1/review/drafts/{draft_agent_b}", {"text": "x"},
     REVIEWERS | {"reviewer": 404}),
    ("approve draft of b", "POST", "/v1/review/drafts/{draft_agent_b}/approve",
     {"scores": {"accuracy": 5, "completeness": 5, "tone": 5, "citations": 5}},
     REVIEWERS | {"reviewer": 404}),
    ("reject draft of b", "POST", "/v1/review/drafts/{draft_agent_b}/reject",
     {"scores": {"accuracy": 1, "completeness": 1, "tone": 1, "citations": 1},
      "reason": "tone"}, REVIEWERS | {"reviewer": 404, "admin": 409}),
    ("request changes on b", "POST", "/v1/review/drafts/{draft_agent_b}/request-changes",
     {"comment": "more"}, REVIEWERS | {"reviewer": 404, "admin": 409}),
    ("candidate from b", "POST", "/v1/review/drafts/{draft_agent_b}/eval-candidate", None,
     REVIEWERS | {"reviewer": 404, "admin": CREATED}),
    ("release draft of b", "POST", "/v1/review/drafts/{draft_agent_b}/release", None,
     REVIEWERS | {"reviewer": 404, "admin": 409}),
    ("eval candidates", "GET", "/v1/review/eval-candidates", None, REVIEW_READERS),
    ("review stats", "GET", "/v1/review/stats", None, REVIEW_READERS),
    ("reindex", "POST", "/v1/admin/collections/kb-a/reindex", None,
     ADMIN_ONLY | {"admin": ACCEPTED}),
    ("job", "GET", "/v1/admin/jobs/{job}", None, ADMIN_ONLY),
    ("jobs", "GET", "/v1/admin/collections/kb-a/jobs", None, ADMIN_ONLY),
    ("grants", "GET", "/v1/admin/collections/kb-a/grants", None, ADMIN_ONLY),
    ("set grants", "PUT", "/v1/admin/collections/kb-a/grants", {"teams": ["team-a"]},
     ADMIN_ONLY),
    ("eval sets", "GET", "/v1/eval/sets", None, EVALUATORS),
    ("upload eval set", "POST", "/v1/eval/sets", {"name": "s-{caller}", "jsonl": SET_LINE},
     EVALUATORS | {"evaluator": CREATED, "admin": CREATED}),
    ("eval run on a", "POST", "/v1/eval/runs", {"set": "set-a", "retrieval_only": True},
     EVALUATORS | {"evaluator": ACCEPTED, "admin": ACCEPTED}),
    ("eval run on b", "POST", "/v1/eval/runs", {"set": "set-b", "retrieval_only": True},
     EVALUATORS | {"evaluator": 404, "admin": ACCEPTED}),
    ("eval runs", "GET", "/v1/eval/runs", None, EVALUATORS),
    ("eval run of a", "GET", "/v1/eval/runs/{run_a}", None, EVALUATORS),
    ("eval run of b", "GET", "/v1/eval/runs/{run_b}", None, EVALUATORS | {"evaluator": 404}),
    ("report of b", "GET", "/v1/eval/runs/{run_b}/report", None,
     EVALUATORS | {"evaluator": 404}),
    ("compare a with a", "GET", "/v1/eval/compare?a={run_a}&b={run_a}", None, EVALUATORS),
    ("compare a with b", "GET", "/v1/eval/compare?a={run_a}&b={run_b}", None,
     EVALUATORS | {"evaluator": 404}),
    ("prompts", "GET", "/v1/prompts", None, EVERYONE_OK),
    ("prompt", "GET", "/v1/prompts/answer", None, EVERYONE_OK),
    ("new prompt version", "POST", "/v1/prompts/answer/versions", {
        "system": "Answer from the documents [n].", "user": "{context}\n\nQ: {question}",
        "change_note": "test by {caller}"}, EVALUATORS | {"evaluator": CREATED,
                                                          "admin": CREATED}),
    ("pilot a prompt version", "POST", "/v1/prompts/answer@2/zone", {"zone": "pilot"},
     EVALUATORS),
    ("promote without a gate run", "POST", "/v1/prompts/answer@2/promote",
     {"run_id": "{run_a}"}, ADMIN_ONLY | {"admin": 409}),
    ("rollback with nothing to roll back", "POST", "/v1/prompts/answer/rollback", None,
     ADMIN_ONLY | {"admin": 409}),
    ("users", "GET", "/v1/admin/users", None, ADMIN_ONLY),
    ("user", "GET", "/v1/admin/users/agent_a", None, ADMIN_ONLY),
    ("create user", "POST", "/v1/admin/users",
     {"username": "new-{caller}", "roles": ["agent"]}, ADMIN_ONLY | {"admin": CREATED}),
    ("change user", "PATCH", "/v1/admin/users/agent_b", {"display_name": "B"}, ADMIN_ONLY),
    ("teams", "GET", "/v1/admin/teams", None, ADMIN_ONLY),
    ("create token for", "POST", "/v1/admin/users/agent_b/tokens", {},
     ADMIN_ONLY | {"admin": CREATED}),
    ("revoke any token", "DELETE", "/v1/admin/tokens/{spare_agent_b}", None, ADMIN_ONLY),
    ("create my token", "POST", "/v1/me/tokens", {}, UNAUTH | {
        c: CREATED for c in CALLERS if c not in UNAUTH}),
    ("revoke my spare token", "DELETE", "/v1/me/tokens/{my_spare}", None, EVERYONE_OK),
    ("revoke someone else's token", "DELETE", "/v1/me/tokens/{spare_agent_b}", None,
     UNAUTH | {c: 404 for c in CALLERS if c not in UNAUTH} | {"agent_b": OK}),
    ("logout", "POST", "/v1/auth/logout", None, UNAUTH | {
        c: 204 for c in CALLERS if c not in UNAUTH}),
    ("login", "POST", "/v1/auth/login", {"username": "agent_a", "password": "wrong-password"},
     dict.fromkeys(CALLERS, 401)),
    ("create team", "POST", "/v1/admin/teams", {"name": "team-{caller}"},
     ADMIN_ONLY | {"admin": CREATED}),
    ("user tokens", "GET", "/v1/admin/users/agent_a/tokens", None, ADMIN_ONLY),
    ("audit", "GET", "/v1/admin/audit", None, ADMIN_ONLY),
    ("audit verify", "GET", "/v1/admin/audit/verify", None, ADMIN_ONLY),
    # the adoption figures: the manager role's (no such caller here) and the admin's
    ("analytics overview", "GET", "/v1/analytics/overview", None, ADMIN_ONLY),
    ("analytics breakdown", "GET", "/v1/analytics/breakdown?by=team", None, ADMIN_ONLY),
    ("analytics weekly", "GET", "/v1/analytics/weekly", None, ADMIN_ONLY),
    ("analytics weekly csv", "GET", "/v1/analytics/weekly.csv", None, ADMIN_ONLY),
    ("choose analytics baseline", "PUT", "/v1/analytics/baseline",
     {"start": "2026-01-05", "end": "2026-01-11"}, ADMIN_ONLY),
    ("analytics baseline", "GET", "/v1/analytics/baseline", None, ADMIN_ONLY),
    # knowledge issues: issue_a (a thumbs-down on A's answer) is team-a's, which owns kb-a;
    # agent_b owns it too once added, but reads no kb-a: still the 404 of no issue
    ("knowledge owners", "GET", "/v1/admin/collections/kb-a/owners", None, ADMIN_ONLY),
    ("add knowledge owner", "POST", "/v1/admin/collections/kb-a/owners", {"user": "agent_b"},
     ADMIN_ONLY | {"admin": CREATED}),
    ("knowledge issues", "GET", "/v1/knowledge/issues", None, EVERYONE_OK),
    ("knowledge issue of a", "GET", "/v1/knowledge/issues/{issue_a}", None, ISSUE_A),
    ("resolve knowledge issue of a", "POST", "/v1/knowledge/issues/{issue_a}/resolve",
     {"resolution": "works_as_intended", "reason": "it is right"},
     ISSUE_A | {"agent_ab": 409, "reviewer": 409, "evaluator": 409, "admin": 409}),
    ("my knowledge reports", "GET", "/v1/knowledge/reports", None, EVERYONE_OK),
    ("my notifications", "GET", "/v1/notifications", None, EVERYONE_OK),
    ("read b's notification", "POST", "/v1/notifications/{notification_b}/read", None,
     UNAUTH | {c: 404 for c in CALLERS if c not in UNAUTH} | {"agent_b": OK}),
    # the knowledge gaps: team-a owns kb-a (its members who read it, and admins); agent_b
    # owns nothing
    ("knowledge gaps", "GET", "/v1/knowledge/gaps", None, ISSUE_A | {"agent_b": 403}),
    # the pulse is off in this world (see ``world``): due for nobody
    ("pulse due", "GET", "/v1/pulse", None, EVERYONE_OK),
    ("answer the pulse", "POST", "/v1/pulse", {"score": 8},
     UNAUTH | {c: 409 for c in CALLERS if c not in UNAUTH}),
    ("dismiss the pulse", "POST", "/v1/pulse/dismiss", None,
     UNAUTH | {c: 409 for c in CALLERS if c not in UNAUTH}),
    ("export a person's records", "GET", "/v1/admin/privacy/export?user=agent_a", None,
     ADMIN_ONLY),
    ("remove knowledge owner", "DELETE", "/v1/admin/collections/kb-a/owners/{owner_a}", None,
     ADMIN_ONLY | {"admin": 204}),
    # last: once its owner deleted it, it is gone for everyone
    ("delete conversation of a", "DELETE", "/v1/conversations/{conversation_a}", None,
     CONVERSATION_OF_A | {"agent_a": 204}),
]


def knowledge_issues(w: World) -> dict[str, str]:
    """Team-a owns kb-a, A's thumbs-down is an open issue there; B's on kb-b is resolved by an
    admin, so agent_b has a notification. On answers of their own, not the ones whose feedback
    the matrix gives and withdraws (a withdrawn thumbs-down takes its report back)."""
    services, admin, ids = w.services, Principal.operator(), {}
    ids["owner_a"] = str(services.owners.add("kb-a", admin, team="team-a").owner_id)
    for who, coll in (("agent_a", "kb-a"), ("agent_b", "kb-b")):
        r = w.as_(who).post("/v1/chat", json={"question": "vault door code",
                                              "collections": [coll]})
        assert r.status_code == 200, r.text
        services.feedback.give(r.json()["answer_id"], services.identity.as_user(who),
                               GivenFeedback(vote="down"), readable={coll})
        [issue] = [i for i in services.issues.listing(admin, readable={"kb-a", "kb-b"})
                   if i.collection == coll]
        ids[f"issue_{who[-1]}"] = issue.issue_id
    services.issues.resolve(ids["issue_b"], admin, "works_as_intended", "it is right",
                            readable={"kb-a", "kb-b"})
    [note] = services.notifications.mine(services.identity.as_user("agent_b"),
                                         readable={"kb-b"}).notifications
    ids["notification_b"] = note.notification_id
    return ids


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp(f"world-{request.param}")
    url, name = create_pg_database() if request.param == "postgres" else ("", "")
    # the pulse off: whether it is due would hang on how many questions the rows before asked
    settings = Settings(data_dir=root / "data", database_url=url,
                        retrieval=RetrievalSettings(min_dense_score=0.2),
                        pulse=PulseSettings(enabled=False))
    try:
        with build_world(settings, root, FakeLLM(["The vault is in the basement [1]."])) as w:
            job = w.services.jobs.start_reindex("kb-b", actor="admin")
            w.ids["job"] = job.id
            w.ids["conversation_a"] = w.services.conversations.start(
                w.services.identity.as_user("agent_a"), "vault").conversation_id
            w.ids |= knowledge_issues(w)
            yield w
    finally:
        if name:
            drop_pg_database(name)


@pytest.mark.parametrize(("name", "method", "path", "body", "expected"), ROUTES,
                         ids=[r[0] for r in ROUTES])
def test_route_obeys_the_access_matrix(world: World, name: str, method: str, path: str,
                                       body: dict[str, Any] | None,
                                       expected: dict[str, int]) -> None:
    assert set(expected) == set(CALLERS), "every caller needs an expected outcome"
    # the positive control: someone gets through (409: through, to a state the route refuses)
    assert any(s < 300 or s == 409 for s in expected.values()) or name == "login", \
        "no positive control"
    wrong = {}
    for caller in CALLERS:
        url = path.format(**world.ids, my_spare=world.ids.get(f"spare_{caller}", "none"))
        payload = None if body is None else {
            k: v.replace("{caller}", caller).replace("{run_a}", world.ids["run_a"])
            .replace("{conversation_a}", world.ids["conversation_a"])
            if isinstance(v, str) else v for k, v in body.items()}
        r = world.as_(caller).request(method, url, json=payload)
        if r.status_code != expected[caller]:
            wrong[caller] = (r.status_code, expected[caller], r.text[:200])
        if r.status_code >= 400:
            assert set(r.json()["error"]) == {"code", "message", "request_id"}
        if r.status_code == 401:
            assert r.headers["WWW-Authenticate"] == "Bearer"
    assert not wrong, wrong


def test_unreadable_collection_looks_exactly_like_a_missing_one(world: World) -> None:
    client = world.as_("agent_a")
    hidden = client.get("/v1/search", params={"q": "vault", "collection": "kb-b"}).json()
    missing = client.get("/v1/search", params={"q": "vault", "collection": "kb-zz"}).json()
    assert hidden["error"]["code"] == missing["error"]["code"] == "collection_not_found"
    assert hidden["error"]["message"].replace("kb-b", "X") == \
        missing["error"]["message"].replace("kb-zz", "X")
    assert [c["name"] for c in client.get("/v1/collections").json()["collections"]] == ["kb-a"]
    assert client.get("/v1/me").json()["collections"] == ["kb-a"]
    both = world.as_("agent_ab").get("/v1/me").json()
    assert both["collections"] == ["kb-a", "kb-b"]


def test_only_admins_see_who_may_read_a_collection(world: World) -> None:
    agent = world.as_("agent_a").get("/v1/collections").json()["collections"]
    assert "access" not in agent[0]
    admin = world.as_("admin").get("/v1/collections").json()["collections"]
    assert {c["name"]: c["access"]["teams"] for c in admin} == {"kb-a": ["team-a"],
                                                                "kb-b": ["team-b"]}


def test_every_route_is_in_the_matrix(world: World) -> None:
    """A new route without a row here fails this test: access is never left untested."""
    covered = {(method, path.split("?")[0]) for _n, method, path, _b, _e in ROUTES}
    covered = {(m, p.replace("{answer_agent_a}", "{answer_id}").replace("{job}", "{job_id}")
                .replace("{draft_agent_a}", "{draft_id}").replace("{draft_agent_b}", "{draft_id}")
                .replace("kb-a", "{name}").replace("agent_a", "{username}")
                .replace("agent_b", "{username}").replace("{spare_{username}}", "{token_id}")
                .replace("{my_spare}", "{token_id}").replace("{run_a}", "{run_id}")
                .replace("{run_b}", "{run_id}")
                .replace("{conversation_a}", "{conversation_id}").replace("answer@2", "{ref}")
                .replace("{issue_a}", "{issue_id}").replace("{owner_a}", "{owner_id}")
                .replace("{notification_b}", "{notification_id}")
                .replace("/v1/prompts/answer/rollback", "/v1/prompts/{prompt_id}/rollback")
                .replace("/v1/prompts/answer/versions", "/v1/prompts/{prompt_id}/versions")
                .replace("/v1/prompts/answer", "/v1/prompts/{ref}"))
               for m, p in covered}
    assert served_routes(world.client) - covered == set()
