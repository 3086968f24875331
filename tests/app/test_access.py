"""The access matrix: every route × every kind of caller, on SQLite and PostgreSQL.

Each row lists the expected status per caller; every route has at least one caller that gets
through (the positive control), so a route that refused everyone would fail too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.settings import RetrievalSettings, Settings
from tests.conftest import create_pg_database, drop_pg_database
from tests.fakes import FakeLLM
from tests.world import CALLERS, World, build_world

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

# (name, method, path, body, expected); {answer_agent_a} and {job} are filled in per world
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
    ("reindex", "POST", "/v1/admin/collections/kb-a/reindex", None,
     ADMIN_ONLY | {"admin": ACCEPTED}),
    ("job", "GET", "/v1/admin/jobs/{job}", None, ADMIN_ONLY),
    ("grants", "GET", "/v1/admin/collections/kb-a/grants", None, ADMIN_ONLY),
    ("set grants", "PUT", "/v1/admin/collections/kb-a/grants", {"teams": ["team-a"]},
     ADMIN_ONLY),
    ("users", "GET", "/v1/admin/users", None, ADMIN_ONLY),
    ("create team", "POST", "/v1/admin/teams", {"name": "team-{caller}"},
     ADMIN_ONLY | {"admin": CREATED}),
    ("user tokens", "GET", "/v1/admin/users/agent_a/tokens", None, ADMIN_ONLY),
    ("audit", "GET", "/v1/admin/audit", None, ADMIN_ONLY),
    ("audit verify", "GET", "/v1/admin/audit/verify", None, ADMIN_ONLY),
]


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp(f"world-{request.param}")
    url, name = create_pg_database() if request.param == "postgres" else ("", "")
    settings = Settings(data_dir=root / "data", database_url=url,
                        retrieval=RetrievalSettings(min_dense_score=0.2))
    try:
        with build_world(settings, root, FakeLLM(["The vault is in the basement [1]."])) as w:
            job = w.services.jobs.start_reindex("kb-b", actor="admin")
            w.ids["job"] = job["id"]
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
    assert any(s < 300 for s in expected.values()), "no positive control"
    wrong = {}
    for caller in CALLERS:
        url = path.format(**world.ids)
        payload = None if body is None else {
            k: v.format(caller=caller) if isinstance(v, str) else v for k, v in body.items()}
        r = world.as_(caller).request(method, url, json=payload)
        if r.status_code != expected[caller]:
            wrong[caller] = (r.status_code, expected[caller], r.text[:200])
        if r.status_code >= 400:
            assert set(r.json()["error"]) == {"code", "message"}
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
