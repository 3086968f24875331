"""The leak property: a canary only team B may read never reaches team A, in any byte.

The model is ``EchoLLM``, which answers with its whole prompt, so a chunk that slipped into
the prompt would come straight back in the response. Team A's agent asks many questions
(generated from the canary document's own words, and the canary itself) through every route
that answers or searches, streamed and not; team B's agent asking the same gets the canary,
which proves the questions do find it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import AuthSettings, RetrievalSettings, Settings
from models.fakes import EchoLLM
from tests.world import CANARY, KB_B, World, build_world


@pytest.fixture
def echo() -> EchoLLM:
    return EchoLLM()


@pytest.fixture
def world(db_settings: Settings, tmp_path: Path, echo: EchoLLM) -> Iterator[World]:
    settings = db_settings.model_copy(update={
        "retrieval": RetrievalSettings(min_dense_score=0.0),  # never refuse: always prompt
        "auth": AuthSettings(chat_rate="100000/minute")})
    with build_world(settings, tmp_path, echo) as w:
        yield w


def questions(n: int, seed: int = 7) -> list[str]:
    """The canary's neighbours verbatim, its first half, and random bags of the canary
    document's words (never the canary itself: a question may of course see its own words)."""
    text = KB_B["vault.md"].replace(CANARY, " ")
    words = text.replace("#", " ").replace(".", " ").replace(",", " ").split()
    rng = random.Random(seed)
    fixed = ["What is the ZEBRA-CANARY code?", "vault door code", "basement vault door code "
             "kept by facilities", "Change the vault door code every quarter",
             "The basement vault door code is", "contract renewals discount CFO"]
    return fixed + [" ".join(rng.sample(words, rng.randint(2, 8))) for _ in range(n)]


def responses(client: TestClient, question: str, collections: list[str]) -> Iterator[bytes]:
    body = {"question": question, "collections": collections}
    yield client.post("/v1/chat", json=body).content
    yield client.post("/v1/chat", json=body | {"stream": True}).content
    chat = {"messages": [{"role": "user", "content": question}], "collections": collections}
    yield client.post("/v1/chat/completions", json=chat).content
    yield client.post("/v1/chat/completions", json=chat | {"stream": True}).content
    yield client.post("/v1/drafts", json=body | {"customer": {"name": "Ada"}}).content
    params: dict[str, str | list[str]] = {"q": question, "k": "50"}
    if collections:
        params["collection"] = collections
    yield client.get("/v1/search", params=params).content


def test_canary_never_reaches_team_a(world: World, echo: EchoLLM) -> None:
    a = world.as_("agent_a")
    asked, before = 0, len(echo.prompts)  # the world's set-up had B ask once
    for question in questions(25):
        for collections in ([], ["kb-a"], ["kb-b"], ["kb-a", "kb-b"]):
            for content in responses(a, question, collections):
                assert CANARY.encode() not in content, (question, collections)
                assert b"Acme" not in content, (question, collections)
                asked += 1
    assert asked == 31 * 4 * 6
    prompts = echo.prompts[before:]
    # chat and drafts ask the model (two of the five answering calls ask it twice per
    # question: streamed and not); the subject gate refuses a few random word bags first
    assert 31 * 2 * 4 <= len(prompts) <= 31 * 2 * 5, "team A's questions did reach the model"
    assert all(CANARY not in json.dumps(p) for p in prompts)
    # the answer B got, the collection list, the account page: nothing of B's either
    for path in (f"/v1/answers/{world.ids['answer_agent_b']}", "/v1/collections", "/v1/me",
                 "/v1/me/tokens", "/v1/drafts", f"/v1/drafts/{world.ids['draft_agent_b']}"):
        r = a.get(path)
        assert CANARY.encode() not in r.content and b"kb-b" not in r.content, path


def test_team_a_reviewer_never_sees_team_b_drafts(world: World) -> None:
    """B's draft holds the canary (the echoing model wrote it into the reply)."""
    b_draft = world.ids["draft_agent_b"]
    assert CANARY in world.as_("admin").get(f"/v1/review/drafts/{b_draft}").text
    reviewer = world.as_("reviewer")
    for path in ("/v1/review/drafts", "/v1/review/drafts?state=pending",
                 f"/v1/review/drafts/{b_draft}", "/v1/review/stats?group_by=collection",
                 "/v1/review/eval-candidates"):
        r = reviewer.get(path)
        assert CANARY.encode() not in r.content and b"kb-b" not in r.content, path
    assert reviewer.post(f"/v1/review/drafts/{b_draft}/claim").status_code == 404


def test_team_b_does_get_the_canary(world: World) -> None:
    """The positive control: the same questions find the canary for its rightful readers."""
    b = world.as_("agent_b")
    found = [any(CANARY.encode() in c for c in responses(b, q, ["kb-b"]))
             for q in questions(0)[:5]]
    assert all(found), found
    r = b.get(f"/v1/answers/{world.ids['answer_agent_b']}")
    assert r.status_code == 200 and CANARY in r.text


def test_a_revoked_grant_is_obeyed_by_the_next_request(world: World) -> None:
    ab = world.as_("agent_ab")
    assert CANARY in ab.get("/v1/search", params={"q": "vault door code"}).text
    world.as_("admin").put("/v1/admin/collections/kb-b/grants", json={"teams": []})
    ab = world.as_("agent_ab")
    r = ab.get("/v1/search", params={"q": "vault door code", "k": 50})
    assert r.status_code == 200 and CANARY not in r.text
    assert ab.get("/v1/search", params={"q": "vault", "collection": "kb-b"}).status_code == 404
    # and B's own earlier answer is gone for B too, since it drew on kb-b
    b = world.as_("agent_b")
    assert b.get(f"/v1/answers/{world.ids['answer_agent_b']}").status_code == 404
    world.as_("admin").put("/v1/admin/collections/kb-b/grants", json={"everyone": True})
    assert CANARY in world.as_("agent_a").get("/v1/search", params={"q": "vault door"}).text


def test_removing_a_team_member_is_obeyed_by_the_next_request(world: World) -> None:
    world.as_("admin").patch("/v1/admin/users/agent_ab", json={"teams": ["team-a"]})
    r = world.as_("agent_ab").get("/v1/search", params={"q": "vault door code", "k": 50})
    assert r.status_code == 200 and CANARY not in r.text
